using System.Security.Cryptography;

namespace Dashboard.Core.Tests.Support;

public class GeneratedStreamTests
{
    [Fact]
    public async Task Makes_the_same_bytes_whatever_the_sizes_of_the_reads()
    {
        var hashes = new List<byte[]>();
        foreach (var readSize in new[] { 1, 3, 8, 13, 4096, 100_000 })
        {
            await using var stream = new GeneratedStream(250_003, seed: 7);
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var buffer = new byte[readSize];
            int read;
            while ((read = await stream.ReadAsync(buffer.AsMemory(0, readSize), TestContext.Current.CancellationToken)) > 0)
            {
                hash.AppendData(buffer, 0, read);
            }
            stream.Position.ShouldBe(250_003);
            hashes.Add(hash.GetHashAndReset());
        }

        hashes.Select(Convert.ToHexString).Distinct().Count().ShouldBe(1);
    }

    [Fact]
    public async Task Makes_different_bytes_for_different_seeds_and_fails_where_told()
    {
        await using var one = new GeneratedStream(64, seed: 1);
        await using var two = new GeneratedStream(64, seed: 2);
        await using var failing = new GeneratedStream(1000, seed: 1, failAfter: 100);
        var a = new byte[64];
        var b = new byte[64];

        await one.ReadExactlyAsync(a, TestContext.Current.CancellationToken);
        await two.ReadExactlyAsync(b, TestContext.Current.CancellationToken);
        await failing.ReadExactlyAsync(new byte[100], TestContext.Current.CancellationToken);

        a.ShouldNotBe(b);
        a.Distinct().Count().ShouldBeGreaterThan(32);
        await Should.ThrowAsync<IOException>(async () => await failing.ReadExactlyAsync(new byte[10], TestContext.Current.CancellationToken));
    }
}
