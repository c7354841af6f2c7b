using System.Security.Cryptography;

namespace Dashboard.Tracking;

/// <summary>
/// Readable names for runs created without one, like MLflow's "adjective-noun-123". The word lists are our own.
/// </summary>
public static class RunNames
{
    private static readonly string[] Adjectives =
    [
        "amber", "bold", "brave", "bright", "calm", "clever", "crisp", "dapper", "eager", "fancy", "gentle", "glad",
        "golden", "happy", "honest", "jolly", "keen", "kind", "lively", "lucky", "merry", "mighty", "nimble", "noble",
        "polite", "proud", "quick", "quiet", "rapid", "silent", "sleek", "smart", "steady", "sunny", "swift", "tidy",
        "upbeat", "vivid", "warm", "wise", "witty", "zesty",
    ];

    private static readonly string[] Nouns =
    [
        "badger", "bear", "bee", "bison", "cat", "cobra", "crane", "deer", "dolphin", "eagle", "falcon", "finch",
        "fox", "gecko", "goat", "hare", "hawk", "heron", "ibis", "koala", "lark", "lemur", "lion", "lynx", "mole",
        "moose", "newt", "orca", "otter", "owl", "panda", "puffin", "quail", "raven", "seal", "shrew", "sloth",
        "swan", "tiger", "toad", "trout", "whale", "wolf", "yak", "zebra",
    ];

    public static string Generate() =>
        $"{Adjectives[RandomNumberGenerator.GetInt32(Adjectives.Length)]}-{Nouns[RandomNumberGenerator.GetInt32(Nouns.Length)]}-{RandomNumberGenerator.GetInt32(1000)}";
}
