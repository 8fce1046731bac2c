#!/usr/bin/env bash
# Runs folio's whole test suite on a fresh machine: installs what the tests
# need, starts Redis and PostgreSQL when they do not answer, then `cargo test`.
# Extra arguments go to `cargo test` (for example a test name).
set -euo pipefail
cd "$(dirname "$0")/.."

need_packages=()
# redis-server also runs the Sentinel test's sentinels (`redis-server … --sentinel`).
command -v redis-server >/dev/null || need_packages+=(redis-server)
command -v pg_ctlcluster >/dev/null || need_packages+=(postgresql)
command -v pg_isready >/dev/null || need_packages+=(postgresql-client)
dpkg -s libpq-dev >/dev/null 2>&1 || need_packages+=(libpq-dev)
command -v cc >/dev/null || need_packages+=(build-essential)
# The end-to-end test drives Debian's headless Chromium through chromedriver.
command -v chromium >/dev/null || need_packages+=(chromium)
command -v chromedriver >/dev/null || need_packages+=(chromium-driver)
# The edge tests run real Varnish (with varnish-modules' xkey) and nginx,
# each started by the tests themselves on free loopback ports.
new_services=()
command -v varnishd >/dev/null || { need_packages+=(varnish); new_services+=(varnish varnishncsa); }
dpkg -s varnish-modules >/dev/null 2>&1 || need_packages+=(varnish-modules)
command -v nginx >/dev/null || { need_packages+=(nginx-light); new_services+=(nginx); }
command -v wrk >/dev/null || need_packages+=(wrk)
if ((${#need_packages[@]})); then
    echo "test.sh: installing ${need_packages[*]}"
    if [[ $(id -u) -eq 0 ]]; then SUDO=(); else SUDO=(sudo); fi
    "${SUDO[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq "${need_packages[@]}" >/dev/null
    # Where systemd runs, Debian starts what it installs (Varnish on :6081,
    # nginx on :80): the tests start their own, so the ones just installed go.
    if [[ -d /run/systemd/system ]] && ((${#new_services[@]})); then
        "${SUDO[@]}" systemctl disable --now "${new_services[@]}" >/dev/null 2>&1 || true
    fi
fi

# The diesel CLI: the change feed's tests run the README's newcomer path with it.
if ! command -v diesel >/dev/null && [[ ! -x "${CARGO_HOME:-$HOME/.cargo}/bin/diesel" ]]; then
    echo "test.sh: installing the diesel CLI (cargo install diesel_cli)"
    cargo install diesel_cli --locked --quiet --no-default-features --features sqlite-bundled,postgres
fi
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

# Redis on 127.0.0.1:6379, keeping nothing on disk.
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
    echo "test.sh: starting Redis"
    mkdir -p /var/lib/redis /var/log/redis
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
        --dir /var/lib/redis --logfile /var/log/redis/ci.log
fi

# PostgreSQL on 127.0.0.1:5432 with trust auth for user postgres.
if ! pg_isready -h 127.0.0.1 -p 5432 -q; then
    echo "test.sh: starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start
fi

for _ in $(seq 1 60); do
    if redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && pg_isready -h 127.0.0.1 -p 5432 -q; then
        break
    fi
    sleep 0.5
done
redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null || { echo "test.sh: Redis does not answer on 127.0.0.1:6379" >&2; exit 1; }
pg_isready -h 127.0.0.1 -p 5432 -q || { echo "test.sh: PostgreSQL does not answer on 127.0.0.1:5432" >&2; exit 1; }

cargo test --all-targets "$@"
