#!/usr/bin/env bash
# Benchmark folio's hit path against the hardware's limit, and its memory.
#
# Usage: scripts/bench.sh [--help]
#
# What it does, in order:
#   1. cargo build --release (into the project's target dir, or $CARGO_TARGET_DIR),
#      and the reference server `../shared/bench/limit` (a bare actix-web app
#      that answers every path with one constant body; into <target>/limit);
#   2. seeds a database with 10,000 books and 500,000 ratings (seed 42, --reset)
#      and prints how long that took;
#   3. starts `folio serve --no-demo-data` on a free loopback port, waits for it
#      (30 s at most), lets it settle for 1 s (the in-process tier in front of
#      Redis is used only once its heartbeat lease is held) and warms the cached
#      routes until they answer `X-Cache: HIT`;
#   4. the hit path: for each cached route (`/`, `/cache`, `/books?page=3`), once
#      without and once with `Accept-Encoding: gzip`, saves the exact bytes folio
#      sends, starts the reference serving those bytes, and runs
#      `wrk -t2 -c16 -d${BENCH_SECONDS}s` on folio and on the reference, in
#      alternating order, ${BENCH_ROUNDS} rounds; prints requests/s of each round,
#      the medians, and the ratio folio ÷ reference (target >= 0.80, PASS/FAIL);
#   5. loads every other route once, with and without gzip where it matters:
#      `/sample` and `/top/uncached` (database + render on every request),
#      `/books/1`, `/api/top-books`, `/api/books?page=3`;
#   6. memory: folio's VmRSS (/proc/PID/status) is sampled every 0.5 s during
#      all of the load above; prints the peak and the value 2 s after the load
#      (target < 50 MB for both, MB = 1,000,000 bytes);
#   7. prints markdown to paste into the README;
#   8. the change feed's figures (`examples/feed_bench.rs`, unless
#      BENCH_FEED=off): on SQLite and on PostgreSQL
#      (postgres://postgres@127.0.0.1:5432/folio_feed_bench, EMPTIED), how soon
#      a write made by another client shows on two folio instances (p50, p99,
#      max of 200 writes; targets 1 s on SQLite, 200 ms on PostgreSQL), and
#      what the triggers cost `folio seed --books 10000 --ratings 500000`
#      (median of 3 runs with them, 3 without; target <= 25 %);
#   9. on exit, whatever happened: stops folio and the reference, clears the
#      bench's Redis keys (`folio cache clear` under its own prefix) and deletes
#      its temp dir.
# A FAIL is reported, not an error: the exit status is 0 unless the bench
# itself could not run. Other work on the machine moves every figure: compare
# the ratios (measured in one run, medians of alternating rounds), not the
# absolute numbers.
#
# Environment:
#   BENCH_SECONDS       seconds of each wrk run (default 5)
#   BENCH_ROUNDS        rounds per hit-path case, at least 3 (default 3)
#   BENCH_LIMIT_DIR     the reference's crate (default ../shared/bench/limit)
#   BENCH_DATABASE_URL  unset: a fresh SQLite file in a temp dir.
#                       A postgres:// URL: that database is used and EMPTIED
#                       (seed --reset deletes every book and rating), so point
#                       it at a throwaway database such as
#                       postgres://postgres@127.0.0.1:5432/folio_bench.
#                       A missing database is created when psql is installed.
#   BENCH_REDIS_URL     Redis for the cache (default redis://127.0.0.1:6379);
#                       `none` benchmarks the in-process cache instead.
#   BENCH_FEED          `off` skips step 8
#   BENCH_BOOKS, BENCH_RATINGS
#                       the seed's size (default 10000 and 500000)
#   RUST_LOG            folio's log filter, as usual; its logs go to files in
#                       the temp dir and their tail is shown if folio fails.
#
# Needs: cargo, curl and wrk (installed with apt-get when missing and allowed),
# and Linux's /proc for the memory figures.
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

SECONDS_PER_ROUTE=${BENCH_SECONDS:-5}
ROUNDS=${BENCH_ROUNDS:-3}
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
check_number BENCH_ROUNDS "$ROUNDS" 3
check_number BENCH_BOOKS "$BOOKS" 1
check_number BENCH_RATINGS "$RATINGS" 0

# --- tools -------------------------------------------------------------------
if ! command -v wrk >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [[ $(id -u) == 0 ]]; then
    echo "== installing wrk (apt-get)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null 2>&1 || true
