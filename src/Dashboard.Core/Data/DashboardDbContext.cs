using System.Text;
using Dashboard.Governance;
using Dashboard.Registry;
using Dashboard.Security;
using Dashboard.Tracking;
using Microsoft.EntityFrameworkCore;

namespace Dashboard.Data;

public enum DatabaseProvider
{
    Sqlite,
    PostgreSql,
    SqlServer,
}

/// <summary>
/// The one model of the store. Each provider has a sealed subclass with its own migrations
/// (docs/adr/0002-one-context-per-provider.md); vendor quirks live in those subclasses and in <see cref="Sql"/>.
/// </summary>
public abstract class DashboardDbContext : DbContext
{
    /// <summary>Lengths of MLflow's limits (mlflow/utils/validation.py) that columns must hold.</summary>
    public static class Lengths
    {
        public const int EntityKey = 250;
        public const int ParamValue = 6000;
        public const int RunTagValue = 8000;
        public const int ExperimentName = 500;
        public const int ExperimentTagValue = 5000;
        public const int RunId = 32;
        public const int RunName = 250;
        public const int Uri = 2000;
        public const int DatasetName = 500;
        public const int DatasetDigest = 36;
        public const int InputTagKey = 255;
        public const int InputTagValue = 500;
        public const int ModelId = 36;
        public const int LoggedModelName = 500;
        public const int ModelType = 500;
        public const int StatusMessage = 1000;
        /// <summary>A model's artifact location: an experiment location followed by <c>/models/{id}/artifacts</c>.</summary>
        public const int ModelUri = Uri + 64;
        public const int RegisteredModelName = 256;
        public const int RegistryDescription = 5000;
        public const int RegistryTagValue = 5000;
        public const int Alias = 255;
        public const int RunLink = 500;
        /// <summary>A version's source: a run's or model's artifact location, or a URI inside one.</summary>
        public const int ModelSource = ModelUri;
    }

    protected DashboardDbContext(DbContextOptions options) : base(options) { }

    public abstract DatabaseProvider Provider { get; }

