# syntax=docker/dockerfile:1
#
# folio in a container: a release build on Debian bookworm, run as a non-root
# user from /data (where the default SQLite file, folio.db, is written).
#
#   docker build -t folio .
#   docker run --rm -p 8080:8080 folio                      # SQLite + in-process cache
#   docker run --rm -p 8080:8080 -e DATABASE_URL=postgres://... -e REDIS_URL=redis://... folio
#
# docker-compose.yml runs it with PostgreSQL and Redis.

# ---- build ----------------------------------------------------------------------
FROM rust:1-bookworm AS builder

# diesel's PostgreSQL backend links libpq; SQLite is bundled (built with cc).
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpq-dev \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# Dependencies first, in their own layer: it is rebuilt only when Cargo.toml
# or Cargo.lock change, not on every edit of the sources.
COPY Cargo.toml Cargo.lock ./
RUN mkdir -p src/bin/bench \
    && echo 'fn main() {}' > src/main.rs \
    && echo 'fn main() {}' > src/bin/bench/main.rs \
    && touch src/lib.rs \
    && cargo build --release --locked --bin folio \
    && rm -rf src

# The crate itself: templates, the stylesheet and the migrations are compiled in.
COPY build.rs ./
COPY build ./build
COPY src ./src
COPY templates ./templates
COPY static ./static
COPY migrations ./migrations
# COPY keeps the files' own times, which may be older than the placeholder
# build above: touch the crate roots so cargo rebuilds folio for real.
RUN touch src/main.rs src/lib.rs \
    && cargo build --release --locked --bin folio \
    && install -m 0755 target/release/folio /usr/local/bin/folio

# ---- run ------------------------------------------------------------------------
FROM debian:bookworm-slim

RUN apt-get update \
    && apt-get install -y --no-install-recommends libpq5 ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 folio \
    && useradd --system --uid 10001 --gid folio --home-dir /data --shell /usr/sbin/nologin folio \
    && mkdir -p /data \
    && chown folio:folio /data

COPY --from=builder /usr/local/bin/folio /usr/local/bin/folio

USER folio
WORKDIR /data
ENV FOLIO_BIND=0.0.0.0:8080
EXPOSE 8080
CMD ["folio", "serve"]
