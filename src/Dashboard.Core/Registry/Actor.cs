namespace Dashboard.Registry;

/// <summary>
/// Who makes a change: recorded as the <see cref="RegistryEvent.Actor"/> of the history and as the user of what they
/// create. Until sign-in exists (issue 6) every caller is <see cref="Local"/>; the web layer decides who the actor of
/// a request is in one place (Dashboard.Auth.CurrentActor).
/// </summary>
public sealed record Actor
{
    /// <summary>The column that holds it (registry_events.actor, user_id).</summary>
    public const int MaxLength = 256;

    public static readonly Actor Local = new("local");

    public Actor(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        // A longer name is cut rather than refused: the change itself is valid whoever makes it.
        Name = name.Length <= MaxLength ? name : name[..MaxLength];
    }

    public string Name { get; }

    public override string ToString() => Name;
}