    public DbSet<Experiment> Experiments => Set<Experiment>();
    public DbSet<ExperimentTag> ExperimentTags => Set<ExperimentTag>();
    public DbSet<Run> Runs => Set<Run>();
    public DbSet<Param> Params => Set<Param>();
    public DbSet<RunTag> RunTags => Set<RunTag>();
    public DbSet<Metric> Metrics => Set<Metric>();
    public DbSet<LatestMetric> LatestMetrics => Set<LatestMetric>();
    public DbSet<Dataset> Datasets => Set<Dataset>();
    public DbSet<RunInput> RunInputs => Set<RunInput>();
    public DbSet<InputTag> InputTags => Set<InputTag>();
    public DbSet<LoggedModel> LoggedModels => Set<LoggedModel>();
    public DbSet<LoggedModelTag> LoggedModelTags => Set<LoggedModelTag>();
    public DbSet<LoggedModelParam> LoggedModelParams => Set<LoggedModelParam>();
    public DbSet<LoggedModelMetric> LoggedModelMetrics => Set<LoggedModelMetric>();
    public DbSet<RunOutput> RunOutputs => Set<RunOutput>();
    public DbSet<RunModelInput> RunModelInputs => Set<RunModelInput>();
    public DbSet<RegisteredModel> RegisteredModels => Set<RegisteredModel>();
    public DbSet<RegisteredModelTag> RegisteredModelTags => Set<RegisteredModelTag>();
    public DbSet<RegisteredModelAlias> RegisteredModelAliases => Set<RegisteredModelAlias>();
    public DbSet<ModelVersion> ModelVersions => Set<ModelVersion>();
    public DbSet<ModelVersionTag> ModelVersionTags => Set<ModelVersionTag>();
    public DbSet<RegistryEvent> RegistryEvents => Set<RegistryEvent>();
    public DbSet<DashboardUser> Users => Set<DashboardUser>();
    public DbSet<AccessToken> AccessTokens => Set<AccessToken>();
    public DbSet<ExperimentGrant> ExperimentGrants => Set<ExperimentGrant>();
    public DbSet<RegisteredModelGrant> RegisteredModelGrants => Set<RegisteredModelGrant>();
    public DbSet<SecretBlock> SecretBlocks => Set<SecretBlock>();
    public DbSet<AuditEvent> AuditEvents => Set<AuditEvent>();
    public DbSet<PromotionRequest> PromotionRequests => Set<PromotionRequest>();
    public DbSet<PromotionReview> PromotionReviews => Set<PromotionReview>();
    public DbSet<PromotionComment> PromotionComments => Set<PromotionComment>();
    public DbSet<PromotionPolicy> PromotionPolicies => Set<PromotionPolicy>();
    public DbSet<Webhook> Webhooks => Set<Webhook>();
    public DbSet<WebhookDelivery> WebhookDeliveries => Set<WebhookDelivery>();
    public DbSet<WebhookAttempt> WebhookAttempts => Set<WebhookAttempt>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<Experiment>(e =>
        {
            e.ToTable("experiments");
            e.HasKey(x => x.Id);
            e.Property(x => x.Id).ValueGeneratedOnAdd();
            e.Property(x => x.Name).HasMaxLength(Lengths.ExperimentName);
            e.Property(x => x.ArtifactLocation).HasMaxLength(Lengths.Uri);
            e.Property(x => x.LifecycleStage).HasMaxLength(20);
            e.HasIndex(x => x.Name).IsUnique();
            e.HasMany(x => x.Tags).WithOne().HasForeignKey(t => t.ExperimentId).OnDelete(DeleteBehavior.Cascade);
        });
        modelBuilder.Entity<ExperimentTag>(e =>
        {
            e.ToTable("experiment_tags");
            e.HasKey(x => new { x.ExperimentId, x.Key });
            e.Property(x => x.Key).HasMaxLength(Lengths.EntityKey);
            e.Property(x => x.Value).HasMaxLength(Lengths.ExperimentTagValue);
        });
        modelBuilder.Entity<Run>(e =>
        {
            e.ToTable("runs");
            e.HasKey(x => x.Id);
            e.Property(x => x.Id).HasMaxLength(Lengths.RunId).IsFixedLength(false);
            e.Property(x => x.Name).HasMaxLength(Lengths.RunName);
            e.Property(x => x.UserId).HasMaxLength(256);
            e.Property(x => x.Status).HasMaxLength(20);
            e.Property(x => x.LifecycleStage).HasMaxLength(20);
            e.Property(x => x.ArtifactUri).HasMaxLength(Lengths.Uri);
            e.HasOne<Experiment>().WithMany().HasForeignKey(x => x.ExperimentId).OnDelete(DeleteBehavior.Cascade);
            // The default listing of runs/search: one experiment, one lifecycle stage, newest first.
            e.HasIndex(x => new { x.ExperimentId, x.LifecycleStage, x.StartTime, x.Id });
            e.HasMany(x => x.Params).WithOne().HasForeignKey(p => p.RunId).OnDelete(DeleteBehavior.Cascade);
            e.HasMany(x => x.Tags).WithOne().HasForeignKey(p => p.RunId).OnDelete(DeleteBehavior.Cascade);
            e.HasMany(x => x.LatestMetrics).WithOne().HasForeignKey(p => p.RunId).OnDelete(DeleteBehavior.Cascade);
            e.HasMany(x => x.Inputs).WithOne().HasForeignKey(p => p.RunId).OnDelete(DeleteBehavior.Cascade);
            e.HasMany(x => x.Outputs).WithOne().HasForeignKey(p => p.RunId).OnDelete(DeleteBehavior.Cascade);
            e.HasMany(x => x.ModelInputs).WithOne().HasForeignKey(p => p.RunId).OnDelete(DeleteBehavior.Cascade);
        });
        modelBuilder.Entity<Param>(e =>
        {
            e.ToTable("params");
            e.HasKey(x => new { x.RunId, x.Key });
            e.Property(x => x.RunId).HasMaxLength(Lengths.RunId);
            e.Property(x => x.Key).HasMaxLength(Lengths.EntityKey);
            e.Property(x => x.Value).HasMaxLength(Lengths.ParamValue);
        });
        modelBuilder.Entity<RunTag>(e =>
        {
            e.ToTable("tags");
            e.HasKey(x => new { x.RunId, x.Key });
            e.Property(x => x.RunId).HasMaxLength(Lengths.RunId);
            e.Property(x => x.Key).HasMaxLength(Lengths.EntityKey);
            e.Property(x => x.Value).HasMaxLength(Lengths.RunTagValue);
        });
        modelBuilder.Entity<Metric>(e =>
        {
            e.ToTable("metrics");
            // The whole row is the key: an exact duplicate is the same row (MLflow's primary key too).
            // Its prefix (run, key, step, timestamp) is the order of get-history.
            e.HasKey(x => new { x.RunId, x.Key, x.Step, x.Timestamp, x.Value, x.IsNaN });
            e.Property(x => x.RunId).HasMaxLength(Lengths.RunId);
            e.Property(x => x.Key).HasMaxLength(Lengths.EntityKey);
            e.HasOne<Run>().WithMany().HasForeignKey(x => x.RunId).OnDelete(DeleteBehavior.Cascade);
        });
        modelBuilder.Entity<LatestMetric>(e =>
        {
            e.ToTable("latest_metrics");
            e.HasKey(x => new { x.RunId, x.Key });
            e.Property(x => x.RunId).HasMaxLength(Lengths.RunId);
            e.Property(x => x.Key).HasMaxLength(Lengths.EntityKey);
            // Search: filters on metrics.<key> seek (key, is_nan = false, value range) and read run_id from the index;
            // an order on a metric walks (key, is_nan = false) in value order and stops at the page size.
            e.HasIndex(x => new { x.Key, x.IsNaN, x.Value, x.RunId });
        });
        modelBuilder.Entity<Dataset>(e =>
        {
            e.ToTable("datasets");
            e.HasKey(x => x.Id);
            e.Property(x => x.Id).HasMaxLength(36);
            e.Property(x => x.Name).HasMaxLength(Lengths.DatasetName);
            e.Property(x => x.Digest).HasMaxLength(Lengths.DatasetDigest);
            e.Property(x => x.SourceType).HasMaxLength(36);
            e.HasIndex(x => new { x.ExperimentId, x.Name, x.Digest }).IsUnique();
            e.HasOne<Experiment>().WithMany().HasForeignKey(x => x.ExperimentId).OnDelete(DeleteBehavior.Cascade);
        });
        modelBuilder.Entity<RunInput>(e =>
        {
            e.ToTable("inputs");
            e.HasKey(x => x.Id);
            e.Property(x => x.Id).HasMaxLength(36);
            e.Property(x => x.RunId).HasMaxLength(Lengths.RunId);
            e.Property(x => x.DatasetId).HasMaxLength(36);
            e.HasIndex(x => new { x.RunId, x.DatasetId }).IsUnique();
            e.HasIndex(x => x.DatasetId);
            // Datasets belong to experiments, inputs to runs; deleting either side removes the link.
            e.HasOne(x => x.Dataset).WithMany().HasForeignKey(x => x.DatasetId).OnDelete(DeleteBehavior.NoAction);
            e.HasMany(x => x.Tags).WithOne().HasForeignKey(t => t.InputId).OnDelete(DeleteBehavior.Cascade);
        });
        modelBuilder.Entity<InputTag>(e =>
        {
            e.ToTable("input_tags");
            e.HasKey(x => new { x.InputId, x.Key });
            e.Property(x => x.InputId).HasMaxLength(36);
            e.Property(x => x.Key).HasMaxLength(Lengths.InputTagKey);
            e.Property(x => x.Value).HasMaxLength(Lengths.InputTagValue);
        });

