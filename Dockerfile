# Multi-stage build of the one deployable. The runtime image runs as a non-root user and keeps its SQLite
# database and artifacts in /data (mount a volume there).
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
COPY src/Dashboard.Core/Dashboard.Core.csproj src/Dashboard.Core/
COPY src/Dashboard/Dashboard.csproj src/Dashboard/
RUN dotnet restore src/Dashboard/Dashboard.csproj
COPY src/ src/
RUN dotnet publish src/Dashboard/Dashboard.csproj -c Release -o /app --no-restore

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
WORKDIR /app
COPY --from=build /app /app
# The image's non-root user (uid 1654) owns /data, where the embedded database lives.
RUN mkdir /data && chown 1654:1654 /data
USER 1654
ENV ConnectionStrings__Dashboard="Data Source=/data/dashboard.db"
# Inside the container the server must listen on all interfaces to be reachable through a published port, and
# Local mode (no sign-in) refuses that: run the image with sign-in configured (Dashboard__Auth__Mode=Oidc and
# Dashboard__Auth__Oidc__*; docs/operations.md). Without it the server exits at once and says so.
ENV Urls=http://+:5000
EXPOSE 5000
VOLUME ["/data"]
# Liveness: GET /health answers OK.
ENTRYPOINT ["dotnet", "/app/Dashboard.dll"]
