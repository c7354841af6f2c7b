#!/usr/bin/env bash
# Runs every test of Dashboard: unit, database, API and replay tests, on SQLite and on a real PostgreSQL
# server, the artifact tests on a local folder and on an S3 emulator (moto), both started by this script on
# free loopback ports and stopped again, the dashboard's bUnit tests and its browser journeys in Debian's Chromium
# (installed here when missing, while the build runs). Prints "N passed, M failed" last.
# A test run in which a service-dependent test could not run fails (nothing is silently skipped).
set -uo pipefail
cd "$(dirname "$0")"

work=$(mktemp -d "${TMPDIR:-/tmp}/dashboard-test.XXXXXX")
# The PostgreSQL cluster runs as the postgres user when this script runs as root: it must reach the folder.
chmod 755 "$work"
cleanup() {
  scripts/postgres.sh stop "$work/pg" >/dev/null 2>&1 || true
  scripts/s3-emulator.sh stop "$work/s3" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

# The browser journeys drive Debian's Chromium (Playwright's own browser download is never used). Installing it
# takes about a minute, so it runs beside the build.
chromium="${DASHBOARD_CHROMIUM:-/usr/bin/chromium}"
chromium_pid=""
if [ ! -x "$chromium" ]; then
  echo "== installing Chromium (apt-get install -y chromium), beside the build"
  as_root=()
  if [ "$(id -u)" -ne 0 ]; then as_root=(sudo -n); fi
  ( "${as_root[@]}" apt-get update -qq && DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq chromium ) \
    >"$work/chromium-install.log" 2>&1 &
  chromium_pid=$!
fi

echo "== restore and build"
dotnet tool restore >/dev/null
if ! dotnet build Dashboard.sln -c Debug --nologo -v quiet -clp:ErrorsOnly; then
  echo "build failed"
  echo "0 passed, 1 failed"
  exit 1
fi

if [ -n "$chromium_pid" ] && ! wait "$chromium_pid"; then
  echo "could not install Chromium (apt-get install -y chromium, as root); the browser tests need it:"
  tail -n 20 "$work/chromium-install.log"
  echo "0 passed, 1 failed"
  exit 1
fi
if [ ! -x "$chromium" ]; then
  echo "Chromium is not at $chromium (set DASHBOARD_CHROMIUM to its path); the browser tests need it"
  echo "0 passed, 1 failed"
  exit 1
fi

echo "== PostgreSQL"
if ! pg_url=$(scripts/postgres.sh start "$work/pg"); then
  echo "could not start PostgreSQL (scripts/postgres.sh); see $work/pg/server.log"
  echo "0 passed, 1 failed"
  exit 1
fi
export DASHBOARD_TEST_POSTGRES="$pg_url"
export DASHBOARD_REQUIRE_POSTGRES=1
echo "PostgreSQL on $(cat "$work/pg/port")"

echo "== S3 emulator"
if ! s3_url=$(scripts/s3-emulator.sh start "$work/s3"); then
  echo "could not start the S3 emulator (scripts/s3-emulator.sh: python3 -m moto.server)"
  tail -n 20 "$work/s3/server.log" 2>/dev/null
  echo "0 passed, 1 failed"
  exit 1
fi
export DASHBOARD_TEST_S3="$s3_url"
export DASHBOARD_REQUIRE_S3=1
echo "S3 emulator on $(cat "$work/s3/port")"

echo "== tests"
# Minimal console verbosity: passing tests stay quiet, a failing one prints its message and stack trace.
dotnet test Dashboard.sln --no-build --nologo -v quiet --logger "console;verbosity=minimal" "$@" 2>&1 | tee "$work/test.log"
status=${PIPESTATUS[0]}

passed=0; failed=0; skipped=0; assemblies=0
while read -r line; do
  f=$(sed -E 's/.*Failed: *([0-9]+).*/\1/' <<<"$line")
  p=$(sed -E 's/.*Passed: *([0-9]+).*/\1/' <<<"$line")
  s=$(sed -E 's/.*Skipped: *([0-9]+).*/\1/' <<<"$line")
  passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s)); assemblies=$((assemblies + 1))
done < <(grep -E '(Passed|Failed)! +- Failed: ' "$work/test.log")

if [ "$assemblies" -lt 2 ]; then
  echo "expected results from every test assembly, got $assemblies"
  failed=$((failed + 1))
fi
if [ "$skipped" -gt 0 ]; then
  echo "$skipped test(s) skipped: every test must run here"
  failed=$((failed + skipped))
fi
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  failed=1
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
