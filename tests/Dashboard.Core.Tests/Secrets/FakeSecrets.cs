namespace Dashboard.Core.Tests.Secrets;

/// <summary>
/// Values in the formats of real credentials, made of invented characters at run time: no working credential is in
/// the repository, and no text in it matches a scanner's pattern (each prefix is split).
/// </summary>
public static class FakeSecrets
{
    private static string Repeat(string chunk, int length) => string.Concat(Enumerable.Repeat(chunk, length))[..length];

    public static readonly string AwsAccessKeyId = "AK" + "IA" + Repeat("Q7ZX", 16);
    public static readonly string AwsSessionKeyId = "AS" + "IA" + Repeat("R2WB", 16);
    public static readonly string PrivateKeyBlock = "-----BEGIN RSA PRIV" + "ATE KEY-----\nMIIEow" + Repeat("Ab3d", 40) + "\n-----END RSA PRIVATE KEY-----";
    public static readonly string OpenSshKeyBlock = "-----BEGIN OPENSSH PRIV" + "ATE KEY-----\nb3Blbn" + Repeat("Nz9k", 40);
    public static readonly string Jwt = "ey" + "JhbGciOiJIUzI1NiJ9." + "ey" + "JzdWIiOiJ0ZXN0ZXIifQ." + Repeat("s1gN", 43);
    public static readonly string UrlWithPassword = "postgresql://trainer:" + "hunter" + "2pass@db.example.com:5432/ml";
    public static readonly string GitHubToken = "gh" + "p_" + Repeat("aB3dE", 36);
    public static readonly string GitHubFineGrained = "github" + "_pat_" + Repeat("11AbC_dEf", 60);
    public static readonly string GitLabToken = "gl" + "pat-" + Repeat("xY1-z", 20);
    public static readonly string SlackToken = "xo" + "xb-" + Repeat("1234-", 40);
    public static readonly string SlackWebhook = "https://hooks.slack" + ".com/services/" + Repeat("T0B1X2/", 40);
    public static readonly string GoogleApiKey = "AI" + "za" + Repeat("Sy3-_q", 35);
    public static readonly string StripeKey = "sk" + "_live_" + Repeat("4eC39Hq", 24);
    public static readonly string OpenAiKey = "sk" + "-proj-" + Repeat("Ab1_cD2-", 48);
    public static readonly string OpenAiLegacyKey = "sk" + "-" + Repeat("T3BlbkFJ", 48);
    public static readonly string AnthropicKey = "sk" + "-ant-api03-" + Repeat("Xy9_z", 90);
    public static readonly string HuggingFaceToken = "hf" + "_" + Repeat("QwErTy", 34);
    public static readonly string NpmToken = "np" + "m_" + Repeat("a1B2c3", 36);
    public static readonly string PypiToken = "py" + "pi-AgE" + Repeat("IcHlwaS5vcmc", 70);
    public static readonly string DashboardToken = "ds" + "h_" + Repeat("Zx_9-Yw8", 43);
    public static readonly string AzureStorage = "DefaultEndpointsProtocol=https;AccountName=ml;Account" + "Key=" + Repeat("c2VjcmV0+/", 64) + ";EndpointSuffix=core.windows.net";
    public static readonly string AzureSas = "https://ml.blob.core.windows.net/c/x?sv=2022-11-02&s" + "ig=" + Repeat("AbCd%2B", 40);
    public static readonly string SqlServerConnection = "Server=db;Database=ml;User Id=sa;Pass" + "word=" + "Tr41n1ng!;";
    public static readonly string AssignedApiKey = "api" + "_key=" + Repeat("9f8e7d6c", 32);
}
