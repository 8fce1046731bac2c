#!/usr/bin/env bash
# Lighthouse and axe on folio, as a reader and an admin on a phone would meet it.
#
# Usage: scripts/audit.sh [--help]
#
# What it does:
#   1. installs Lighthouse 12, axe-core 4 and puppeteer-core from npm into
#      $AUDIT_NODE_DIR (default <target>/audit-node; once, then reused);
#   2. builds folio (debug, or release with AUDIT_PROFILE=release), starts it on
#      a free loopback port over a fresh SQLite file with the demo data (2,000
#      books, 60,000 ratings) and the in-process cache, and creates an admin;
#   3. Lighthouse (mobile: its default Moto G Power emulation and throttling) in
#      Debian's Chromium on /, /books, a book page, a search and /admin/login;
#      prints each page's four category scores and the failing audits of any
#      category under $AUDIT_MIN (default 95). Reports: <temp dir>/*.json
#      (kept with AUDIT_KEEP=1);
#   4. axe-core (every rule, WCAG 2.x A/AA and best practices) on the reader
#      pages and, signed in, every admin page, at 390 px and 1,100 px wide;
#      prints each page's violations;
#   5. stops folio and removes its temp dir.
# Exit status: 0 when every score is at least $AUDIT_MIN and axe finds no
# violation, 1 otherwise, 2 when the audit itself could not run.
#
# Environment:
#   AUDIT_MIN        the lowest acceptable Lighthouse score (default 95)
#   AUDIT_PROFILE    debug (default) or release
#   AUDIT_NODE_DIR   where npm installs the tools (default <target>/audit-node)
#   CHROMIUM         the browser (default /usr/bin/chromium)
#   AUDIT_KEEP       1 keeps the temp dir with the reports
#
# Needs: node and npm (Debian's nodejs and npm), chromium, curl, cargo.
# Not part of CI: it downloads from npm.
set -euo pipefail

usage() {
    sed -n '2,/^set -euo pipefail$/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'
}
case "${1:-}" in
"") ;;
-h | --help) usage; exit 0 ;;
*) echo "audit.sh: unexpected argument: $1 (try --help)" >&2; exit 2 ;;
esac

root="$(cd "$(dirname "$0")/.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
node_dir="${AUDIT_NODE_DIR:-$target/audit-node}"
min="${AUDIT_MIN:-95}"
profile="${AUDIT_PROFILE:-debug}"
export CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
for tool in node npm curl "$CHROMIUM"; do
    command -v "$tool" >/dev/null || { echo "audit.sh: $tool is missing (apt-get install nodejs npm chromium curl)" >&2; exit 2; }
done

# 1. The tools, pinned to their major versions.
if [ ! -x "$node_dir/node_modules/.bin/lighthouse" ] || [ ! -d "$node_dir/node_modules/puppeteer-core" ]; then
    echo "== installing lighthouse@12, axe-core@4, puppeteer-core into $node_dir"
    mkdir -p "$node_dir"
    (cd "$node_dir" && { [ -f package.json ] || npm init -y >/dev/null; } &&
        npm install --no-audit --no-fund --loglevel=error lighthouse@12 axe-core@4 puppeteer-core@24)
fi
cp "$root"/scripts/audit/*.mjs "$node_dir/"

# 2. folio.
work="$(mktemp -d)"
folio_pid=""
cleanup() {
    if [ -n "$folio_pid" ]; then kill "$folio_pid" 2>/dev/null || true; wait "$folio_pid" 2>/dev/null || true; fi
    if [ "${AUDIT_KEEP:-0}" = 1 ]; then echo "reports kept in $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
if [ "$profile" = release ]; then
    (cd "$root" && cargo build --release --quiet)
else
    (cd "$root" && cargo build --quiet)
fi
folio="$target/$profile/folio"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
export DATABASE_URL="$work/audit.db" FOLIO_BIND="127.0.0.1:$port" FOLIO_PUBLIC_URL="$base"
unset REDIS_URL
email="audit@example.com"
export FOLIO_ADMIN_PASSWORD="an audit password, long enough"
"$folio" migrate >"$work/migrate.log" 2>&1
"$folio" admin create --email "$email" >"$work/admin.log" 2>&1 </dev/null
"$folio" serve >"$work/folio.log" 2>&1 &
folio_pid=$!
for _ in $(seq 1 600); do
    curl -fs "$base/healthz" >/dev/null 2>&1 && break
    kill -0 "$folio_pid" 2>/dev/null || { tail -20 "$work/folio.log" >&2; exit 2; }
    sleep 0.2
done
curl -fs "$base/healthz" >/dev/null || { echo "audit.sh: folio did not start" >&2; tail -20 "$work/folio.log" >&2; exit 2; }
# Warm the cached pages (a first visit would measure the computation).
for path in / /books /books/1 "/search?q=the" /robots.txt; do curl -fs -o /dev/null "$base$path"; done

# 3. Lighthouse.
echo "== Lighthouse (mobile), minimum $min"
pages=(/ /books /books/1 "/search?q=the" /admin/login)
reports=()
i=0
for path in "${pages[@]}"; do
    i=$((i + 1))
    out="$work/lighthouse-$i.json"
    "$node_dir/node_modules/.bin/lighthouse" "$base$path" --quiet --output=json --output-path="$out" \
        --chrome-path="$CHROMIUM" --chrome-flags="--headless=new --no-sandbox --disable-dev-shm-usage" \
        --only-categories=performance,accessibility,best-practices,seo >/dev/null 2>"$work/lighthouse-$i.log" ||
        { echo "lighthouse failed on $path:" >&2; tail -5 "$work/lighthouse-$i.log" >&2; exit 2; }
    reports+=("$out")
done
status=0
node "$node_dir/scores.mjs" "$min" "${reports[@]}" || status=1

# 4. axe.
echo "== axe-core"
node "$node_dir/axe.mjs" "$base" "$email" "$FOLIO_ADMIN_PASSWORD" \
    / /books "/books?sort=rating&page=2" /books/1 "/search?q=the" "/search?q=zzzzqq" /cache /nowhere \
    /admin /admin/books "/admin/books?q=the" /admin/books/new /admin/books/1/edit /admin/books/1/delete \
    /admin/cache /admin/logout || status=1
exit "$status"