        ConfigureLoggedModels(modelBuilder);
        ConfigureRegistry(modelBuilder);
        ConfigureSecurity(modelBuilder);
        ConfigureGovernance(modelBuilder);

        UseSnakeCaseColumns(modelBuilder);
        modelBuilder.Entity<Metric>().Property(x => x.IsNaN).HasColumnName("is_nan");
        modelBuilder.Entity<LatestMetric>().Property(x => x.IsNaN).HasColumnName("is_nan");
        modelBuilder.Entity<LoggedModelMetric>().Property(x => x.IsNaN).HasColumnName("is_nan");
        // MLflow's names for the model's times.
        modelBuilder.Entity<LoggedModel>().Property(x => x.CreationTime).HasColumnName("creation_timestamp_ms");
        modelBuilder.Entity<LoggedModel>().Property(x => x.LastUpdatedTime).HasColumnName("last_updated_timestamp_ms");
    }

    /// <summary>MLflow 3's logged models, their tags, params and metrics, and the runs that produced or used them.</summary>
    private static void ConfigureLoggedModels(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<LoggedModel>(e =>
        {
            e.ToTable("logged_models");
            e.HasKey(x => x.Id);
            e.Property(x => x.Id).HasMaxLength(Lengths.ModelId);
            e.Property(x => x.Name).HasMaxLength(Lengths.LoggedModelName);
            e.Property(x => x.ArtifactLocation).HasMaxLength(Lengths.ModelUri);
            e.Property(x => x.Status).HasMaxLength(32);
            e.Property(x => x.StatusMessage).HasMaxLength(Lengths.StatusMessage);
            e.Property(x => x.ModelType).HasMaxLength(Lengths.ModelType);
            e.Property(x => x.SourceRunId).HasMaxLength(Lengths.RunId);
            e.Property(x => x.LifecycleStage).HasMaxLength(20);
            e.HasOne<Experiment>().WithMany().HasForeignKey(x => x.ExperimentId).OnDelete(DeleteBehavior.Cascade);
            // logged-models/search: the models of some experiments, newest first; MLflow 3 clients look models up by name.
            e.HasIndex(x => new { x.ExperimentId, x.LifecycleStage, x.CreationTime });
            e.HasIndex(x => new { x.ExperimentId, x.Name });
            // The models a run produced (run pages, the registry's source checks).
            e.HasIndex(x => x.SourceRunId);
            e.HasMany(x => x.Tags).WithOne().HasForeignKey(t => t.ModelId).OnDelete(DeleteBehavior.Cascade);
            e.HasMany(x => x.Params).WithOne().HasForeignKey(t => t.ModelId).OnDelete(DeleteBehavior.Cascade);
            e.HasMany(x => x.Metrics).WithOne().HasForeignKey(t => t.ModelId).OnDelete(DeleteBehavior.Cascade);
        });
        modelBuilder.Entity<LoggedModelTag>(e =>
        {
            e.ToTable("logged_model_tags");
            e.HasKey(x => new { x.ModelId, x.Key });
            e.Property(x => x.ModelId).HasMaxLength(Lengths.ModelId);
            e.Property(x => x.Key).HasMaxLength(Lengths.EntityKey);
            e.Property(x => x.Value).HasMaxLength(Lengths.RunTagValue);
        });
        modelBuilder.Entity<LoggedModelParam>(e =>
        {
            e.ToTable("logged_model_params");
            e.HasKey(x => new { x.ModelId, x.Key });
            e.Property(x => x.ModelId).HasMaxLength(Lengths.ModelId);
            e.Property(x => x.Key).HasMaxLength(Lengths.EntityKey);
            e.Property(x => x.Value).HasMaxLength(Lengths.ParamValue);
        });
        modelBuilder.Entity<LoggedModelMetric>(e =>
        {
            e.ToTable("logged_model_metrics");
            // The whole point is the key, as for the runs' metrics: re-logging a point (NaN included) is a no-op.
            // No foreign key to runs: SQL Server refuses a second cascade path from experiments, and the run id
            // always comes from the run the metric was logged to.
            e.HasKey(x => new { x.ModelId, x.Key, x.Step, x.Timestamp, x.RunId, x.Value, x.IsNaN });
            e.Property(x => x.ModelId).HasMaxLength(Lengths.ModelId);
            e.Property(x => x.Key).HasMaxLength(Lengths.EntityKey);
            e.Property(x => x.RunId).HasMaxLength(Lengths.RunId);
            e.Property(x => x.DatasetName).HasMaxLength(Lengths.DatasetName);
            e.Property(x => x.DatasetDigest).HasMaxLength(Lengths.DatasetDigest);
        });
        modelBuilder.Entity<RunOutput>(e =>
        {
            e.ToTable("run_outputs");
            e.HasKey(x => new { x.RunId, x.ModelId, x.Step });
            e.Property(x => x.RunId).HasMaxLength(Lengths.RunId);
            e.Property(x => x.ModelId).HasMaxLength(Lengths.ModelId);
            // Runs and models both belong to an experiment: a second cascade path, which SQL Server refuses.
            e.HasOne<LoggedModel>().WithMany().HasForeignKey(x => x.ModelId).OnDelete(DeleteBehavior.NoAction);
        });
        modelBuilder.Entity<RunModelInput>(e =>
        {
            e.ToTable("run_model_inputs");
            e.HasKey(x => new { x.RunId, x.ModelId });
            e.Property(x => x.RunId).HasMaxLength(Lengths.RunId);
            e.Property(x => x.ModelId).HasMaxLength(Lengths.ModelId);
            e.HasOne<LoggedModel>().WithMany().HasForeignKey(x => x.ModelId).OnDelete(DeleteBehavior.NoAction);
        });
    }

    /// <summary>The model registry of model_registry.proto and its history (docs/adr/0009-model-registry.md).</summary>
    /// <summary>Users, tokens, permissions and the record of blocked secrets (issue 6, docs/adr/0012).</summary>
    private static void ConfigureSecurity(ModelBuilder modelBuilder)
    {
        var permission = new Microsoft.EntityFrameworkCore.Storage.ValueConversion.ValueConverter<AccessLevel, string>(
            p => PermissionNames.Of(p), s => PermissionNames.Parse(s) ?? AccessLevel.NoPermissions);
        modelBuilder.Entity<DashboardUser>(e =>
        {
            e.ToTable("users");
            e.HasKey(x => x.Id);
            e.Property(x => x.Id).ValueGeneratedOnAdd();
            e.Property(x => x.Subject).HasMaxLength(256);
            e.Property(x => x.Name).HasMaxLength(Actor.MaxLength);
            e.Property(x => x.Email).HasMaxLength(256);
            e.Property(x => x.Role).HasConversion<string>().HasMaxLength(20);
            e.Property(x => x.Groups).HasMaxLength(8000);
            e.Ignore(x => x.GroupList);
            e.HasIndex(x => x.Subject).IsUnique();
            e.HasIndex(x => x.Name).IsUnique();
        });
        modelBuilder.Entity<AccessToken>(e =>
        {
            e.ToTable("access_tokens");
            e.HasKey(x => x.Id);
            e.Property(x => x.Id).ValueGeneratedOnAdd();
            e.Property(x => x.Name).HasMaxLength(100);
            e.Property(x => x.Scope).HasConversion<string>().HasMaxLength(10);
            e.Property(x => x.Hash).HasMaxLength(64);
            e.Property(x => x.Prefix).HasMaxLength(16);
            e.Property(x => x.CreatedBy).HasMaxLength(Actor.MaxLength);
            e.HasIndex(x => x.Hash).IsUnique();
            e.HasOne(x => x.User).WithMany().HasForeignKey(x => x.UserId).OnDelete(DeleteBehavior.Cascade);
        });
        modelBuilder.Entity<ExperimentGrant>(e =>
        {
            e.ToTable("experiment_permissions");
            e.HasKey(x => new { x.ExperimentId, x.PrincipalKind, x.PrincipalName });
            e.Property(x => x.PrincipalKind).HasMaxLength(8);
            e.Property(x => x.PrincipalName).HasMaxLength(Actor.MaxLength);
            e.Property(x => x.Permission).HasConversion(permission).HasMaxLength(20);
            // "What may this user or group read": the search filters start from the principal.
            e.HasIndex(x => new { x.PrincipalKind, x.PrincipalName });
            e.HasOne<Experiment>().WithMany().HasForeignKey(x => x.ExperimentId).OnDelete(DeleteBehavior.Cascade);
        });
        modelBuilder.Entity<RegisteredModelGrant>(e =>
        {
            e.ToTable("registered_model_permissions");
            e.HasKey(x => new { x.RegisteredModelId, x.PrincipalKind, x.PrincipalName });
            e.Property(x => x.PrincipalKind).HasMaxLength(8);
            e.Property(x => x.PrincipalName).HasMaxLength(Actor.MaxLength);
            e.Property(x => x.Permission).HasConversion(permission).HasMaxLength(20);
            e.HasIndex(x => new { x.PrincipalKind, x.PrincipalName });
            e.HasOne<RegisteredModel>().WithMany().HasForeignKey(x => x.RegisteredModelId).OnDelete(DeleteBehavior.Cascade);
        });
        modelBuilder.Entity<SecretBlock>(e =>
        {
            e.ToTable("secret_blocks");
            e.HasKey(x => x.Id);
            e.Property(x => x.Id).ValueGeneratedOnAdd();
            e.Property(x => x.Actor).HasMaxLength(Actor.MaxLength);
            e.Property(x => x.Target).HasMaxLength(32);
            e.Property(x => x.Key).HasMaxLength(Lengths.EntityKey);
            e.Property(x => x.Rule).HasMaxLength(64);
            e.Property(x => x.Action).HasMaxLength(16);
            e.Property(x => x.RunId).HasMaxLength(Lengths.RunId);
            e.Property(x => x.ModelName).HasMaxLength(Lengths.RegisteredModelName);
            e.HasIndex(x => x.Time);
        });
    }

    /// <summary>Audit trail, promotion requests and policies, webhooks and their outbox (issue 7, docs/adr/0013).</summary>
    private static void ConfigureGovernance(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<AuditEvent>(e =>
        {
            e.ToTable("audit_events");
            e.HasKey(x => x.Id);
            e.Property(x => x.Id).ValueGeneratedOnAdd();
            e.Property(x => x.Actor).HasMaxLength(Actor.MaxLength);
            e.Property(x => x.Action).HasMaxLength(64);
            e.Property(x => x.TargetType).HasMaxLength(32);
            e.Property(x => x.Target).HasMaxLength(500);
            e.Property(x => x.ModelName).HasMaxLength(Lengths.RegisteredModelName);
            e.Property(x => x.Before).HasMaxLength(AuditLog.MaxStateLength);
            e.Property(x => x.After).HasMaxLength(AuditLog.MaxStateLength);
            e.Property(x => x.Reason).HasMaxLength(5000);
            // Newest first, and the same per model (the timeline), per actor, per action, per request.
            e.HasIndex(x => x.Time);
            e.HasIndex(x => new { x.RegisteredModelId, x.Id });
            e.HasIndex(x => new { x.Actor, x.Id });
            e.HasIndex(x => new { x.Action, x.Id });
            e.HasIndex(x => x.RequestId);
        });
        modelBuilder.Entity<PromotionRequest>(e =>
        {
            e.ToTable("promotion_requests");
            e.HasKey(x => x.Id);
            e.Property(x => x.Id).ValueGeneratedOnAdd();
            e.Property(x => x.ModelName).HasMaxLength(Lengths.RegisteredModelName);
            e.Property(x => x.TargetKind).HasMaxLength(8);
            e.Property(x => x.Target).HasMaxLength(Lengths.Alias);
            e.Property(x => x.State).HasMaxLength(16);
            e.Property(x => x.RequestedBy).HasMaxLength(Actor.MaxLength);
            e.Property(x => x.Comment).HasMaxLength(5000);
            e.Property(x => x.ClosedBy).HasMaxLength(Actor.MaxLength);
            e.Property(x => x.GateResults).HasMaxLength(32000);
            e.Property(x => x.OverrideReason).HasMaxLength(5000);
            e.Property(x => x.OverriddenBy).HasMaxLength(Actor.MaxLength);
            // The inbox (open requests), a model's requests, a requester's requests.
            e.HasIndex(x => new { x.State, x.Id });
            e.HasIndex(x => new { x.RegisteredModelId, x.Version });
            e.HasIndex(x => new { x.RequestedBy, x.Id });
            e.HasMany(x => x.Reviews).WithOne().HasForeignKey(r => r.RequestId).OnDelete(DeleteBehavior.Cascade);
            e.HasMany(x => x.Comments).WithOne().HasForeignKey(c => c.RequestId).OnDelete(DeleteBehavior.Cascade);
            // No foreign key to the model: a request (and its record) outlives the model's deletion.
        });
        modelBuilder.Entity<PromotionReview>(e =>
        {
            e.ToTable("promotion_reviews");
            e.HasKey(x => x.Id);
            e.Property(x => x.Id).ValueGeneratedOnAdd();
            e.Property(x => x.Reviewer).HasMaxLength(Actor.MaxLength);
            e.Property(x => x.Decision).HasMaxLength(8);
            e.Property(x => x.Comment).HasMaxLength(5000);
            // One review per person and request: distinct approvers are a constraint, not a hope.
            e.HasIndex(x => new { x.RequestId, x.Reviewer }).IsUnique();
        });
        modelBuilder.Entity<PromotionComment>(e =>
        {
            e.ToTable("promotion_comments");
            e.HasKey(x => x.Id);
            e.Property(x => x.Id).ValueGeneratedOnAdd();
            e.Property(x => x.Author).HasMaxLength(Actor.MaxLength);
            e.Property(x => x.Body).HasMaxLength(5000);
            e.HasIndex(x => new { x.RequestId, x.Id });
        });
        modelBuilder.Entity<PromotionPolicy>(e =>
        {
            e.ToTable("promotion_policies");
            e.HasKey(x => x.Id);
            e.Property(x => x.Id).ValueGeneratedOnAdd();
            e.Property(x => x.ProtectedStages).HasMaxLength(200);
            e.Property(x => x.ProtectedAliases).HasMaxLength(4000);
            e.Property(x => x.ApproverGroups).HasMaxLength(4000);
            e.Property(x => x.DirectChange).HasMaxLength(16);
            e.Property(x => x.Gates).HasMaxLength(16000);
            e.Property(x => x.UpdatedBy).HasMaxLength(Actor.MaxLength);
            // One policy per model; the global default (null) is kept to one by PromotionService.
            e.HasIndex(x => x.RegisteredModelId).IsUnique();
            e.HasOne<RegisteredModel>().WithMany().HasForeignKey(x => x.RegisteredModelId).OnDelete(DeleteBehavior.Cascade);
        });
        modelBuilder.Entity<Webhook>(e =>
        {
            e.ToTable("webhooks");
            e.HasKey(x => x.Id);
            e.Property(x => x.Id).ValueGeneratedOnAdd();
            e.Property(x => x.Name).HasMaxLength(100);
            e.Property(x => x.Url).HasMaxLength(Lengths.Uri);
            e.Property(x => x.Events).HasMaxLength(2000);
            e.Property(x => x.ModelName).HasMaxLength(Lengths.RegisteredModelName);
            e.Property(x => x.Secret).HasMaxLength(256);
            e.Property(x => x.CreatedBy).HasMaxLength(Actor.MaxLength);
        });
        modelBuilder.Entity<WebhookDelivery>(e =>
        {
            e.ToTable("webhook_deliveries");
            e.HasKey(x => x.Id);
            e.Property(x => x.Id).ValueGeneratedOnAdd();
            e.Property(x => x.EventId).HasMaxLength(32);
            e.Property(x => x.EventType).HasMaxLength(64);
            e.Property(x => x.Payload).HasMaxLength(64000);
            e.Property(x => x.State).HasMaxLength(16);
            e.Property(x => x.LastError).HasMaxLength(1000);
            e.Property(x => x.LockedBy).HasMaxLength(100);
            // The dispatcher's question: which pending deliveries are due.
            e.HasIndex(x => new { x.State, x.NextAttemptAt });
            // A webhook's delivery log, newest first.
            e.HasIndex(x => new { x.WebhookId, x.Id });
            e.HasOne<Webhook>().WithMany().HasForeignKey(x => x.WebhookId).OnDelete(DeleteBehavior.Cascade);
        });
        modelBuilder.Entity<WebhookAttempt>(e =>
        {
            e.ToTable("webhook_attempts");
            e.HasKey(x => x.Id);
            e.Property(x => x.Id).ValueGeneratedOnAdd();
            e.Property(x => x.Error).HasMaxLength(1000);
            e.HasIndex(x => new { x.DeliveryId, x.Number });
            e.HasOne<WebhookDelivery>().WithMany().HasForeignKey(x => x.DeliveryId).OnDelete(DeleteBehavior.Cascade);
        });
    }

    private static void ConfigureRegistry(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<RegisteredModel>(e =>
        {
            e.ToTable("registered_models");
            e.HasKey(x => x.Id);
            e.Property(x => x.Id).ValueGeneratedOnAdd();
            e.Property(x => x.Name).HasMaxLength(Lengths.RegisteredModelName);
            e.Property(x => x.Description).HasMaxLength(Lengths.RegistryDescription);
            e.Property(x => x.UserId).HasMaxLength(256);
            e.HasIndex(x => x.Name).IsUnique();
            // registered-models/search orders by last update by default in the UI.
            e.HasIndex(x => x.LastUpdatedTime);
            e.HasMany(x => x.Tags).WithOne().HasForeignKey(t => t.RegisteredModelId).OnDelete(DeleteBehavior.Cascade);
            e.HasMany(x => x.Aliases).WithOne().HasForeignKey(t => t.RegisteredModelId).OnDelete(DeleteBehavior.Cascade);
            e.HasMany(x => x.Versions).WithOne(v => v.RegisteredModel).HasForeignKey(v => v.RegisteredModelId)
                .OnDelete(DeleteBehavior.Cascade);
        });
        modelBuilder.Entity<RegisteredModelTag>(e =>
        {
            e.ToTable("registered_model_tags");
            e.HasKey(x => new { x.RegisteredModelId, x.Key });
            e.Property(x => x.Key).HasMaxLength(Lengths.EntityKey);
            e.Property(x => x.Value).HasMaxLength(Lengths.RegistryTagValue);
        });
        modelBuilder.Entity<RegisteredModelAlias>(e =>
        {
            e.ToTable("registered_model_aliases");
            e.HasKey(x => new { x.RegisteredModelId, x.Alias });
            e.Property(x => x.Alias).HasMaxLength(Lengths.Alias);
            // No foreign key to the version: a second cascade path from registered_models, which SQL Server refuses.
            // The registry removes a version's aliases when it deletes the version.
        });
        modelBuilder.Entity<ModelVersion>(e =>
        {
            e.ToTable("model_versions");
            e.HasKey(x => new { x.RegisteredModelId, x.Version });
            e.Property(x => x.CurrentStage).HasMaxLength(20);
            e.Property(x => x.Description).HasMaxLength(Lengths.RegistryDescription);
            e.Property(x => x.UserId).HasMaxLength(256);
            e.Property(x => x.Source).HasMaxLength(Lengths.ModelSource);
            e.Property(x => x.StorageLocation).HasMaxLength(Lengths.ModelSource);
            e.Property(x => x.RunId).HasMaxLength(Lengths.RunId);
            e.Property(x => x.RunLink).HasMaxLength(Lengths.RunLink);
            e.Property(x => x.ModelId).HasMaxLength(Lengths.ModelId);
            e.Property(x => x.Status).HasMaxLength(32);
            e.Property(x => x.StatusMessage).HasMaxLength(Lengths.StatusMessage);
            // model-versions/search by run_id (MLflow clients look up a run's versions); the versions of a logged model.
            e.HasIndex(x => x.RunId);
            e.HasIndex(x => x.ModelId);
            e.HasMany(x => x.Tags).WithOne().HasForeignKey(t => new { t.RegisteredModelId, t.Version })
                .OnDelete(DeleteBehavior.Cascade);
        });
        modelBuilder.Entity<ModelVersionTag>(e =>
        {
            e.ToTable("model_version_tags");
            e.HasKey(x => new { x.RegisteredModelId, x.Version, x.Key });
            e.Property(x => x.Key).HasMaxLength(Lengths.EntityKey);
            e.Property(x => x.Value).HasMaxLength(Lengths.RegistryTagValue);
        });
        modelBuilder.Entity<RegistryEvent>(e =>
        {
            e.ToTable("registry_events");
            e.HasKey(x => x.Id);
            e.Property(x => x.Id).ValueGeneratedOnAdd();
            e.Property(x => x.ModelName).HasMaxLength(Lengths.RegisteredModelName);
            e.Property(x => x.Kind).HasMaxLength(32);
            e.Property(x => x.Alias).HasMaxLength(Lengths.Alias);
            e.Property(x => x.Before).HasMaxLength(Lengths.Alias);
            e.Property(x => x.After).HasMaxLength(Lengths.Alias);
            e.Property(x => x.Actor).HasMaxLength(256);
            // The history of a model, or of one version, in order.
            e.HasIndex(x => new { x.RegisteredModelId, x.Version, x.Id });
        });
    }

    /// <summary>Column names in snake_case, as MLflow's schema has them, so SQL written by people reads naturally.</summary>
    private static void UseSnakeCaseColumns(ModelBuilder modelBuilder)
    {
        foreach (var entity in modelBuilder.Model.GetEntityTypes())
        {
            foreach (var property in entity.GetProperties())
            {
                property.SetColumnName(ToSnakeCase(property.Name));
            }
        }
    }

    internal static string ToSnakeCase(string name)
    {
        var sb = new StringBuilder(name.Length + 4);
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (char.IsUpper(c))
            {
                if (i > 0 && !char.IsUpper(name[i - 1]))
                {
                    sb.Append('_');
                }
                sb.Append(char.ToLowerInvariant(c));
            }
            else
            {
                sb.Append(c);
            }
        }
        return sb.ToString();
    }
}
