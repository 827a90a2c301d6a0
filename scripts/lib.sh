# Shared by scripts/run, scripts/test and scripts/setup.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/confab-target}"
LOG_DIR="${LOG_DIR:-$CARGO_TARGET_DIR/logs}"
mkdir -p "$LOG_DIR"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

build_ui() {
  step "Web UI: install and build"
  (cd ui && { [ -d node_modules ] && [ node_modules -nt package-lock.json ] || npm ci --no-audit --no-fund; } && npm run build)
}

# Totals of every `test result:` line cargo printed, as one closing line.
summary() {
  local passed failed
  passed=$(grep -Eo 'test result: [a-zA-Z]+\. [0-9]+ passed' "$LOG_DIR/cargo-test.log" | awk '{s+=$4} END {print s+0}')
  failed=$(grep -Eo '[0-9]+ failed' "$LOG_DIR/cargo-test.log" | awk '{s+=$1} END {print s+0}')
  echo
  echo "Rust: $passed passed, $failed failed"
}
