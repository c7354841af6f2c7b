using Dashboard.Secrets;

namespace Dashboard.Core.Tests.Secrets;

public class SecretScannerTests
{
    [Theory]
    [InlineData("password", "key:password")]
    [InlineData("db_password", "key:password")]
    [InlineData("DB_PASSWORD", "key:password")]
    [InlineData("dbPassword", "key:password")]
    [InlineData("db-passwd", "key:password")]
    [InlineData("mysql.pwd", "key:password")]
    [InlineData("ssh passphrase", "key:password")]
    [InlineData("db_password_b64", "key:password")]
    [InlineData("password2", "key:password")]
    [InlineData("secret", "key:secret")]
    [InlineData("client_secret", "key:secret")]
    [InlineData("clientSecret", "key:secret")]
    [InlineData("webhook.secret", "key:secret")]
    [InlineData("token", "key:token")]
    [InlineData("hf_token", "key:token")]
    [InlineData("auth_token", "key:token")]
    [InlineData("authToken", "key:token")]
    [InlineData("GITHUB_TOKEN", "key:token")]
    [InlineData("access-token", "key:token")]
    [InlineData("api_key", "key:api_key")]
    [InlineData("apikey", "key:api_key")]
    [InlineData("apiKey", "key:api_key")]
    [InlineData("OPENAI_API_KEY", "key:api_key")]
    [InlineData("X-API-Key", "key:api_key")]
    [InlineData("access_key", "key:access_key")]
    [InlineData("aws_access_key_id", "key:access_key")]
    [InlineData("AccessKeyId", "key:access_key")]
    [InlineData("aws_secret_access_key", "key:access_key")]
    [InlineData("secret_key", "key:secret_key")]
    [InlineData("SecretKey", "key:secret_key")]
    [InlineData("private_key", "key:private_key")]
    [InlineData("privateKey", "key:private_key")]
    [InlineData("ssh_key", "key:private_key")]
    [InlineData("storage.account_key", "key:account_key")]
    [InlineData("credential", "key:credential")]
    [InlineData("gcp_credentials", "key:credential")]
    [InlineData("connection_string", "key:connection_string")]
    [InlineData("ConnectionString", "key:connection_string")]
    [InlineData("db.conn_str", "key:connection_string")]
    [InlineData("authorization", "key:authorization")]
    public void Refuses_keys_that_name_a_credential(string key, string rule) =>
        SecretScanner.MatchKey(key).ShouldBe(rule);

    [Theory]
    // The list of ordinary ML names.
    [InlineData("tokenizer")]
    [InlineData("max_tokens")]
    [InlineData("token_budget")]
    [InlineData("num_keys")]
    [InlineData("key_dim")]
    [InlineData("num_tokens")]
    [InlineData("max_new_tokens")]
    [InlineData("tokenizer_name")]
    // A tokenizer's special tokens are settings, not credentials.
    [InlineData("pad_token")]
    [InlineData("eos_token")]
    [InlineData("bos_token")]
    [InlineData("tokenizer.unk_token")]
    [InlineData("mask_token")]
    [InlineData("pad_token_id")]
    [InlineData("decoder_start_token_id")]
    [InlineData("additional_special_tokens")]
    // The sensitive word is not what the key holds.
    [InlineData("secret_sauce")]
    [InlineData("password_file")]
    [InlineData("token_type")]
    [InlineData("api_key_env")]
    [InlineData("private_key_path")]
    [InlineData("credentials_path")]
    [InlineData("key")]
    [InlineData("keys")]
    [InlineData("key_size")]
    [InlineData("primary_key")]
    [InlineData("sort_key")]
    [InlineData("query_key_value")]
    [InlineData("attention.key_proj")]
    [InlineData("monkey")]
    [InlineData("passes")]
    [InlineData("secretary")]
    [InlineData("mlflow.runName")]
    [InlineData("mlflow.source.git.repoURL")]
    [InlineData("mlflow.note.content")]
    [InlineData("learning_rate")]
    [InlineData("")]
    public void Lets_ordinary_ml_names_pass(string key) =>
        SecretScanner.MatchKey(key).ShouldBeNull();

