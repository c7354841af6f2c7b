#!/usr/bin/env bash
# Starts or stops a throw-away PostgreSQL 15 cluster on 127.0.0.1 for tests and benchmarks.
#   scripts/postgres.sh start DIR   -> prints the admin connection string on stdout
#   scripts/postgres.sh stop DIR
# The cluster lives in DIR (created, owned by the postgres user when run as root); fsync is off unless PG_DURABLE=1.
set -euo pipefail
cmd=${1:?usage: postgres.sh start|stop DIR}
dir=${2:?usage: postgres.sh start|stop DIR}
bin=${PG_BIN:-/usr/lib/postgresql/15/bin}
[ -x "$bin/pg_ctl" ] || { echo "PostgreSQL binaries not found in $bin (set PG_BIN)" >&2; exit 1; }

as_owner() {
  if [ "$(id -u)" = "0" ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$cmd" in
  start)
    mkdir -p "$dir"
    [ "$(id -u)" = "0" ] && chown postgres:postgres "$dir"
    if [ ! -f "$dir/data/PG_VERSION" ]; then
      as_owner "$bin/initdb" -D "$dir/data" --auth=trust --no-sync -U postgres -E UTF8 >"$dir/initdb.log" 2>&1
    fi
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
    # PG_DURABLE=1 keeps PostgreSQL's durable defaults (benchmarks); tests trade durability for speed.
    fast="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    [ "${PG_DURABLE:-0}" = "1" ] && fast=""
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w start \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $dir $fast -c max_connections=200" >/dev/null
    echo "$port" >"$dir/port"
    echo "Host=127.0.0.1;Port=$port;Username=postgres;Database=postgres;Include Error Detail=true"
    ;;
  stop)
    if [ -f "$dir/data/postmaster.pid" ]; then
      as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    ;;
  *) echo "unknown command $cmd" >&2; exit 2 ;;
esac
