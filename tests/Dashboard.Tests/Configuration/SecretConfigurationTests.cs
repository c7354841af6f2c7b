using Dashboard.Auth;
using Dashboard.Secrets;
using Microsoft.Extensions.Configuration;

namespace Dashboard.Tests.Configuration;

/// <summary><c>Dashboard:Secrets:*</c> as the server reads it (appsettings.example.json lists the keys).</summary>
public class SecretConfigurationTests
{
    [Fact]
    public void Defaults_to_refusing_with_no_allowed_key()
    {
        var policy = SecretBlocking.ReadPolicy(Configuration([]));

        policy.Enabled.ShouldBeTrue();
        policy.Action.ShouldBe(SecretAction.Refuse);
        policy.Allow.ShouldBeEmpty();
    }

    [Fact]
    public void Reads_the_policy_and_the_allowlist_as_a_list_or_as_one_comma_separated_string()
    {
        var list = SecretBlocking.ReadPolicy(Configuration(new()
        {
            ["Dashboard:Secrets:Policy"] = "redact",
            ["Dashboard:Secrets:Enabled"] = "false",
            ["Dashboard:Secrets:Allow:0"] = "vault_token",
            ["Dashboard:Secrets:Allow:1"] = " eval_secret ",
        }));
        var single = SecretBlocking.ReadPolicy(Configuration(new() { ["Dashboard:Secrets:Allow"] = "vault_token, Eval_Secret" }));

        (list.Enabled, list.Action).ShouldBe((false, SecretAction.Redact));
        list.Allow.Order().ShouldBe(["eval_secret", "vault_token"]);
        single.Allows("VAULT_TOKEN").ShouldBeTrue();
        single.Allows("eval_secret").ShouldBeTrue();
        single.Allows("db_password").ShouldBeFalse();
    }

    [Theory]
    [InlineData("Dashboard:Secrets:Policy", "Ignore", "expected Refuse or Redact")]
    [InlineData("Dashboard:Secrets:Policy", "7", "expected Refuse or Redact")]
    [InlineData("Dashboard:Secrets:Enabled", "yes", "must be true or false")]
    public void Refuses_to_start_with_a_setting_it_does_not_know(string key, string value, string message) =>
        Should.Throw<InvalidOperationException>(() => SecretBlocking.ReadPolicy(Configuration(new() { [key] = value })))
            .Message.ShouldContain(message);

    private static IConfiguration Configuration(Dictionary<string, string?> values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values).Build();
}
