using Dashboard.Data;
using Dashboard.Governance;
using Microsoft.EntityFrameworkCore;

namespace Dashboard.Security;

/// <summary>
/// The people and service accounts Dashboard knows: a person's row is written at each sign-in (name, role and groups
/// as the provider said then), so that their tokens act with their current rights and an Admin can pick them when
/// granting permissions.
/// </summary>
public sealed class UserDirectory(IDbContextFactory<DashboardDbContext> dbs, TimeProvider time)
{
    public const string ServicePrefix = "service:";

    private long Now => time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>Records a sign-in: creates the person or updates their name, role and groups. Answers the row.</summary>
    public async Task<DashboardUser> RecordSignInAsync(string subject, string name, string? email, DashboardRole role,
        IReadOnlyCollection<string> groups, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(subject);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var groupText = string.Join('\n', groups.Where(g => !string.IsNullOrWhiteSpace(g)).Select(g => g.Trim()).Distinct(StringComparer.Ordinal));
        return await WriteAsync(async db =>
        {
            var now = Now;
            var user = await db.Users.FirstOrDefaultAsync(u => u.Subject == subject, ct);
            // Names are what permissions are granted to: a new person, or one whose name changed, may not take another's.
            var selfId = user?.Id ?? 0;
            if (user?.Name != name && await db.Users.AnyAsync(u => u.Name == name && u.Id != selfId, ct))
            {
                throw new InvalidOperationException($"Another account is already called '{name}'.");
            }
            if (user is null)
            {
                user = new DashboardUser { Subject = subject, Name = name, CreationTime = now };
                db.Users.Add(user);
            }
            user.Name = name;
            user.Email = email;
            user.Role = role;
            user.Groups = groupText;
            user.LastSeenTime = now;
            await db.SaveChangesAsync(ct);
            return user;
        }, ct);
    }

    /// <summary>
    /// Creates a service account (for programs; its tokens act as it), or answers the one of that name. A creation is
    /// audited in its transaction.
    /// </summary>
    public async Task<DashboardUser> EnsureServiceAccountAsync(string name, DashboardRole role, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var subject = ServicePrefix + name;
        return await WriteAsync(async db =>
        {
            var user = await db.Users.FirstOrDefaultAsync(u => u.Subject == subject, ct);
            if (user is null)
            {
                if (await db.Users.AnyAsync(u => u.Name == name, ct))
                {
                    throw new InvalidOperationException($"Another account is already called '{name}'.");
                }
                user = new DashboardUser { Subject = subject, Name = name, Role = role, IsService = true, CreationTime = Now };
                db.Users.Add(user);
                AuditLog.Add(db, user.CreationTime, null, AuditActions.ServiceAccountCreated, AuditTargets.ServiceAccount, name,
                    after: new { name, role = role.ToString() });
                await db.SaveChangesAsync(ct);
            }
            return user;
        }, ct);
    }

    /// <summary>The subject of Local mode's one user (<see cref="Caller.Local"/>).</summary>
    public const string LocalSubject = "local";

    /// <summary>Local mode's user row (subject <see cref="LocalSubject"/>, an Admin), made on first use, so that it can own tokens.</summary>
    public async Task<DashboardUser> EnsureLocalUserAsync(CancellationToken ct) =>
        await FindBySubjectAsync(LocalSubject, ct)
        ?? await RecordSignInAsync(LocalSubject, Caller.Local.Name, null, DashboardRole.Admin, [], ct);

    public async Task<DashboardUser?> FindAsync(long id, CancellationToken ct)
    {
        await using var db = await dbs.CreateDbContextAsync(ct);
        return await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.Id == id, ct);
    }

    public async Task<DashboardUser?> FindByNameAsync(string name, CancellationToken ct)
    {
        await using var db = await dbs.CreateDbContextAsync(ct);
        return await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.Name == name, ct);
    }

    public async Task<DashboardUser?> FindBySubjectAsync(string subject, CancellationToken ct)
    {
        await using var db = await dbs.CreateDbContextAsync(ct);
        return await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.Subject == subject, ct);
    }

    public async Task<IReadOnlyList<DashboardUser>> ListAsync(CancellationToken ct)
    {
        await using var db = await dbs.CreateDbContextAsync(ct);
        return await db.Users.AsNoTracking().OrderBy(u => u.Name).ToListAsync(ct);
    }

    private Task<T> WriteAsync<T>(Func<DashboardDbContext, Task<T>> work, CancellationToken ct) => dbs.WriteAsync(work, ct);
}
