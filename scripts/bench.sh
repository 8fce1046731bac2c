#!/usr/bin/env bash
# Benchmark folio's cached pages against their uncached twins.
#
# Usage: scripts/bench.sh [--help]
#
# What it does, in order:
#   1. cargo build --release (into the project's target dir, or $CARGO_TARGET_DIR);
#   2. seeds a database with 10,000 books and 500,000 ratings (seed 42, --reset)
#      and prints how long that took;
#   3. starts `folio serve --no-demo-data` on a free loopback port, waits for it
#      (30 s at most) and warms the cached routes once;
#   4. loads it with `wrk -t2 -c16 -d${BENCH_SECONDS}s --timeout 10s --latency` on
#      loopback: `/` against `/top/uncached`, then `/cache`
#      against `/sample`, and prints req/s, p50 and p99 for each route, the
#      cached/uncached throughput ratios and folio's resident memory;
#   5. prints a markdown table to paste into the README;
#   6. on exit, whatever happened: stops folio, clears the bench's Redis keys
#      (`folio cache clear` under its own prefix) and deletes its temp dir.
#
# Environment:
#   BENCH_SECONDS       seconds of load per route (default 10)
#   BENCH_DATABASE_URL  unset: a fresh SQLite file in a temp dir.
#                       A postgres:// URL: that database is used and EMPTIED
#                       (seed --reset deletes every book and rating), so point
#                       it at a throwaway database such as
#                       postgres://postgres@127.0.0.1:5432/folio_bench.
#                       A missing database is created when psql is installed.
#   BENCH_REDIS_URL     Redis for the cache (default redis://127.0.0.1:6379);
#                       `none` benchmarks the in-process cache instead.
#   BENCH_BOOKS, BENCH_RATINGS
#                       the seed's size (default 10000 and 500000)
#   RUST_LOG            folio's log filter, as usual; its logs go to files in
#                       the temp dir and their tail is shown if folio fails.
#
# Needs: cargo, curl and wrk (Debian/Ubuntu: `sudo apt-get install wrk`).
# Loopback only: wrk never targets anything but 127.0.0.1.
set -euo pipefail

usage() {
    # Print the comment block above (without the shebang and the `# `).
    sed -n '2,/^set -euo pipefail$/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'
}

case "${1:-}" in
"") ;;
-h | --help)
    usage
    exit 0
    ;;
*)
    echo "bench.sh: unexpected argument: $1 (try --help)" >&2
    exit 2
    ;;
esac