fi
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
LIMIT_PID=""   # the reference server, while one runs
CLEAR_REDIS="" # set once REDIS_URL and FOLIO_CACHE_PREFIX are the bench's own
cleanup() {
    local status=$?
    set +e
    for pid in "$SAMPLER_PID" "$LIMIT_PID"; do
        if [[ -n $pid ]]; then
            kill "$pid" 2>/dev/null
            wait "$pid" 2>/dev/null
        fi
    done
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
LIMIT_DIR=${BENCH_LIMIT_DIR:-$ROOT/../shared/bench/limit}
[[ -f $LIMIT_DIR/Cargo.toml ]] || die "no reference server at $LIMIT_DIR (set BENCH_LIMIT_DIR)"
echo "== building the reference ($LIMIT_DIR) in $TARGET_DIR/limit"
cargo build --release --quiet --manifest-path "$LIMIT_DIR/Cargo.toml" --target-dir "$TARGET_DIR/limit"
LIMIT_BIN=$TARGET_DIR/limit/release/limit
[[ -x $LIMIT_BIN ]] || die "cargo built no $LIMIT_BIN"
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
# free_port: prints a loopback port nobody listens on.
free_port() {
    local candidate
    for _ in $(seq 1 50); do
        candidate=$((20000 + RANDOM % 40000))
        if ! port_is_taken "$candidate"; then
            echo "$candidate"
            return 0
        fi
    done
    die "found no free loopback port in 50 tries"
}
PORT=$(free_port)
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

# fetch ROUTE ENCODING FILE: one GET as wrk will send it (ENCODING `gzip` adds
# `Accept-Encoding: gzip`); saves the body's bytes as sent to FILE and sets
# PROBE_CODE, PROBE_STATE (X-Cache) and PROBE_CODING (Content-Encoding).
PROBE_CODE="" PROBE_STATE="" PROBE_CODING=""
fetch() {
    local headers=$TMP/probe.headers ae=()
    [[ $2 == gzip ]] && ae=(-H "Accept-Encoding: gzip")
    : >"$headers"
    PROBE_CODE=$(curl -s "${ae[@]}" -D "$headers" -o "$3" -w '%{http_code}' --max-time 30 "$BASE$1" || true)
    header_of() { tr -d '\r' <"$headers" | awk -v h="$1" 'tolower($0) ~ "^" h ":" { sub(/^[^:]*: */, ""); print; exit }'; }
    PROBE_STATE=$(header_of x-cache)
    PROBE_CODING=$(header_of content-encoding)
}
# warm ROUTE ENCODING FILE: fetch until X-Cache says HIT, 10 times at most.
warm() {
    for _ in $(seq 1 10); do
        fetch "$@"
        [[ $PROBE_CODE == 200 && $PROBE_STATE == HIT ]] && return 0
        sleep 0.2
    done
}

for route in / /cache "/books?page=3" /top/uncached /sample /books/1 /api/top-books "/api/books?page=3"; do
    fetch "$route" identity "$TMP/probe.body"
    [[ $PROBE_CODE == 200 ]] || {
        show_log "$TMP/serve.log"
        die "GET $route answered ${PROBE_CODE:-nothing}, not 200"
    }
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

# run_wrk URL ENCODING: one wrk run; sets WRK_RPS (raw), WRK_P50, WRK_P99 (ms).
WRK_RUNS=0
run_wrk() {
    local out ae=()
    WRK_RUNS=$((WRK_RUNS + 1))
    out=$TMP/wrk-$WRK_RUNS.txt
    [[ $2 == gzip ]] && ae=(-H "Accept-Encoding: gzip")
    if ! timeout $((SECONDS_PER_ROUTE + 60)) wrk -t"$THREADS" -c"$CONNECTIONS" -d"${SECONDS_PER_ROUTE}s" \
        --timeout "$WRK_TIMEOUT" --latency "${ae[@]}" "$1" >"$out" 2>&1; then
        cat "$out" >&2
        die "wrk failed on $1"
    fi
    WRK_RPS=$(awk '/^Requests\/sec:/ { print $2 }' "$out")
    WRK_P50=$(to_ms "$(awk '/Latency Distribution/ { d = 1 } d && $1 == "50%" { print $2; exit }' "$out")")
    WRK_P99=$(to_ms "$(awk '/Latency Distribution/ { d = 1 } d && $1 == "99%" { print $2; exit }' "$out")")
    local errors
    errors=$(awk '/Non-2xx or 3xx responses:|Socket errors:/ { sub(/^ +/, ""); printf "%s%s", s, $0; s = "; " }' "$out")
    [[ -z $errors ]] || echo "   warning: $1: $errors" >&2
    [[ -n $WRK_RPS ]] || {
        cat "$out" >&2
        die "could not read wrk's output for $1"
    }
    kill -0 "$FOLIO_PID" 2>/dev/null || {
        show_log "$TMP/serve.log"
        die "folio died under load"
    }
}
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { printf "%.0f", v[int((NR + 1) / 2)] }'; }

# sample_rss PID FILE: append PID's VmRSS (kB) to FILE every 0.5 s until killed
# or PID is gone.
sample_rss() {
    while sleep 0.5; do
        awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" >>"$2" 2>/dev/null || return 0
    done
}
RSS_LOG=$TMP/rss-under-load.txt
: >"$RSS_LOG"
sample_rss "$FOLIO_PID" "$RSS_LOG" &
SAMPLER_PID=$!

# start_limit FILE: the reference serving FILE's bytes on a free port (LIMIT_URL).
start_limit() {
    local port
    port=$(free_port)
    BODY_FILE=$1 PORT=$port "$LIMIT_BIN" >"$TMP/limit.log" 2>&1 &
    LIMIT_PID=$!
    LIMIT_URL="http://127.0.0.1:$port/"
    for _ in $(seq 1 100); do
        curl -fsS -o /dev/null --max-time 2 "$LIMIT_URL" 2>/dev/null && return 0
        sleep 0.1
    done
    show_log "$TMP/limit.log"
    die "the reference did not answer on port $port"
}
stop_limit() {
    kill "$LIMIT_PID" 2>/dev/null || true
    wait "$LIMIT_PID" 2>/dev/null || true
    LIMIT_PID=""
}

HIT_TARGET=0.80
HIT_ROUTES=(/ /cache "/books?page=3")
declare -a HIT_ROWS
CASE=0
HIT_FAILS=0
echo "== hit path: folio vs the reference serving the same bytes; $ROUNDS rounds of wrk -t$THREADS -c$CONNECTIONS -d${SECONDS_PER_ROUTE}s each"
for route in "${HIT_ROUTES[@]}"; do
    for encoding in identity gzip; do
        CASE=$((CASE + 1))
        body=$TMP/body-$CASE
        warm "$route" "$encoding" "$body"
        [[ $PROBE_STATE == HIT ]] || echo "   warning: $route ($encoding) is not served from the cache; its figures mean little" >&2
        want=""
        [[ $encoding == gzip ]] && want=gzip
        [[ $PROBE_CODING == "$want" ]] ||
            die "$route with Accept-Encoding $encoding came with Content-Encoding '${PROBE_CODING}'"
        bytes=$(wc -c <"$body" | tr -d ' ')
        start_limit "$body"
        folio_runs=() limit_runs=()
        for round in $(seq 1 "$ROUNDS"); do
            # Alternate who goes first, so that neither always gets the
            # quieter moment.
            if ((round % 2)); then
                run_wrk "$BASE$route" "$encoding"
                folio_runs+=("$WRK_RPS")
                run_wrk "$LIMIT_URL" identity
                limit_runs+=("$WRK_RPS")
            else
                run_wrk "$LIMIT_URL" identity
                limit_runs+=("$WRK_RPS")
                run_wrk "$BASE$route" "$encoding"
                folio_runs+=("$WRK_RPS")
            fi
        done
        stop_limit
        folio_median=$(median "${folio_runs[@]}")
        limit_median=$(median "${limit_runs[@]}")
        ratio=$(awk -v a="$folio_median" -v b="$limit_median" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }')
        verdict=$(awk -v r="$ratio" -v t="$HIT_TARGET" 'BEGIN { print (r + 0 >= t) ? "PASS" : "FAIL" }')
        [[ $verdict == PASS ]] || HIT_FAILS=$((HIT_FAILS + 1))
        printf '   %-15s %-8s %7s B  folio %s  limit %s  -> medians %s / %s = %s %s\n' "$route" "$encoding" "$bytes" \
            "$(printf '%.0f ' "${folio_runs[@]}")" "$(printf '%.0f ' "${limit_runs[@]}")" \
            "$folio_median" "$limit_median" "$ratio" "$verdict"
        HIT_ROWS+=("| \`$route\` | $encoding | $bytes | $folio_median | $limit_median | $ratio | $verdict |")
    done
done

echo "== every other route, once each (wrk -t$THREADS -c$CONNECTIONS -d${SECONDS_PER_ROUTE}s)"
declare -a OTHER_ROWS
for route in /top/uncached /sample /books/1 /api/top-books "/api/books?page=3"; do
    encodings=(identity)
    case $route in /top/uncached | /sample) encodings=(identity gzip) ;; esac
    for encoding in "${encodings[@]}"; do
        run_wrk "$BASE$route" "$encoding"
        printf '   %-20s %-8s %8.0f req/s, p50 %s ms, p99 %s ms\n' "$route" "$encoding" "$WRK_RPS" "$WRK_P50" "$WRK_P99"
        OTHER_ROWS+=("| \`$route\` | $encoding | $(printf '%.0f' "$WRK_RPS") | $WRK_P50 | $WRK_P99 |")
    done
