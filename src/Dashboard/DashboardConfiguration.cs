using Dashboard.Artifacts;
using Dashboard.Data;

namespace Dashboard;

/// <summary>Reads the configuration contract of docs (appsettings.example.json lists every key).</summary>
public static class DashboardConfiguration
{
    public static DatabaseOptions ReadDatabase(IConfiguration configuration)
    {
        var providerText = configuration["Dashboard:Database:Provider"];
        var provider = DatabaseProvider.Sqlite;
        if (!string.IsNullOrEmpty(providerText) && !Enum.TryParse(providerText, ignoreCase: true, out provider))
        {
            throw new InvalidOperationException(
                $"Dashboard:Database:Provider is '{providerText}'; expected Sqlite, PostgreSql or SqlServer.");
        }
        var connectionString = configuration.GetConnectionString("Dashboard");
        if (string.IsNullOrEmpty(connectionString))
        {
            connectionString = provider == DatabaseProvider.Sqlite
                ? DatabaseOptions.DefaultSqliteConnectionString
                : throw new InvalidOperationException($"ConnectionStrings:Dashboard is required for the {provider} provider.");
        }
        return new DatabaseOptions
        {
            Provider = provider,
            ConnectionString = connectionString,
            MigrateOnStartup = configuration.GetValue("Dashboard:Database:MigrateOnStartup", true),
            StatisticsInterval = configuration.GetValue("Dashboard:Database:StatisticsInterval", TimeSpan.FromMinutes(1)) is var interval
                && interval > TimeSpan.Zero
                    ? interval
                    : throw new InvalidOperationException("Dashboard:Database:StatisticsInterval must be a positive time span such as 00:01:00."),
        };
    }

    /// <summary>
    /// <c>Dashboard:Artifacts:Root</c>: a folder (default data/artifacts, relative to the working directory) or
    /// <c>s3://bucket/prefix</c>, with <c>Dashboard:Artifacts:S3:*</c> (ServiceUrl, Region, ForcePathStyle,
    /// AccessKeyId, SecretAccessKey; all optional).
    /// </summary>
    public static ArtifactOptions ReadArtifacts(IConfiguration configuration)
    {
        var s3 = configuration.GetSection("Dashboard:Artifacts:S3");
        var forcePathStyleText = s3["ForcePathStyle"];
        var forcePathStyle = false;
        if (!string.IsNullOrEmpty(forcePathStyleText) && !bool.TryParse(forcePathStyleText, out forcePathStyle))
        {
            throw new InvalidOperationException("Dashboard:Artifacts:S3:ForcePathStyle must be true or false.");
        }
        return new ArtifactOptions
        {
            Root = configuration["Dashboard:Artifacts:Root"] ?? ArtifactOptions.DefaultRoot,
            S3 = new S3ArtifactOptions
            {
                ServiceUrl = NullIfEmpty(s3["ServiceUrl"]),
                Region = NullIfEmpty(s3["Region"]),
                ForcePathStyle = forcePathStyle,
                AccessKeyId = NullIfEmpty(s3["AccessKeyId"]),
                SecretAccessKey = NullIfEmpty(s3["SecretAccessKey"]),
            },
        };
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;
}
