using System.Text;
using Dashboard.Governance;

namespace Dashboard.Core.Tests.Governance;

/// <summary>
/// The signature receivers check (docs/operations.md, "Webhooks"). The expected hex values were computed with another
/// implementation (Python's hmac module) from the same secret, timestamp and body.
/// </summary>
public class WebhookSignatureTests
{
    private const string Secret = "whsec_test_secret_0123456789";
    private static readonly byte[] Body = Encoding.UTF8.GetBytes("""{"id":"abc","type":"webhook.test"}""");
    private static readonly DateTimeOffset SignedAt = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000);

    [Theory]
    [InlineData(Secret, 1_700_000_000, """{"id":"abc","type":"webhook.test"}""", "9e1d9c84fc067ab248af28a2161f5e4e8df7077c685aac894aaf294655a895cb")]
    [InlineData("another-secret-with-16+chars", 1_764_300_000, """{"name":"résumé-model"}""", "f27cd66b5f98536572fdfe43a0494af74254ec5b53360abecd27ccc16948ffce")]
    [InlineData(Secret, 1_700_000_000, "", "8f40661c06ee078c83c534185b6a503938fdf41ab4f0a17e2ac9c109da2e2c92")]
    public void Signs_the_timestamp_a_dot_and_the_body_bytes_with_HMAC_SHA256_in_lowercase_hex(string secret, long timestamp, string body,
        string expected)
    {
        WebhookSignature.Compute(secret, timestamp, Encoding.UTF8.GetBytes(body)).ShouldBe(expected);
    }

    [Fact]
    public void The_signature_header_names_the_timestamp_and_the_v1_signature()
    {
        WebhookSignature.Header(Secret, 1_700_000_000, Body)
            .ShouldBe("t=1700000000,v1=9e1d9c84fc067ab248af28a2161f5e4e8df7077c685aac894aaf294655a895cb");
    }

    [Fact]
    public void A_delivery_carries_the_event_type_the_event_id_the_timestamp_and_the_signature()
    {
        var headers = WebhookSignature.Headers(Secret, "model_version.created", "0123abcd", 1_700_000_000, Body).ToDictionary();

        headers.Keys.ShouldBe(["Dashboard-Event", "Dashboard-Delivery", "Dashboard-Timestamp", "Dashboard-Signature"]);
        headers["Dashboard-Event"].ShouldBe("model_version.created");
        headers["Dashboard-Delivery"].ShouldBe("0123abcd");
        headers["Dashboard-Timestamp"].ShouldBe("1700000000");
        headers["Dashboard-Signature"].ShouldBe(WebhookSignature.Header(Secret, 1_700_000_000, Body));
    }

    [Fact]
    public void Verify_accepts_a_fresh_signature_of_the_body()
    {
        var header = WebhookSignature.Header(Secret, SignedAt.ToUnixTimeSeconds(), Body);

        WebhookSignature.Verify(Secret, header, Body, SignedAt).ShouldBeTrue();
        WebhookSignature.Verify(Secret, header, Body, SignedAt.AddMinutes(4)).ShouldBeTrue();
    }

    [Fact]
    public void Verify_refuses_another_secret()
    {
        var header = WebhookSignature.Header(Secret, SignedAt.ToUnixTimeSeconds(), Body);

        WebhookSignature.Verify("whsec_some_other_secret_xyz", header, Body, SignedAt).ShouldBeFalse();
    }

    [Fact]
    public void Verify_refuses_a_tampered_body()
    {
        var header = WebhookSignature.Header(Secret, SignedAt.ToUnixTimeSeconds(), Body);
        var tampered = Encoding.UTF8.GetBytes("""{"id":"abd","type":"webhook.test"}""");

        WebhookSignature.Verify(Secret, header, tampered, SignedAt).ShouldBeFalse();
    }

    [Fact]
    public void Verify_refuses_a_timestamp_older_or_newer_than_the_tolerance()
    {
        var header = WebhookSignature.Header(Secret, SignedAt.ToUnixTimeSeconds(), Body);

        WebhookSignature.Verify(Secret, header, Body, SignedAt.AddMinutes(6)).ShouldBeFalse();
        WebhookSignature.Verify(Secret, header, Body, SignedAt.AddMinutes(-6)).ShouldBeFalse();
        WebhookSignature.Verify(Secret, header, Body, SignedAt.AddMinutes(6), TimeSpan.FromMinutes(10)).ShouldBeTrue();
    }

    [Fact]
    public void Verify_refuses_a_signature_moved_to_another_timestamp()
    {
        // The timestamp is signed: replaying the body with a fresh t= and the old v1 fails.
        var old = WebhookSignature.Compute(Secret, SignedAt.ToUnixTimeSeconds(), Body);
        var later = SignedAt.AddHours(1);

        WebhookSignature.Verify(Secret, $"t={later.ToUnixTimeSeconds()},v1={old}", Body, later).ShouldBeFalse();
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("v1=9e1d9c84fc067ab248af28a2161f5e4e8df7077c685aac894aaf294655a895cb")]
    [InlineData("t=1700000000")]
    [InlineData("t=abc,v1=9e1d9c84fc067ab248af28a2161f5e4e8df7077c685aac894aaf294655a895cb")]
    [InlineData("t=1700000000,t=1700000000,v1=9e1d9c84fc067ab248af28a2161f5e4e8df7077c685aac894aaf294655a895cb")]
    [InlineData("t=1700000000,v1=9E1D9C84FC067AB248AF28A2161F5E4E8DF7077C685AAC894AAF294655A895CB")]
    [InlineData("garbage")]
    public void Verify_refuses_a_malformed_header(string? header)
    {
        WebhookSignature.Verify(Secret, header, Body, SignedAt).ShouldBeFalse();
    }

    [Fact]
    public void Verify_accepts_any_one_matching_v1_of_several()
    {
        var good = WebhookSignature.Compute(Secret, SignedAt.ToUnixTimeSeconds(), Body);

        WebhookSignature.Verify(Secret, $"t={SignedAt.ToUnixTimeSeconds()},v1={new string('0', 64)},v1={good}", Body, SignedAt).ShouldBeTrue();
    }
}