done

sleep 2
kill "$SAMPLER_PID" 2>/dev/null || true
wait "$SAMPLER_PID" 2>/dev/null || true
SAMPLER_PID=""
AFTER_KB=$(awk '/^VmRSS:/ { print $2 }' "/proc/$FOLIO_PID/status" 2>/dev/null || true)
PEAK_KB=$(sort -n "$RSS_LOG" | tail -n 1)
RSS_SAMPLES=$(wc -l <"$RSS_LOG" | tr -d ' ')
MEM_TARGET_MB=50
mb() { awk -v k="$1" 'BEGIN { if (k == "") print "?"; else printf "%.1f", k * 1024 / 1e6 }'; }
mem_verdict() { awk -v k="$1" -v t="$MEM_TARGET_MB" 'BEGIN { if (k == "") print "n/a"; else print (k * 1024 < t * 1e6) ? "PASS" : "FAIL" }'; }

echo
echo "== results"
echo "   hit path (target >= $HIT_TARGET of the reference, same bytes): $((CASE - HIT_FAILS)) of $CASE cases PASS"
echo "   resident memory (target < $MEM_TARGET_MB MB): peak under load $(mb "$PEAK_KB") MB $(mem_verdict "$PEAK_KB") ($RSS_SAMPLES samples 0.5 s apart), after the load $(mb "$AFTER_KB") MB $(mem_verdict "$AFTER_KB")"
echo "   seed: ${SEED_SECS} s"