    public static TheoryData<string, string> Credentials => new()
    {
        { FakeSecrets.AwsAccessKeyId, "value:aws_access_key_id" },
        { FakeSecrets.AwsSessionKeyId, "value:aws_access_key_id" },
        { $"aws key {FakeSecrets.AwsAccessKeyId} used", "value:aws_access_key_id" },
        { FakeSecrets.PrivateKeyBlock, "value:private_key" },
        { FakeSecrets.OpenSshKeyBlock, "value:private_key" },
        { FakeSecrets.Jwt, "value:jwt" },
        { "Bearer " + FakeSecrets.Jwt, "value:jwt" },
        { FakeSecrets.UrlWithPassword, "value:url_credentials" },
        { "https://user:" + "pa55word@github.com/org/repo.git", "value:url_credentials" },
        { FakeSecrets.GitHubToken, "value:github_token" },
        { FakeSecrets.GitHubFineGrained, "value:github_token" },
        { FakeSecrets.GitLabToken, "value:gitlab_token" },
        { FakeSecrets.SlackToken, "value:slack_token" },
        { FakeSecrets.SlackWebhook, "value:slack_webhook" },
        { FakeSecrets.GoogleApiKey, "value:google_api_key" },
        { FakeSecrets.StripeKey, "value:stripe_key" },
        { FakeSecrets.AnthropicKey, "value:anthropic_api_key" },
        { FakeSecrets.OpenAiKey, "value:openai_api_key" },
        { FakeSecrets.OpenAiLegacyKey, "value:openai_api_key" },
        { FakeSecrets.HuggingFaceToken, "value:huggingface_token" },
        { FakeSecrets.NpmToken, "value:npm_token" },
        { FakeSecrets.PypiToken, "value:pypi_token" },
        { FakeSecrets.DashboardToken, "value:dashboard_token" },
        { FakeSecrets.AzureStorage, "value:azure_account_key" },
        { FakeSecrets.AzureSas, "value:azure_sas" },
        { FakeSecrets.SqlServerConnection, "value:connection_string_password" },
        { "Host=db;Username=ml;Pass" + "word=s3cr3t-Value", "value:connection_string_password" },
        { FakeSecrets.AssignedApiKey, "value:assigned_secret" },
        { "export TOK" + "EN=\"" + new string('z', 24) + "\"", "value:assigned_secret" },
    };

    [Theory, MemberData(nameof(Credentials))]
    public void Refuses_values_in_the_formats_of_credentials(string value, string rule) =>
        SecretScanner.MatchValue(value).ShouldBe(rule);

    [Theory]
    [InlineData("0.001")]
    [InlineData("adam")]
    [InlineData("bert-base-uncased")]
    [InlineData("sk-learn-random-forest-classifier-with-many-trees")]
    [InlineData("sklearn.ensemble.RandomForestClassifier")]
    [InlineData("https://github.com/org/repo.git")]
    [InlineData("git@github.com:org/repo.git")]
    [InlineData("https://user@github.com/org/repo.git")]
    [InlineData("https://example.com:8080/path@v2")]
    [InlineData("s3://bucket/models/run:1/artifacts")]
    [InlineData("postgresql://trainer:${DB_PASSWORD}@db.example.com/ml")]
    [InlineData("postgresql://trainer:****@db.example.com/ml")]
    [InlineData("Host=db;Username=ml;Password=${PGPASSWORD}")]
    [InlineData("Server=db;Database=ml;Integrated Security=true")]
    [InlineData("hf_model_cache_dir")]
    [InlineData("eyJ not a jwt")]
    [InlineData("AKIA")]
    [InlineData("AKIAshort")]
    [InlineData("mlflow-artifacts:/1/abc/artifacts")]
    [InlineData("max_tokens=4096")]
    [InlineData("tokenizer=bert-base-uncased-whole-word-masking")]
    [InlineData("[PAD]")]
    [InlineData("<|endoftext|>")]
    [InlineData("A run that compares passwords hashing speed; the token budget is 4096.")]
    [InlineData("runs:/0123456789abcdef0123456789abcdef/model")]
    [InlineData("d41d8cd98f00b204e9800998ecf8427e")]
    [InlineData("")]
    public void Lets_ordinary_values_pass(string value) =>
        SecretScanner.MatchValue(value).ShouldBeNull();

    [Theory]
    [InlineData("db_password", new[] { "db", "password" })]
    [InlineData("apiKey", new[] { "api", "key" })]
    [InlineData("APIKey", new[] { "api", "key" })]
    [InlineData("X-API-Key", new[] { "x", "api", "key" })]
    [InlineData("aws.secretAccessKey2", new[] { "aws", "secret", "access", "key2" })]
    [InlineData("db_password_b64", new[] { "db", "password", "b64" })]
    [InlineData("max tokens", new[] { "max", "tokens" })]
    public void Splits_keys_into_words(string key, string[] words) =>
        SecretScanner.Words(key).ShouldBe(words);

    [Fact]
    public void Scans_a_long_value_in_linear_time()
    {
        // A value built to make a backtracking engine stall on the URL and assignment rules.
        var value = "a://" + new string(':', 7000) + new string('a', 900);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        SecretScanner.MatchValue(value);
        watch.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(1));
    }

    [Fact]
    public void Every_rule_has_a_distinct_name()
    {
        var all = SecretScanner.KeyRules.Concat(SecretScanner.ValueRules).ToList();
        all.Distinct().Count().ShouldBe(all.Count);
        all.ShouldAllBe(r => r.StartsWith("key:") || r.StartsWith("value:"));
    }
}