SECONDS_PER_ROUTE=${BENCH_SECONDS:-10}
BOOKS=${BENCH_BOOKS:-10000}
RATINGS=${BENCH_RATINGS:-500000}
REDIS=${BENCH_REDIS_URL:-redis://127.0.0.1:6379}
DB_URL=${BENCH_DATABASE_URL:-}
THREADS=2
CONNECTIONS=16
READY_TIMEOUT=30
# wrk's default 2 s request timeout would drop the slowest uncached requests
# from the latency figures (and count them only as socket timeouts).
WRK_TIMEOUT=10s

check_number() { # NAME VALUE MIN
    if ! [[ $2 =~ ^[0-9]{1,9}$ ]] || ((10#$2 < $3)); then
        echo "bench.sh: $1=$2 is not valid: expected a whole number from $3 up" >&2
        exit 2
    fi
}
check_number BENCH_SECONDS "$SECONDS_PER_ROUTE" 1
check_number BENCH_BOOKS "$BOOKS" 1
check_number BENCH_RATINGS "$RATINGS" 0

# --- tools -------------------------------------------------------------------
if ! command -v wrk >/dev/null 2>&1; then
    cat >&2 <<'EOF'
bench.sh: wrk is not installed. Install it, then run this again:
    Debian/Ubuntu:  sudo apt-get install wrk
    macOS:          brew install wrk
EOF
    exit 1
fi
for tool in cargo curl; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "bench.sh: $tool is not installed (Debian/Ubuntu: sudo apt-get install $tool)" >&2
        exit 1
    fi
done

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
case $TARGET_DIR in /*) ;; *) TARGET_DIR=$ROOT/$TARGET_DIR ;; esac
BIN=$TARGET_DIR/release/folio

# --- cleanup, set before anything needs cleaning -----------------------------
TMP=""
FOLIO_PID=""
CLEAR_REDIS="" # set once REDIS_URL and FOLIO_CACHE_PREFIX are the bench's own
cleanup() {
    local status=$?
    set +e
    if [[ -n $FOLIO_PID ]] && kill -0 "$FOLIO_PID" 2>/dev/null; then
        kill -TERM "$FOLIO_PID" 2>/dev/null
        for _ in $(seq 1 100); do # 10 s at most
            kill -0 "$FOLIO_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$FOLIO_PID" 2>/dev/null
        wait "$FOLIO_PID" 2>/dev/null
    fi
    if [[ -n $CLEAR_REDIS && -x $BIN ]]; then
        # Deletes only keys under $FOLIO_CACHE_PREFIX:*.
        if out=$(cd "${TMP:-/}" && timeout 20 "$BIN" cache clear 2>/dev/null); then
            echo "cleanup: $out"
        else
            echo "cleanup: could not clear the Redis keys under ${FOLIO_CACHE_PREFIX}:* (remove them by hand)" >&2
        fi
    fi
    if [[ -n $TMP && -d $TMP ]]; then
        rm -rf -- "$TMP"
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

die() {
    echo "bench.sh: $*" >&2
    exit 1
}

show_log() {
    echo "--- last lines of $1 ---" >&2
    tail -n 20 "$1" >&2 || true
}

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

# --- build ---------------------------------------------------------------------
echo "== building folio (release) in $TARGET_DIR"
cargo build --release --quiet
[[ -x $BIN ]] || die "cargo built no $BIN"
VERSION=$("$BIN" --version)
COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)

TMP=$(mktemp -d "${TMPDIR:-/tmp}/folio-bench.XXXXXX")

# --- environment for every folio command ---------------------------------------
# folio runs from the temp dir, so a developer's .env is not read.
if [[ -z $DB_URL ]]; then
    export DATABASE_URL="$TMP/bench.db"
    BACKEND=SQLite
else
    case $DB_URL in
    postgres://* | postgresql://*) BACKEND=PostgreSQL ;;
    *) BACKEND=SQLite ;;
    esac
    export DATABASE_URL="$DB_URL"
fi
if [[ $REDIS == none ]]; then
    unset REDIS_URL
    CACHE_NAME="in-process"
else
    export REDIS_URL="$REDIS"
    CACHE_NAME="Redis"
fi
export FOLIO_CACHE_PREFIX="bench-$$"
export FOLIO_UNCACHED_ROUTES=on
[[ -n ${REDIS_URL:-} ]] && CLEAR_REDIS=yes

redacted_db() {
    # postgres://user:secret@host/db -> postgres://user:***@host/db
    sed -E 's#^([a-z]+://[^:/@]+):[^@]*@#\1:***@#' <<<"$DATABASE_URL"
}

# A missing PostgreSQL database is created, when psql is at hand.
ensure_postgres_database() {
    command -v psql >/dev/null 2>&1 || return 0
    local err
    if err=$(psql "$DATABASE_URL" -Atqc 'SELECT 1' 2>&1 >/dev/null); then
        return 0
    fi
    if ! grep -q 'does not exist' <<<"$err"; then
        echo "bench.sh: cannot reach $(redacted_db): $err" >&2
        return 0 # let folio say so too
    fi
    local base=${DATABASE_URL%%\?*} query=""
    [[ $DATABASE_URL == *\?* ]] && query="?${DATABASE_URL#*\?}"
    local name=${base##*/} server=${base%/*}
    [[ $name =~ ^[A-Za-z0-9_]+$ ]] || die "will not create a database named '$name': create it yourself"
    echo "== creating the PostgreSQL database $name"
    psql "$server/postgres$query" -v ON_ERROR_STOP=1 -qc "CREATE DATABASE \"$name\"" >/dev/null ||
        die "could not create the database $name"
}

echo "== database: $BACKEND ($(redacted_db)); cache: $CACHE_NAME${REDIS_URL:+ ($REDIS_URL)}, prefix $FOLIO_CACHE_PREFIX"
if [[ $BACKEND == PostgreSQL ]]; then
    ensure_postgres_database
fi

# --- seed ----------------------------------------------------------------------
printf '== seeding %s books and %s ratings (seed 42, --reset) ... ' "$BOOKS" "$RATINGS"
started=$(now)
if ! (cd "$TMP" && timeout 1800 "$BIN" seed --books "$BOOKS" --ratings "$RATINGS" --seed 42 --reset) \
    >"$TMP/seed.log" 2>&1; then
    echo "failed"
    show_log "$TMP/seed.log"
    die "folio seed failed"
fi
SEED_SECS=$(elapsed "$started" "$(now)")
echo "${SEED_SECS} s"

# --- serve ---------------------------------------------------------------------
port_is_taken() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
PORT=""
for _ in $(seq 1 50); do
    candidate=$((20000 + RANDOM % 40000))
    if ! port_is_taken "$candidate"; then
        PORT=$candidate
        break
    fi
done
[[ -n $PORT ]] || die "found no free loopback port in 50 tries"
BASE="http://127.0.0.1:$PORT"

echo "== starting folio at $BASE"
(cd "$TMP" && FOLIO_BIND="127.0.0.1:$PORT" exec "$BIN" serve --no-demo-data) >"$TMP/serve.log" 2>&1 &
FOLIO_PID=$!

ready=""
for _ in $(seq 1 $((READY_TIMEOUT * 5))); do
    if ! kill -0 "$FOLIO_PID" 2>/dev/null; then
        show_log "$TMP/serve.log"
        die "folio exited before it answered"
    fi
    if curl -fsS -o /dev/null --max-time 2 "$BASE/static/style.css" 2>/dev/null; then
        ready=yes
        break
    fi
    sleep 0.2
done
if [[ -z $ready ]]; then
    show_log "$TMP/serve.log"
    die "folio did not answer at $BASE within ${READY_TIMEOUT} s"
fi

# Every benchmarked route must answer 200 before it is loaded; the cached ones
# are asked twice, the second time to confirm the warm-up left a hit.
x_cache() { curl -s -o /dev/null -D - --max-time 30 "$BASE$1" | tr -d '\r' | awk -F': *' 'tolower($1) == "x-cache" { print $2 }' || true; }
for route in / /cache /top/uncached /sample; do
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 30 "$BASE$route" || true)
    [[ $code == 200 ]] || {
        show_log "$TMP/serve.log"
        die "GET $route answered ${code:-nothing}, not 200"
    }
done
for route in / /cache; do
    state=$(x_cache "$route")
    echo "   warmed $route: X-Cache ${state:-missing}"
    [[ $state == HIT ]] || echo "   warning: $route is not served from the cache; its figures mean little" >&2
done

# --- load ----------------------------------------------------------------------
# wrk prints latencies as 812.00us, 1.23ms, 2.01s or 1.50m: turn them into ms.
to_ms() {
    awk -v v="$1" 'BEGIN {
        n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
        if (u == "us") n /= 1000; else if (u == "s") n *= 1000
        else if (u == "m") n *= 60000; else if (u == "h") n *= 3600000
        else if (u != "ms") { print "?"; exit }
        fmt = n < 10 ? "%.2f" : (n < 100 ? "%.1f" : "%.0f")
        printf fmt, n
    }'
}

declare -A RPS P50 P99 ERRORS
load() {
    local route=$1 out
    out="$TMP/wrk$(tr '/' '_' <<<"$1").txt"
    printf '== wrk -t%s -c%s -d%ss --timeout %s --latency %s ... ' \
        "$THREADS" "$CONNECTIONS" "$SECONDS_PER_ROUTE" "$WRK_TIMEOUT" "$route"
    if ! timeout $((SECONDS_PER_ROUTE + 60)) wrk -t"$THREADS" -c"$CONNECTIONS" -d"${SECONDS_PER_ROUTE}s" \
        --timeout "$WRK_TIMEOUT" --latency "$BASE$route" >"$out" 2>&1; then
        echo "failed"
        cat "$out" >&2
        die "wrk failed on $route"
    fi
    RPS[$route]=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$out")
    P50[$route]=$(to_ms "$(awk '/Latency Distribution/ { d = 1 } d && $1 == "50%" { print $2; exit }' "$out")")
    P99[$route]=$(to_ms "$(awk '/Latency Distribution/ { d = 1 } d && $1 == "99%" { print $2; exit }' "$out")")
    ERRORS[$route]=$(awk '/Non-2xx or 3xx responses:|Socket errors:/ { sub(/^ +/, ""); printf "%s%s", s, $0; s = "; " }' "$out")
    [[ -n ${RPS[$route]} && -n ${P50[$route]} && -n ${P99[$route]} ]] || {
        cat "$out" >&2
        die "could not read wrk's output for $route"
    }
    echo "${RPS[$route]} req/s, p50 ${P50[$route]} ms, p99 ${P99[$route]} ms"
    if [[ -n ${ERRORS[$route]} ]]; then
        echo "   warning: ${ERRORS[$route]}" >&2
    fi
    kill -0 "$FOLIO_PID" 2>/dev/null || {
        show_log "$TMP/serve.log"
        die "folio died under load"
    }
}

ROUTES=(/top/uncached / /sample /cache)
for route in "${ROUTES[@]}"; do
    load "$route"
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f", a / b; else print "n/a" }'; }
HOME_RATIO=$(ratio "${RPS[/]}" "${RPS[/top/uncached]}")
SAMPLE_RATIO=$(ratio "${RPS[/cache]}" "${RPS[/sample]}")
RSS_KB=$(awk '/^VmRSS:/ { print $2 }' "/proc/$FOLIO_PID/status" 2>/dev/null || true)
HWM_KB=$(awk '/^VmHWM:/ { print $2 }' "/proc/$FOLIO_PID/status" 2>/dev/null || true)
mib() { awk -v k="$1" 'BEGIN { if (k == "") print "?"; else printf "%.1f", k / 1024 }'; }

echo
echo "== results"
printf '   %-14s %10s %10s %10s\n' route req/s "p50 ms" "p99 ms"
for route in "${ROUTES[@]}"; do
    printf '   %-14s %10s %10s %10s\n' "$route" "${RPS[$route]}" "${P50[$route]}" "${P99[$route]}"
done
echo "   cached/uncached throughput: / vs /top/uncached ${HOME_RATIO}x, /cache vs /sample ${SAMPLE_RATIO}x"
echo "   seed: ${SEED_SECS} s; folio resident memory after the load: $(mib "$RSS_KB") MiB (VmRSS; peak VmHWM $(mib "$HWM_KB") MiB)"

# --- README table --------------------------------------------------------------
CPU=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
fmt_int() {
    awk -v n="$1" 'BEGIN {
        s = sprintf("%d", n); r = ""
        while (length(s) > 3) { r = "," substr(s, length(s) - 2) r; s = substr(s, 1, length(s) - 3) }
        print s r
    }'
}
# shellcheck disable=SC2016 # the backquotes are markdown
row() { printf '| `%s` | %s | %s | %s | %s |\n' "$1" "$2" "$(fmt_int "${RPS[$1]}")" "${P50[$1]}" "${P99[$1]}"; }

echo
echo "== markdown for the README"
echo
echo "| route | served from | req/s | p50 (ms) | p99 (ms) |"
echo "| --- | --- | ---: | ---: | ---: |"
row /top/uncached "database + render, every request"
row / "cache ($CACHE_NAME)"
row /sample "database + render, every request"
row /cache "cache ($CACHE_NAME)"
echo
echo "Cached/uncached throughput: \`/\` ${HOME_RATIO}× \`/top/uncached\`, \`/cache\` ${SAMPLE_RATIO}× \`/sample\`."
echo "Resident memory after the load: $(mib "$RSS_KB") MiB. Seeding $(fmt_int "$BOOKS") books and $(fmt_int "$RATINGS") ratings: ${SEED_SECS} s."
echo
echo "_${VERSION} (${COMMIT}), release build; ${BACKEND}, ${CACHE_NAME} cache; \`wrk -t${THREADS} -c${CONNECTIONS} -d${SECONDS_PER_ROUTE}s --timeout ${WRK_TIMEOUT}\` on loopback; $(nproc) cores${CPU:+ ($CPU)}; $(date -u +%Y-%m-%d)._"
