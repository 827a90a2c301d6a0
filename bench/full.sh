#!/usr/bin/env bash
# Runs every confab-bench scenario at full size against a release Confab server started here
# with a fresh temporary data directory: the method of docs/benchmarks.md. The server is
# restarted (same data, so the cached accounts stay valid) before each scenario so that each
# starts from a clean process; before each, the script waits (bounded) for the machine to be
# quiet, since other work on a 2-core machine distorts every figure.
#
#   bench/full.sh                       # everything, reports in target/bench-results/
#   ONLY="direct sync" bench/full.sh    # a subset
#   OUT=/tmp/results bench/full.sh
#
# Scenario sizes can be overridden: CLIENTS, STEPS, MEMBERS_BIG, IDLE_MAX, …
set -euo pipefail

cd "$(dirname "$0")/.."
BIN="${CARGO_TARGET_DIR:-target}/release"
# SERVER_BIN: measure a server binary built elsewhere (e.g. from a given commit).
if [ -n "${SERVER_BIN:-}" ]; then
    cargo build --release -p confab-bench
else
    cargo build --release -p confab-server -p confab-bench
    SERVER_BIN=$BIN/confab-server
fi
OUT=${OUT:-target/bench-results}
mkdir -p "$OUT"
ONLY=${ONLY:-"direct group group-big idle idle-max sync"}
CLIENTS=${CLIENTS:-1000}
STEPS=${STEPS:-2000,4000,8000,16000,32000,48000}
MEMBERS=${MEMBERS:-1000}
MEMBERS_BIG=${MEMBERS_BIG:-10000}
IDLE=${IDLE:-10000}
# Each connection takes a descriptor in this process and one in the server: the open-file
# hard limit bounds the largest idle run.
IDLE_MAX=${IDLE_MAX:-$(( $(ulimit -Hn) - 500 ))}
ulimit -n "$(ulimit -Hn)"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/confab-bench-full.XXXXXX")
ACCOUNTS="$WORK/accounts.json"
SERVER_PID=""
PORT=""

stop_server() {
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        for _ in $(seq 1 150); do
            kill -0 "$SERVER_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$SERVER_PID" 2>/dev/null || true
    fi
    SERVER_PID=""
}
cleanup() {
    stop_server
    if [ "${KEEP:-0}" = 1 ]; then echo "work directory kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

for _ in $(seq 1 50); do
    candidate=$((20000 + RANDOM % 20000))
    if ! port_in_use "$candidate"; then PORT=$candidate; break; fi
done
[ -n "$PORT" ] || { echo "no free port" >&2; exit 1; }

start_server() {
    stop_server
    # Every benchmark client shares the loopback addresses, so the per-address abuse limits are
    # off (real clients come from many addresses); per-account and per-connection limits stay
    # at their defaults. Password hashing only runs while accounts are set up, never in a
    # measured phase: a low cost keeps the setup of 10,000+ accounts short. The big group
    # needs a higher group size limit.
    CONFAB_LOG=${CONFAB_LOG:-warn} "$SERVER_BIN" \
        --bind "127.0.0.1:$PORT" --data-dir "$WORK/data" \
        --rate-registrations-per-ip 0 --rate-connects-per-ip 0 --max-connections-per-ip 0 \
        --max-group-members 20000 \
        --argon2-memory-kib 1024 --argon2-iterations 1 \
        >>"$WORK/server.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 1 300); do
        port_in_use "$PORT" && return 0
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.1
    done
    tail -20 "$WORK/server.log" >&2
    echo "the server did not come up" >&2
    exit 1
}

# Busy CPU of the whole machine over 5 s, in percent of one core.
machine_busy() {
    local a b
    read -r _ u1 n1 s1 i1 w1 q1 sq1 st1 _ </proc/stat
    sleep 5
    read -r _ u2 n2 s2 i2 w2 q2 sq2 st2 _ </proc/stat
    a=$(( (u2 + n2 + s2 + q2 + sq2 + st2) - (u1 + n1 + s1 + q1 + sq1 + st1) ))
    b=$(( a + (i2 + w2) - (i1 + w1) ))
    echo $(( b > 0 ? 100 * a * $(nproc) / b : 0 ))
}

wait_quiet() {
    local deadline=$((SECONDS + ${QUIET_WAIT:-900})) busy
    while :; do
        busy=$(machine_busy)
        if [ "$busy" -lt "${QUIET_PCT:-25}" ]; then
            echo "machine quiet (${busy}% of one core busy)"
            return 0
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            echo "machine still busy (${busy}% of one core); measuring anyway" >&2
            return 0
        fi
        echo "waiting for a quiet machine (${busy}% of one core busy)…"
    done
}

run() {
    local name=$1
    shift
    case " $ONLY " in *" $name "*) ;; *) return 0 ;; esac
    start_server
    wait_quiet
    echo "== $name: confab-bench $*"
    timeout "${SCENARIO_TIMEOUT:-1800}" "$BIN/confab-bench" "$@" \
        --server "127.0.0.1:$PORT" --server-pid "$SERVER_PID" --accounts "$ACCOUNTS" \
        --out "$OUT/$name.json" | tee "$OUT/$name.txt"
}

echo "machine: $(nproc) cores; $(free -h | awk '/^Mem:/ {print $2}') memory; $(lscpu | grep 'Model name' | sed 's/.*: *//')"
echo "server: ${SERVER_REV:-$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- server proto || echo ' + uncommitted changes')} ($SERVER_BIN)"

# Accounts are created once, on a server that is then restarted: no scenario's baseline holds
# memory left from password hashing.
start_server
for spec in "bench-dm-:$CLIENTS" "bench-gm-:$MEMBERS_BIG" "bench-idle-:$(( (IDLE_MAX + 15) / 16 ))" "bench-sync-:101"; do
    "$BIN/confab-bench" accounts --server "127.0.0.1:$PORT" --accounts "$ACCOUNTS" \
        --prefix "${spec%%:*}" --count "${spec##*:}" --register-parallel 16
done

run direct direct --clients "$CLIENTS" --steps "$STEPS" --with-limit
run group group --members "$MEMBERS"
run group-big group --members "$MEMBERS_BIG" --sends 50 --burst 100 --window 4
run idle idle --conns "$IDLE"
run idle-max idle --conns "$IDLE_MAX"
run sync sync --conversations 100 --per-conversation 100
stop_server
echo "reports in $OUT"
