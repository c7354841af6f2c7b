#!/usr/bin/env bash
# Adds a migration named $1 for every provider: SQLite, PostgreSQL and SQL Server (docs/adr/0002).
set -euo pipefail
name=${1:?usage: scripts/add-migration.sh MigrationName}
cd "$(dirname "$0")/.."
dotnet tool restore >/dev/null
for pair in Sqlite:SqliteDashboardContext PostgreSql:PostgresDashboardContext SqlServer:SqlServerDashboardContext; do
  dir=${pair%%:*}; ctx=${pair##*:}
  dotnet ef migrations add "$name" --context "$ctx" --project src/Dashboard.Core --startup-project src/Dashboard \
    --output-dir "Data/Migrations/$dir" --namespace "Dashboard.Data.Migrations.$dir"
  # With --namespace the tool writes the model snapshot under a folder named after the namespace; move it home.
  if [ -d "src/Dashboard.Core/Dashboard/Data/Migrations/$dir" ]; then
    mv "src/Dashboard.Core/Dashboard/Data/Migrations/$dir/"*.cs "src/Dashboard.Core/Data/Migrations/$dir/"
  fi
done
rm -rf src/Dashboard.Core/Dashboard
