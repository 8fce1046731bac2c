#!/usr/bin/env bash
# The bulk paths' figures: `folio import` of 100,000 rows (folio's export
# format and a Goodreads library export) into an empty SQLite database and
# again (every row matched, nothing written), and `folio seed --books 10000
# --ratings 500000 --reset` on SQLite and PostgreSQL. Release build; each
# figure is what the command itself reports.
#
#   scripts/import-bench.sh            # IMPORT_ROWS=100000, SEED_RUNS=3
#   IMPORT_PG_URL=postgres://postgres@127.0.0.1:5432/folio_import_bench scripts/import-bench.sh
#                                       # that database is emptied
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${IMPORT_ROWS:-100000}
RUNS=${SEED_RUNS:-3}
PG_URL=${IMPORT_PG_URL:-postgres://postgres@127.0.0.1:5432/folio_import_bench}
cargo build --release --quiet
FOLIO=$PWD/target/release/folio
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
export RUST_LOG=warn

echo "== a catalogue of $ROWS books, exported"
DATABASE_URL=$WORK/source.db "$FOLIO" seed --books "$ROWS" --ratings 0 >/dev/null
DATABASE_URL=$WORK/source.db "$FOLIO" export --output "$WORK/folio.csv"
# The same books as a Goodreads library export: its header, `="…"` ISBNs.
# (The seed's titles and authors hold no commas or quotes.)
awk -F, 'NR == 1 {
    print "Book Id,Title,Author,Author l-f,Additional Authors,ISBN,ISBN13,My Rating,Average Rating,Publisher,Binding,Number of Pages,Year Published,Original Publication Year,Date Read,Date Added,Bookshelves,Bookshelves with positions,Exclusive Shelf,My Review,Spoiler,Private Notes,Read Count,Owned Copies"
    next
  }
  { printf "%d,%s,%s,,,=\"\",=\"%s\",0,0,,Paperback,,%s,%s,,2024/01/01,,,to-read,,,,0,0\n", NR - 1, $1, $2, $3, $4, $4 }' \
  "$WORK/folio.csv" >"$WORK/goodreads.csv"
wc -l "$WORK/folio.csv" "$WORK/goodreads.csv"

for format in folio goodreads; do
  echo "== folio import ($format format, $ROWS rows) into an empty SQLite database, then again"
  rm -f "$WORK/target.db"*
  DATABASE_URL=$WORK/target.db "$FOLIO" migrate
  DATABASE_URL=$WORK/target.db "$FOLIO" import "$WORK/$format.csv" | tail -1
  DATABASE_URL=$WORK/target.db "$FOLIO" import "$WORK/$format.csv" | tail -1
done

echo "== folio import (folio format) into an empty PostgreSQL database ($PG_URL), then again"
psql "${PG_URL%/*}/postgres" -qc "DROP DATABASE IF EXISTS ${PG_URL##*/}" -c "CREATE DATABASE ${PG_URL##*/}"
DATABASE_URL=$PG_URL "$FOLIO" import "$WORK/folio.csv" | tail -1
DATABASE_URL=$PG_URL "$FOLIO" import "$WORK/folio.csv" | tail -1

for backend in sqlite postgres; do
  url=$WORK/seed.db
  [ "$backend" = postgres ] && url=$PG_URL
  echo "== folio seed --books 10000 --ratings 500000 --reset on $backend, $RUNS runs"
  for _ in $(seq "$RUNS"); do
    DATABASE_URL=$url RUST_LOG=info "$FOLIO" seed --books 10000 --ratings 500000 --reset 2>&1 \
      | sed 's/\x1b\[[0-9;]*m//g' | sed -n 's/.*seconds="\([0-9.]*\)".*/\1 s/p'
  done
done
psql "${PG_URL%/*}/postgres" -qc "DROP DATABASE IF EXISTS ${PG_URL##*/}"
