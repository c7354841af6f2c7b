#!/usr/bin/env bash
# Measures the tracking server over real HTTP against SQLite and PostgreSQL (docs/performance.md).
#   bench/run.sh                      full run, both providers (3-6 minutes on 2 cores)
#   bench/run.sh --quick              small sizes, to check that everything works (~1.5 min)
#   bench/run.sh --providers sqlite   one provider (sqlite, postgresql)
# Other flags go to the bench (defaults in bench/Dashboard.Bench/BenchOptions.cs):
#   --batches N --warmup N --warmup-seconds N --max-scenario-seconds N --repeats N --search-runs N
#   --search-iterations N --deep-page N --history-points N --history-iterations N --bulk-interval-iterations N
#   --skip-search
# Results: Markdown on stdout and in bench/results/<date>-<provider>.md (git-ignored). BENCH_KEEP=1 keeps the
# databases and server logs in /tmp/dashboard-bench.*. Everything started here (PostgreSQL cluster, servers) is
# stopped on exit, failure, Ctrl-C or TERM.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

command="bench/run.sh${*:+ $*}"
providers="sqlite,postgresql"
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --providers) providers=$2; shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done

echo "Building Release..." >&2
dotnet build src/Dashboard/Dashboard.csproj -c Release -nologo -v q -clp:ErrorsOnly >&2
dotnet build bench/Dashboard.Bench/Dashboard.Bench.csproj -c Release -nologo -v q -clp:ErrorsOnly >&2

work=$(mktemp -d /tmp/dashboard-bench.XXXXXX)
# The PostgreSQL cluster runs as the postgres user, which must reach its folder inside.
chmod 755 "$work"
pg_started=""
bench_pid=""
cleanup() {
  status=$?
  if [ -n "$bench_pid" ]; then kill "$bench_pid" 2>/dev/null || true; wait "$bench_pid" 2>/dev/null || true; fi
  if [ -f "$work/sqlite/server.pid" ]; then kill "$(cat "$work/sqlite/server.pid")" 2>/dev/null || true; fi
  if [ -f "$work/postgresql/server.pid" ]; then kill "$(cat "$work/postgresql/server.pid")" 2>/dev/null || true; fi
  if [ -n "$pg_started" ]; then scripts/postgres.sh stop "$work/pg" || true; fi
  if [ "${BENCH_KEEP:-0}" = "1" ]; then echo "Kept $work" >&2; else rm -rf "$work"; fi
  exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

pg_args=()
if [[ ",$providers," == *",postgresql,"* || ",$providers," == *",postgres,"* || ",$providers," == *",pg,"* ]]; then
  # Durable settings (fsync on), as in production and as SQLite runs, so the two compare fairly.
  pg_started=1
  url=$(PG_DURABLE=1 scripts/postgres.sh start "$work/pg")
  pg_args=(--pg-admin "$url")
fi

# What was measured: the commit, and whether the server's sources differ from it (a patch being tried, say).
revision="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
if ! git diff --quiet HEAD -- src 2>/dev/null || [ -n "$(git ls-files --others --exclude-standard -- src 2>/dev/null)" ]; then
  revision="$revision with uncommitted changes in src/"
fi
echo "Load average before: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores" >&2
# In the background and waited for, so that a TERM or INT to this script runs the cleanup at once (bash runs traps
# only between commands) and stops the bench, which stops its servers.
dotnet bench/Dashboard.Bench/bin/Release/net10.0/Dashboard.Bench.dll \
  --server-dll src/Dashboard/bin/Release/net10.0/Dashboard.dll \
  --work "$work" --results bench/results --providers "$providers" \
  --command "$command" --revision "$revision" \
  "${pg_args[@]}" "${args[@]}" &
bench_pid=$!
wait "$bench_pid"
rc=$?
bench_pid=""
exit $rc
