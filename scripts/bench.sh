#!/usr/bin/env bash
# Benchmark folio's cached pages against their uncached twins.
#
# Usage: scripts/bench.sh [--help]
#
# What it does, in order:
#   1. cargo build --release (into the project's target dir, or $CARGO_TARGET_DIR);
#   2. seeds a database with 10,000 books and 500,000 ratings (seed 42, --reset)
#      and prints how long that took;
#   3. starts `folio serve --no-demo-data` with FOLIO_BENCH_ROUTES=on on a free
#      loopback port, waits for it (30 s at most), lets it settle for 1 s (the
#      in-process tier in front of Redis is used only once its heartbeat lease
#      is held, ~0.3 s after start) and warms the cached routes;
#   4. reads the size of the body of `/` (no Accept-Encoding, as wrk sends none)
#      and checks that it is a cache hit (`X-Cache: HIT`);
#   5. loads it with `wrk -t2 -c16 -d${BENCH_SECONDS}s --timeout 10s --latency` on
#      loopback, one route after another: first the hit path, `/` and
#      `/_bench/constant?bytes=<size of />` back to back (a constant body of
#      the same size from the same server and stack), then `/top/uncached`,
#      `/sample` and `/cache`. The hit path goes first so that its memory
#      figure is its own: the uncached routes grow folio's heap (to ~130 MB
#      with the default seed) and it stays grown; that shows in the resident
#      memory printed after the load. It prints req/s, p50 and p99 for each
#      route and the cached/uncached throughput ratios (`/` vs `/top/uncached`,
#      `/cache` vs `/sample`), plus two checks, each with PASS or FAIL:
#        hit-path ratio (target >= 0.60)
#            req/s of `/` divided by req/s of the constant route;
#        resident memory under load (target < 50 MB)
#            the peak of folio's VmRSS (/proc/PID/status), sampled every 0.5 s
#            during the wrk run on `/` (MB = 1,000,000 bytes);
#   6. prints markdown to paste into the README: a table of the routes, the
#      ratios, and a table of the two checks;
#   7. on exit, whatever happened: stops folio, clears the bench's Redis keys
#      (`folio cache clear` under its own prefix) and deletes its temp dir.
# A FAIL is reported, not an error: the exit status is 0 unless the bench
# itself could not run.
#
# Environment:
#   BENCH_SECONDS       seconds of load per route, i.e. of each wrk run (default 10)
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
# Needs: cargo, curl and wrk (Debian/Ubuntu: `sudo apt-get install wrk`), and
# Linux's /proc for the memory figures.
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
SAMPLER_PID="" # the background VmRSS sampler, while it runs
CLEAR_REDIS="" # set once REDIS_URL and FOLIO_CACHE_PREFIX are the bench's own
cleanup() {
    local status=$?
    set +e
    if [[ -n $SAMPLER_PID ]]; then
        kill "$SAMPLER_PID" 2>/dev/null
        wait "$SAMPLER_PID" 2>/dev/null
    fi
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
export FOLIO_BENCH_ROUTES=on # /_bench/constant, the hit path's baseline
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

# With Redis, the in-process tier in front of it is used only once folio holds
# its heartbeat lease (~0.3 s after start): let it settle before warming.
sleep 1

# probe ROUTE: one GET, as wrk sends it (no Accept-Encoding); sets PROBE_CODE,
# PROBE_BYTES (size of the body), PROBE_STATE (X-Cache) and PROBE_TIMING
# (Server-Timing).
PROBE_CODE="" PROBE_BYTES="" PROBE_STATE="" PROBE_TIMING=""
probe() {
    local out headers=$TMP/probe.headers
    : >"$headers"
    out=$(curl -s -D "$headers" -o /dev/null -w '%{http_code} %{size_download}' --max-time 30 "$BASE$1" || true)
    read -r PROBE_CODE PROBE_BYTES <<<"$out"
    PROBE_STATE=$(tr -d '\r' <"$headers" | awk 'tolower($0) ~ /^x-cache:/ { sub(/^[^:]*: */, ""); print; exit }')
    PROBE_TIMING=$(tr -d '\r' <"$headers" | awk 'tolower($0) ~ /^server-timing:/ { sub(/^[^:]*: */, ""); print; exit }')
}
# warm ROUTE: ask until X-Cache says HIT, 10 times at most, 0.2 s apart.
warm() {
    for _ in $(seq 1 10); do
        probe "$1"
        [[ $PROBE_CODE == 200 && $PROBE_STATE == HIT ]] && return 0
        sleep 0.2
    done
}

# Every benchmarked route must answer 200 before it is loaded; the cached ones
# are asked again until the warm-up leaves a hit.
for route in / /cache /top/uncached /sample; do
    probe "$route"
    [[ $PROBE_CODE == 200 ]] || {
        show_log "$TMP/serve.log"
        die "GET $route answered ${PROBE_CODE:-nothing}, not 200"
    }
done
for route in /cache /; do # / last: its probe gives the hit path's body size
    warm "$route"
    echo "   warmed $route: X-Cache ${PROBE_STATE:-missing}${PROBE_TIMING:+; Server-Timing: $PROBE_TIMING}"
    [[ $PROBE_STATE == HIT ]] || echo "   warning: $route is not served from the cache; its figures mean little" >&2
done

# The hit path's baseline: a constant body as long as the body of /.
HOME_BYTES=$PROBE_BYTES
HOME_STATE=$PROBE_STATE
MAX_CONSTANT=$((1024 * 1024))
if ! [[ $HOME_BYTES =~ ^[0-9]{1,9}$ ]] || ((HOME_BYTES == 0)); then
    die "could not read the size of the body of / (${HOME_BYTES:-nothing})"
fi
((HOME_BYTES <= MAX_CONSTANT)) ||
    die "the body of / is $HOME_BYTES bytes: /_bench/constant serves $MAX_CONSTANT at most"
CONSTANT="/_bench/constant?bytes=$HOME_BYTES"
probe "$CONSTANT"
[[ $PROBE_CODE == 200 ]] || {
    show_log "$TMP/serve.log"
    die "GET $CONSTANT answered ${PROBE_CODE:-nothing}, not 200 (does this folio know FOLIO_BENCH_ROUTES=on?)"
}
[[ $PROBE_BYTES == "$HOME_BYTES" ]] ||
    die "GET $CONSTANT answered $PROBE_BYTES bytes, not $HOME_BYTES"
echo "   hit path: the body of / is $HOME_BYTES bytes; baseline $CONSTANT"

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

declare -A RPS RPS_RAW P50 P99 ERRORS
load() {
    local route=$1 out
    out="$TMP/wrk$(tr -c 'A-Za-z0-9._-' '_' <<<"$1").txt"
    printf '== wrk -t%s -c%s -d%ss --timeout %s --latency %s ... ' \
        "$THREADS" "$CONNECTIONS" "$SECONDS_PER_ROUTE" "$WRK_TIMEOUT" "$route"
    if ! timeout $((SECONDS_PER_ROUTE + 60)) wrk -t"$THREADS" -c"$CONNECTIONS" -d"${SECONDS_PER_ROUTE}s" \
        --timeout "$WRK_TIMEOUT" --latency "$BASE$route" >"$out" 2>&1; then
        echo "failed"
        cat "$out" >&2
        die "wrk failed on $route"
    fi
    RPS_RAW[$route]=$(awk '/^Requests\/sec:/ { print $2 }' "$out")
    RPS[$route]=$(awk -v r="${RPS_RAW[$route]}" 'BEGIN { if (r != "") printf "%.0f", r }')
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

# sample_rss PID FILE N: append PID's VmRSS (kB) to FILE every 0.5 s, N times
# at most; stops early if PID is gone.
sample_rss() {
    for _ in $(seq 1 "$3"); do
        sleep 0.5
        awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" >>"$2" 2>/dev/null || return 0
    done
}
stop_sampler() {
    [[ -n $SAMPLER_PID ]] || return 0
    kill "$SAMPLER_PID" 2>/dev/null || true
    wait "$SAMPLER_PID" 2>/dev/null || true
    SAMPLER_PID=""
}

# The hit path first, / and its constant baseline back to back, with folio's
# memory sampled while / is loaded; then the uncached routes and /cache (they
# grow folio's heap for good, so they must not come before the sampling).
RSS_LOG=$TMP/rss-under-load.txt
: >"$RSS_LOG"
sample_rss "$FOLIO_PID" "$RSS_LOG" $((SECONDS_PER_ROUTE * 2 + 4)) &
SAMPLER_PID=$!
load /
stop_sampler
load "$CONSTANT"
for route in /top/uncached /sample /cache; do
    load "$route"
done
ROUTES=(/top/uncached / "$CONSTANT" /sample /cache)

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f", a / b; else print "n/a" }'; }
HOME_RATIO=$(ratio "${RPS[/]}" "${RPS[/top/uncached]}")
SAMPLE_RATIO=$(ratio "${RPS[/cache]}" "${RPS[/sample]}")
RSS_KB=$(awk '/^VmRSS:/ { print $2 }' "/proc/$FOLIO_PID/status" 2>/dev/null || true)
HWM_KB=$(awk '/^VmHWM:/ { print $2 }' "/proc/$FOLIO_PID/status" 2>/dev/null || true)
mib() { awk -v k="$1" 'BEGIN { if (k == "") print "?"; else printf "%.1f", k / 1024 }'; }

# Hit path: req/s of / over req/s of the constant body of the same size.
HIT_TARGET=0.60
HIT_RATIO=$(awk -v a="${RPS_RAW[/]}" -v b="${RPS_RAW[$CONSTANT]}" \
    'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }')
HIT_VERDICT=$(awk -v a="${RPS_RAW[/]}" -v b="${RPS_RAW[$CONSTANT]}" -v t="$HIT_TARGET" \
    'BEGIN { if (b <= 0) print "n/a"; else if (a / b >= t) print "PASS"; else print "FAIL" }')
HIT_NOTE=""
[[ $HOME_STATE == HIT ]] || HIT_NOTE=" (warning: / was not a cache hit before the run)"

# Memory under load: the peak of the samples taken while / was loaded.
MEM_TARGET_MB=50
RSS_SAMPLES=$(wc -l <"$RSS_LOG" | tr -d ' ')
PEAK_KB=$(sort -n "$RSS_LOG" | tail -n 1)
PEAK_MB=$(awk -v k="$PEAK_KB" 'BEGIN { if (k == "") print "?"; else printf "%.1f", k * 1024 / 1e6 }')
MEM_VERDICT=$(awk -v k="$PEAK_KB" -v t="$MEM_TARGET_MB" \
    'BEGIN { if (k == "") print "n/a"; else if (k * 1024 < t * 1e6) print "PASS"; else print "FAIL" }')

echo
echo "== results"
printf '   %-30s %10s %10s %10s\n' route req/s "p50 ms" "p99 ms"
for route in "${ROUTES[@]}"; do
    printf '   %-30s %10s %10s %10s\n' "$route" "${RPS[$route]}" "${P50[$route]}" "${P99[$route]}"
done
echo "   cached/uncached throughput: / vs /top/uncached ${HOME_RATIO}x, /cache vs /sample ${SAMPLE_RATIO}x"
echo "   hit-path ratio (target >= $HIT_TARGET): ${HIT_RATIO}  ${HIT_VERDICT}  (/ ${RPS_RAW[/]} req/s ÷ $CONSTANT ${RPS_RAW[$CONSTANT]} req/s)${HIT_NOTE}"
echo "   resident memory under load (target < $MEM_TARGET_MB MB): peak ${PEAK_MB} MB  ${MEM_VERDICT}  (VmRSS, $(mib "$PEAK_KB") MiB; ${RSS_SAMPLES} samples 0.5 s apart during the / run)"
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
row "$CONSTANT" "constant body of the same size (baseline)"
row /sample "database + render, every request"
row /cache "cache ($CACHE_NAME)"
echo
echo "Cached/uncached throughput: \`/\` ${HOME_RATIO}× \`/top/uncached\`, \`/cache\` ${SAMPLE_RATIO}× \`/sample\`."
echo
echo "| check | target | measured | result |"
echo "| --- | ---: | ---: | --- |"
echo "| hit-path ratio (\`/\` ÷ \`$CONSTANT\`) | ≥ $HIT_TARGET | $HIT_RATIO | $HIT_VERDICT |"
echo "| resident memory under load (peak VmRSS during the \`/\` run) | < $MEM_TARGET_MB MB | $PEAK_MB MB | $MEM_VERDICT |"
echo
echo "Resident memory after the load: $(mib "$RSS_KB") MiB. Seeding $(fmt_int "$BOOKS") books and $(fmt_int "$RATINGS") ratings: ${SEED_SECS} s."
echo
echo "_${VERSION} (${COMMIT}), release build; ${BACKEND}, ${CACHE_NAME} cache; \`wrk -t${THREADS} -c${CONNECTIONS} -d${SECONDS_PER_ROUTE}s --timeout ${WRK_TIMEOUT}\` on loopback; $(nproc) cores${CPU:+ ($CPU)}; $(date -u +%Y-%m-%d)._"
