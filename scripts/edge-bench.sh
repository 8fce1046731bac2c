#!/usr/bin/env bash
# The edge tier measured: folio alone vs folio behind Varnish (the shipped
# deploy/varnish/folio.vcl), under a Zipf workload, and what a write purges.
#
# Usage: scripts/edge-bench.sh [--help]
#
# What it does:
#   1. cargo build --release; seeds a fresh SQLite database with EDGE_BOOKS
#      books (default 2000) and 20 ratings per book;
#   2. starts `folio serve` (Redis at redis://127.0.0.1:6379 under a prefix of
#      its own, FOLIO_EDGE_PURGE_URLS pointing at the Varnish below) and
#      varnishd on free loopback ports;
#   3. loads with wrk (-t2 -c16, EDGE_SECONDS each, default 10) a Zipf
#      workload (s = 1) over /api/books/{id} for every book and
#      /books?page=N for every catalogue page (scripts/zipf.lua): first folio
#      alone, then through Varnish from a cold edge, and prints req/s of
#      both, their ratio, Varnish's hit ratio (cache_hit / (hit + miss)),
#      and the Redis calls per request folio alone made (/metrics);
#   4. asks Varnish how many objects one book write purges (PURGE with the
#      write's keys, `books book:1`, from folio's address);
#   5. on exit stops what it started (by PID) and clears its Redis keys.
# Needs: cargo, curl, wrk, varnishd with varnish-modules (xkey).
# Loopback only.
set -euo pipefail

case "${1:-}" in
"") ;;
-h | --help)
    sed -n '2,/^set -euo pipefail$/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'
    exit 0
    ;;
*)
    echo "edge-bench.sh: unexpected argument: $1 (try --help)" >&2
    exit 2
    ;;
esac

BOOKS=${EDGE_BOOKS:-2000}
SECS=${EDGE_SECONDS:-10}
[[ $BOOKS =~ ^[0-9]{1,6}$ && $BOOKS -ge 1 ]] || { echo "EDGE_BOOKS: a whole number from 1" >&2; exit 2; }
[[ $SECS =~ ^[0-9]{1,4}$ && $SECS -ge 1 ]] || { echo "EDGE_SECONDS: a whole number from 1" >&2; exit 2; }
for tool in cargo curl wrk varnishd varnishstat python3; do
    command -v "$tool" >/dev/null || { echo "edge-bench.sh: $tool is missing (scripts/test.sh installs varnish, varnish-modules and wrk)" >&2; exit 1; }
done

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release/folio
TMP=$(mktemp -d "${TMPDIR:-/tmp}/folio-edge-bench.XXXXXX")
FOLIO_PID="" VARNISH_PID=""
cleanup() {
    set +e
    for pid in $VARNISH_PID $FOLIO_PID; do
        kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    done
    (cd "$TMP" && timeout 20 "$BIN" cache clear >/dev/null 2>&1)
    rm -rf -- "$TMP"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() { # URL
    for _ in $(seq 1 300); do curl -fs -o /dev/null "$1" && return 0; sleep 0.1; done
    echo "edge-bench.sh: $1 does not answer" >&2
    exit 1
}

cargo build --release --quiet
FOLIO_PORT=$(free_port)
EDGE_PORT=$(free_port)
export DATABASE_URL=$TMP/edge.db REDIS_URL=redis://127.0.0.1:6379 FOLIO_CACHE_PREFIX=edge-bench-$$
export FOLIO_BIND=127.0.0.1:$FOLIO_PORT FOLIO_EDGE_PURGE_URLS=http://127.0.0.1:$EDGE_PORT RUST_LOG=warn
(cd "$TMP" && "$BIN" seed --books "$BOOKS" --ratings $((BOOKS * 20)) --reset >/dev/null)

sed "s/\.port = \"8080\";/.port = \"$FOLIO_PORT\";/" deploy/varnish/folio.vcl >"$TMP/folio.vcl"
varnishd -F -n "$TMP/varnish" -a "127.0.0.1:$EDGE_PORT" -f "$TMP/folio.vcl" -s malloc,256m -T none -j none \
    >"$TMP/varnishd.log" 2>&1 &
VARNISH_PID=$!
(cd "$TMP" && exec "$BIN" serve --no-demo-data >"$TMP/folio.log" 2>&1) &
FOLIO_PID=$!
wait_http "http://127.0.0.1:$FOLIO_PORT/healthz"
wait_http "http://127.0.0.1:$EDGE_PORT/healthz"
PAGES=$(((BOOKS + 49) / 50))
export ZIPF_BOOKS=$BOOKS ZIPF_PAGES=$PAGES

rps() { awk '/Requests\/sec/ { print $2 }'; }
load() { wrk -t2 -c16 -d"${SECS}s" --timeout 10s -s scripts/zipf.lua "$1"; }
hits() { varnishstat -n "$TMP/varnish" -1 -f MAIN.cache_hit -f MAIN.cache_miss | awk '{ print $1 "=" $2 }'; }

# Warm folio's own tiers once, so both runs start from folio's hit path.
wrk -t1 -c4 -d2s -s scripts/zipf.lua "http://127.0.0.1:$FOLIO_PORT" >/dev/null
redis_calls() { curl -s "http://127.0.0.1:$FOLIO_PORT/metrics" | awk '/^folio_redis_roundtrip_seconds_count/ { print $2 }'; }
R0=$(redis_calls)
ALONE=$(load "http://127.0.0.1:$FOLIO_PORT" | tee "$TMP/alone.txt" | rps)
R1=$(redis_calls)
ALONE_REQUESTS=$(awk '/requests in/ { print $1 }' "$TMP/alone.txt")
EDGE=$(load "http://127.0.0.1:$EDGE_PORT" | tee "$TMP/edge.txt" | rps)
eval "$(hits | sed 's/MAIN\.//')"
PURGED=$(curl -s -X PURGE -H 'xkey: books book:1' "http://127.0.0.1:$EDGE_PORT/" | sed -n 's/.*Purged \([0-9]*\).*/\1/p' | head -1)

echo "Zipf (s=1) over $BOOKS /api/books/{id} and $PAGES /books?page=N, wrk -t2 -c16 -d${SECS}s, loopback:"
echo "| path | req/s |"
echo "|---|---|"
echo "| folio alone (Redis + in-process tier) | $ALONE |"
echo "| through Varnish (cold at start) | $EDGE |"
awk -v a="$ALONE" -v e="$EDGE" 'BEGIN { printf "Varnish / folio alone: %.2f\n", e / a }'
awk -v r0="${R0:-0}" -v r1="${R1:-0}" -v n="$ALONE_REQUESTS" 'BEGIN { printf "Redis calls per request, folio alone: %.3f\n", (r1 - r0) / n }'
awk -v h="$cache_hit" -v m="$cache_miss" 'BEGIN { printf "Varnish hit ratio: %.4f (%d hits, %d misses)\n", h / (h + m), h, m }'
echo "one book write purges ${PURGED:-?} objects at the edge (the book's JSON, every catalogue page, the chart pages when cached)"
