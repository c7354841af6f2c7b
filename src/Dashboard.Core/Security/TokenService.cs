using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Dashboard.Data;
using Dashboard.Governance;
using Microsoft.EntityFrameworkCore;

namespace Dashboard.Security;

/// <summary>A token as made: its row and its text, which is shown once and kept nowhere.</summary>
public sealed record IssuedToken(AccessToken Token, string Secret);

/// <summary>Who a valid token acts for.</summary>
public sealed record TokenIdentity(DashboardUser User, AccessToken Token);

/// <summary>
/// Personal and service tokens: <c>dsh_</c> and 43 base64url characters (32 random bytes). The store keeps the
/// SHA-256 of the text; a token is valid while it is neither revoked nor expired. Its last use is written at most once
/// a minute, so that a training loop's requests do not each cost a write. Creation and revocation are audited in their
/// transaction (<see cref="AuditLog"/>) with the token's id, name, prefix, scope and owner; never its text or hash.
/// </summary>
public sealed class TokenService(IDbContextFactory<DashboardDbContext> dbs, TimeProvider time)
{
    public const string TokenPrefix = "dsh_";
    public const int MaxNameLength = 100;
    private const int ShownPrefixLength = 12;
    private static readonly TimeSpan LastUseResolution = TimeSpan.FromMinutes(1);

    private DateTimeOffset Now => time.GetUtcNow();

    /// <summary>Whether a text has the shape of one of our tokens (not whether it is valid).</summary>
    public static bool LooksLikeToken(string? text) =>
        text is { Length: 47 } && text.StartsWith(TokenPrefix, StringComparison.Ordinal);

    public static string HashOf(string secret) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));

    /// <summary>Makes a token for a user. The name must be 1-100 characters; the expiry, when given, in the future.</summary>
    public async Task<IssuedToken> CreateAsync(long userId, string name, TokenScope scope, DateTimeOffset? expiry, string createdBy,
        CancellationToken ct)
    {
        name = name?.Trim() ?? "";
        if (name.Length is 0 or > MaxNameLength)
        {
            throw new ArgumentException($"A token's name must be 1 to {MaxNameLength} characters.", nameof(name));
        }
        if (expiry is { } e && e <= Now)
        {
            throw new ArgumentException("A token's expiry must be in the future.", nameof(expiry));
        }
        var secret = TokenPrefix + Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
        var token = new AccessToken
        {
            UserId = userId,
            Name = name,
            Scope = scope,
            Hash = HashOf(secret),
            Prefix = secret[..ShownPrefixLength],
            CreationTime = Now.ToUnixTimeMilliseconds(),
            ExpiryTime = expiry?.ToUnixTimeMilliseconds(),
            CreatedBy = createdBy,
        };
        await dbs.WriteAsync(async db =>
        {
            db.AccessTokens.Add(token);
            await db.SaveChangesAsync(ct);
            var owner = await db.Users.Where(u => u.Id == userId).Select(u => u.Name).FirstOrDefaultAsync(ct);
            AuditLog.Add(db, token.CreationTime, createdBy, AuditActions.TokenCreated, AuditTargets.AccessToken, Target(token),
                after: State(token, owner, token.RevokedTime));
            await db.SaveChangesAsync(ct);
            return token.Id;
        }, ct);
        return new IssuedToken(token, secret);
    }

    /// <summary>An audit event's target for a token: its id and name.</summary>
    private static string Target(AccessToken token) =>
        $"{token.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)} {token.Name}";

    /// <summary>What the audit trail keeps of a token: never its text or its hash.</summary>
    private static object State(AccessToken token, string? owner, long? revoked) => new
    {
        id = token.Id,
        name = token.Name,
        prefix = token.Prefix,
        scope = token.Scope.ToString().ToLowerInvariant(),
        owner,
        expiry_time = token.ExpiryTime,
        revoked_time = revoked,
    };

    /// <summary>The user and token a text stands for, or null when it is unknown, revoked or expired.</summary>
    public async Task<TokenIdentity?> ValidateAsync(string secret, CancellationToken ct)
    {
        if (!LooksLikeToken(secret))
        {
            return null;
        }
        var hash = HashOf(secret);
        await using var db = await dbs.CreateDbContextAsync(ct);
        var token = await db.AccessTokens.AsNoTracking().Include(t => t.User).FirstOrDefaultAsync(t => t.Hash == hash, ct);
        var now = Now.ToUnixTimeMilliseconds();
        if (token?.User is null || token.RevokedTime is not null || token.ExpiryTime is { } expiry && expiry <= now)
        {
            return null;
        }
        if (token.LastUsedTime is not { } last || now - last >= (long)LastUseResolution.TotalMilliseconds)
        {
            using var turn = await SqliteWriteGate.EnterAsync(db, ct);
            await db.AccessTokens.Where(t => t.Id == token.Id).ExecuteUpdateAsync(s => s.SetProperty(t => t.LastUsedTime, now), ct);
            token.LastUsedTime = now;
        }
        return new TokenIdentity(token.User, token);
    }

    /// <summary>Revokes a token; answers false when there is no such token or it was revoked already.</summary>
    public async Task<bool> RevokeAsync(long tokenId, CancellationToken ct) =>
        await dbs.WriteAsync(async db =>
        {
            var now = Now.ToUnixTimeMilliseconds();
            // The conditional update decides who revoked it when two requests race: only that one is audited.
            if (await db.AccessTokens.Where(t => t.Id == tokenId && t.RevokedTime == null)
                    .ExecuteUpdateAsync(s => s.SetProperty(t => t.RevokedTime, now), ct) == 0)
            {
                return false;
            }
            var token = await db.AccessTokens.AsNoTracking().Include(t => t.User).FirstAsync(t => t.Id == tokenId, ct);
            var owner = token.User?.Name;
            AuditLog.Add(db, now, null, AuditActions.TokenRevoked, AuditTargets.AccessToken, Target(token),
                State(token, owner, revoked: null), State(token, owner, now));
            await db.SaveChangesAsync(ct);
            return true;
        }, ct);

    public async Task<AccessToken?> FindAsync(long tokenId, CancellationToken ct)
    {
        await using var db = await dbs.CreateDbContextAsync(ct);
        return await db.AccessTokens.AsNoTracking().Include(t => t.User).FirstOrDefaultAsync(t => t.Id == tokenId, ct);
    }

    /// <summary>A user's tokens (or everyone's when null), newest first, revoked ones included.</summary>
    public async Task<IReadOnlyList<AccessToken>> ListAsync(long? userId, CancellationToken ct)
    {
        await using var db = await dbs.CreateDbContextAsync(ct);
        var query = db.AccessTokens.AsNoTracking().Include(t => t.User).AsQueryable();
        if (userId is { } id)
        {
            query = query.Where(t => t.UserId == id);
        }
        return await query.OrderByDescending(t => t.CreationTime).ThenByDescending(t => t.Id).ToListAsync(ct);
    }
}