# --- README table --------------------------------------------------------------
CPU=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
echo
echo "== markdown for the README"
echo
echo "| cached route | encoding | body bytes | folio req/s | reference req/s | ratio | ≥ $HIT_TARGET |"
echo "| --- | --- | ---: | ---: | ---: | ---: | --- |"
printf '%s\n' "${HIT_ROWS[@]}"
echo
echo "| route | encoding | req/s | p50 (ms) | p99 (ms) |"
echo "| --- | --- | ---: | ---: | ---: |"
printf '%s\n' "${OTHER_ROWS[@]}"
echo
echo "| resident memory (VmRSS) | target | measured | result |"
echo "| --- | ---: | ---: | --- |"
echo "| peak, during all of the load above | < $MEM_TARGET_MB MB | $(mb "$PEAK_KB") MB | $(mem_verdict "$PEAK_KB") |"
echo "| 2 s after the load | < $MEM_TARGET_MB MB | $(mb "$AFTER_KB") MB | $(mem_verdict "$AFTER_KB") |"
echo
echo "_${VERSION} (${COMMIT}), release build; ${BACKEND}, ${CACHE_NAME} cache, $BOOKS books, $RATINGS ratings; medians of $ROUNDS alternating rounds of \`wrk -t${THREADS} -c${CONNECTIONS} -d${SECONDS_PER_ROUTE}s\` on loopback; reference: \`../shared/bench/limit\` serving the same bytes; $(nproc) cores${CPU:+ ($CPU)}; $(date -u +%Y-%m-%d)._"

# --- the change feed -------------------------------------------------------------
if [[ ${BENCH_FEED:-on} != off ]]; then
    echo
    echo "== the change feed: outside writes seen on two instances, and the seed's overhead"
    cargo build --release --quiet --example feed_bench
    feed_redis=$REDIS
    [[ $feed_redis == none ]] && feed_redis=redis://127.0.0.1:6379
    FOLIO_BIN="$BIN" REDIS_URL="$feed_redis" "$TARGET_DIR/release/examples/feed_bench"
fi
