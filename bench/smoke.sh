#!/usr/bin/env bash
# Runs every confab-bench scenario once at a tiny size (--smoke) against a fresh Confab server
# on a free loopback port with a temporary data directory, then stops the server. Fails when a
# build fails, the server does not come up or dies, or any scenario reports a loss or figures
# that are not sane.
#
#   bench/smoke.sh               # debug builds
#   PROFILE=release bench/smoke.sh
#   KEEP=1 bench/smoke.sh        # keep the work directory (reports, server log)
set -euo pipefail

cd "$(dirname "$0")/.."
PROFILE=${PROFILE:-debug}
if [ "$PROFILE" = release ]; then
    cargo build --release -p confab-server -p confab-bench
else
    cargo build -p confab-server -p confab-bench
fi
BIN="${CARGO_TARGET_DIR:-target}/$PROFILE"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/confab-bench-smoke.XXXXXX")
SERVER_PID=""
cleanup() {
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        for _ in $(seq 1 100); do
            kill -0 "$SERVER_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$SERVER_PID" 2>/dev/null || true
    fi
    if [ "${KEEP:-0}" = 1 ]; then
        echo "work directory kept: $WORK"
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

PORT=""
for _ in $(seq 1 50); do
    candidate=$((20000 + RANDOM % 20000))
    if ! port_in_use "$candidate"; then
        PORT=$candidate
        break
    fi
done
[ -n "$PORT" ] || { echo "smoke: no free port found" >&2; exit 1; }

# Every benchmark client shares the loopback addresses, so the per-address abuse limits
# (registrations, connects, connections per address) are off; per-account and per-connection
# limits stay at their defaults.
CONFAB_LOG=${CONFAB_LOG:-warn} "$BIN/confab-server" \
    --bind "127.0.0.1:$PORT" --data-dir "$WORK/data" --max-group-members 100 \
    --rate-registrations-per-ip 0 --rate-connects-per-ip 0 --max-connections-per-ip 0 \
    >"$WORK/server.log" 2>&1 &
SERVER_PID=$!

for _ in $(seq 1 300); do
    port_in_use "$PORT" && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log" >&2; echo "smoke: server exited" >&2; exit 1; }
    sleep 0.1
done
port_in_use "$PORT" || { echo "smoke: server did not listen on $PORT" >&2; exit 1; }
echo "smoke: server pid $SERVER_PID on 127.0.0.1:$PORT, data in $WORK/data"

COMMON=(--smoke --server "127.0.0.1:$PORT" --server-pid "$SERVER_PID" --accounts "$WORK/accounts.json")
passed=0
failed=0
for scenario in direct group idle sync limit; do
    echo "smoke: $scenario"
    if timeout 300 "$BIN/confab-bench" "$scenario" "${COMMON[@]}" --out "$WORK/$scenario.json"; then
        passed=$((passed + 1))
    else
        echo "smoke: $scenario FAILED" >&2
        failed=$((failed + 1))
    fi
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
        echo "smoke: the server died during $scenario" >&2
        tail -50 "$WORK/server.log" >&2
        exit 1
    fi
done

echo "smoke: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
