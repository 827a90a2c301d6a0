#!/usr/bin/env bash
# End-to-end test of the Confab desktop app: builds the UI (web + desktop entry), the server,
# the `confab` CLI and the desktop app (debug), starts a real server on a free port, and drives
# the real app under Xvfb and a D-Bus session through WebKitWebDriver (tests/desktop/e2e.py).
# Prints `desktop: N passed, M failed` last and exits non-zero on any failure.
#
#   tests/desktop/run.sh                  # everything
#   SKIP_BUILD=1 tests/desktop/run.sh     # reuse the last build
#   MEASURE=1 tests/desktop/run.sh        # also measure startup time and idle memory
#   DESKTOP_BIN, CONFAB_SERVER_BIN, CONFAB_CLI_BIN override the binaries (absolute paths)
#
# Needs the apt packages of docs/desktop.md (xvfb, webkit2gtk-driver, dbus, imagemagick, …),
# Node.js and Python 3 (standard library only). Artifacts (screenshot, logs) go to
# $ARTIFACTS (default: target dir/desktop-e2e).
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
ARTIFACTS="${ARTIFACTS:-$CARGO_TARGET_DIR/desktop-e2e}"
export ARTIFACTS
TEST_TIMEOUT="${TEST_TIMEOUT:-300}"

fail() {
  echo "desktop: $*" >&2
  echo "desktop: 0 passed, 1 failed"
  exit 1
}

if [ "${1:-}" != "--inner" ]; then
  mkdir -p "$ARTIFACTS"
  for tool in xvfb-run dbus-run-session WebKitWebDriver import python3 node; do
    command -v "$tool" >/dev/null || fail "$tool is missing (see docs/desktop.md for the packages)"
  done
  if [ -z "${SKIP_BUILD:-}" ]; then
    (
      cd "$ROOT/ui" &&
        { [ -d node_modules ] || timeout 900 npm ci --no-audit --no-fund; } &&
        timeout 600 npm run build &&
        timeout 600 npx vite build --config src/desktop/vite.config.ts
    ) >"$ARTIFACTS/ui-build.log" 2>&1 || fail "UI build failed (see $ARTIFACTS/ui-build.log)"
    (cd "$ROOT" && timeout 5400 cargo build -p confab-server -p confab-sdk -p confab-desktop) \
      || fail "cargo build failed"
  fi
  exec timeout --kill-after=10 "$TEST_TIMEOUT" \
    xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- bash "${BASH_SOURCE[0]}" --inner
fi

# --- inside Xvfb and a D-Bus session ---
BIN="$CARGO_TARGET_DIR/debug"
export DESKTOP_BIN="${DESKTOP_BIN:-$BIN/confab-desktop}"
export CONFAB_CLI="${CONFAB_CLI_BIN:-$BIN/confab}"
SERVER_BIN="${CONFAB_SERVER_BIN:-$BIN/confab-server}"
for f in "$DESKTOP_BIN" "$CONFAB_CLI" "$SERVER_BIN"; do
  [ -x "$f" ] || fail "$f is not built"
done

WORK="$(mktemp -d)"
PIDS=()
cleanup() {
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do kill "${PIDS[$i]}" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$WORK" 2>/dev/null || { sleep 2; rm -rf "$WORK"; }
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

PORT="$(free_port)"
export CONFAB_URL="http://127.0.0.1:$PORT"
# The desktop app's pages have the origin tauri://localhost (http://tauri.localhost on Windows).
CONFAB_ALLOWED_ORIGINS="tauri://localhost" "$SERVER_BIN" --bind "127.0.0.1:$PORT" --data-dir "$WORK/data" \
  --open-direct-messages true --argon2-memory-kib 256 --argon2-iterations 1 >"$ARTIFACTS/server.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do
  curl -fsS "$CONFAB_URL/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fsS "$CONFAB_URL/healthz" >/dev/null 2>&1 || fail "the server did not start (see $ARTIFACTS/server.log)"

export ALICE="alice$RANDOM" BOB="bob$RANDOM" PASSWORD="correct-horse-42"
export CONFAB_CONFIG_DIR="$WORK/cli"
CONFAB_PASSWORD="$PASSWORD" "$CONFAB_CLI" --server "$CONFAB_URL" register "$ALICE" --display-name "Alice" >/dev/null || fail "register alice"
CONFAB_PASSWORD="$PASSWORD" "$CONFAB_CLI" --server "$CONFAB_URL" register "$BOB" --display-name "Bob" >/dev/null || fail "register bob"
CONFAB_PASSWORD="$PASSWORD" "$CONFAB_CLI" --server "$CONFAB_URL" login "$BOB" >/dev/null || fail "login bob"

# A fresh profile: settings, window state and the webview's storage.
export XDG_CONFIG_HOME="$WORK/config" XDG_DATA_HOME="$WORK/share" XDG_CACHE_HOME="$WORK/cache"
mkdir -p "$XDG_CONFIG_HOME" "$XDG_DATA_HOME" "$XDG_CACHE_HOME"

if [ -n "${MEASURE:-}" ]; then
  python3 "$ROOT/tests/desktop/measure.py" startup 2>&1 | tee "$ARTIFACTS/startup.txt"
fi

# WebKit's DMA-BUF renderer paints nothing under Xvfb (no GPU): use the shared-memory path.
export WEBKIT_DISABLE_DMABUF_RENDERER=1

WD_PORT="$(free_port)"
export WEBDRIVER_URL="http://127.0.0.1:$WD_PORT"
TAURI_WEBVIEW_AUTOMATION=true WebKitWebDriver --port="$WD_PORT" >"$ARTIFACTS/webdriver.log" 2>&1 &
WD_PID=$!
PIDS+=($WD_PID)
export WEBDRIVER_PID=$WD_PID
for _ in $(seq 100); do
  curl -fsS "$WEBDRIVER_URL/status" >/dev/null 2>&1 && break
  sleep 0.1
done

python3 "$ROOT/tests/desktop/e2e.py"
