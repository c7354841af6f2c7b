using System.Text;
using System.Text.RegularExpressions;

namespace Dashboard.ModelCards;

/// <summary>
/// Reads requirement lines as pip does (PEP 508: <c>name[extras] specifier ; markers</c>, <c>name @ url</c>) and conda
/// match specs (<c>python=3.11.2</c>, <c>pip&lt;=23.0.1</c>, <c>conda-forge::numpy 1.26.*</c>). Nothing is resolved
/// or installed: the lines are only split into their parts.
/// </summary>
public static partial class Requirements
{
    /// <summary>requirements.txt: comments and blank lines dropped, continuations joined, options kept as other lines.</summary>
    public static (List<Requirement> Packages, List<string> Other) ParseFile(string text)
    {
        var packages = new List<Requirement>();
        var other = new List<string>();
        foreach (var line in LogicalLines(text))
        {
            if (ParseLine(line) is { } requirement)
            {
                packages.Add(requirement);
            }
            else
            {
                other.Add(line);
            }
        }
        return (packages, other);
    }

    /// <summary>
    /// One pip requirement; null for an option (<c>-r file</c>, <c>--index-url</c>), a path or a line pip would refuse.
    /// </summary>
    public static Requirement? ParseLine(string line)
    {
        var text = StripComment(line).Trim();
        if (text.Length == 0 || text[0] == '-')
        {
            return null;
        }
        var m = Pep508().Match(text);
        if (!m.Success)
        {
            return null;
        }
        var extras = m.Groups["extras"].Success
            ? m.Groups["extras"].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList()
            : null;
        var markers = m.Groups["markers"].Success ? NullIfEmpty(m.Groups["markers"].Value.Trim()) : null;
        if (m.Groups["url"].Success)
        {
            return new Requirement(m.Groups["name"].Value, null, null, extras, markers, m.Groups["url"].Value.Trim());
        }
        var specifier = NullIfEmpty(Whitespace().Replace(m.Groups["spec"].Value.Trim().TrimStart('(').TrimEnd(')'), ""));
        return new Requirement(m.Groups["name"].Value, specifier, PinnedVersion(specifier), extras, markers, null);
    }

    /// <summary>A conda match spec (a string item of conda.yaml's dependencies); null for an empty one.</summary>
    public static Requirement? ParseConda(string spec)
    {
        var text = StripComment(spec).Trim();
        // A channel prefix names where it comes from, not what it is.
        var channel = text.LastIndexOf("::", StringComparison.Ordinal);
        if (channel >= 0)
        {
            text = text[(channel + 2)..];
        }
        var m = CondaSpec().Match(text);
        if (!m.Success)
        {
            return null;
        }
        var rest = m.Groups["rest"].Value.Trim();
        if (rest.Length == 0)
        {
            return new Requirement(m.Groups["name"].Value, null, null, null, null, null);
        }
        // "name version build": the version is the second word (an exact one unless it has a wildcard or operator).
        string specifier;
        string? version;
        if (rest[0] is '=' or '<' or '>' or '!' or '~')
        {
            specifier = Whitespace().Replace(rest, "");
            var parts = specifier.StartsWith("==", StringComparison.Ordinal) ? null : specifier.Split('=');
            version = specifier.StartsWith("==", StringComparison.Ordinal)
                ? Exact(specifier[2..])
                // "=3.11.2" and "=3.11.2=h1234" (conda's version=build)
                : specifier[0] == '=' && parts is { Length: >= 2 } ? Exact(parts[1]) : null;
        }
        else
        {
            var words = rest.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            specifier = words[0];
            version = Exact(words[0]);
        }
        return new Requirement(m.Groups["name"].Value, specifier, version, null, null, null);
    }

    /// <summary>Compares package names as pip does (PEP 503: case-insensitive, runs of <c>-_.</c> equal).</summary>
    public static string Normalize(string name) => Separators().Replace(name, "-").ToLowerInvariant();

    /// <summary>The version a pip specifier pins exactly: one clause of <c>==</c> (without a wildcard) or <c>===</c>.</summary>
    private static string? PinnedVersion(string? specifier)
    {
        if (specifier is null || specifier.Contains(',', StringComparison.Ordinal))
        {
            return null;
        }
        if (specifier.StartsWith("===", StringComparison.Ordinal))
        {
            return NullIfEmpty(specifier[3..]);
        }
        return specifier.StartsWith("==", StringComparison.Ordinal) ? Exact(specifier[2..]) : null;
    }

    private static string? Exact(string version) =>
        version.Length == 0 || version.Contains('*', StringComparison.Ordinal) || version.IndexOfAny(['<', '>', '!', '~', ',', '|']) >= 0
            ? null
            : version;

    /// <summary>Lines with comments removed and <c>\</c> continuations joined, blank ones dropped.</summary>
    private static IEnumerable<string> LogicalLines(string text)
    {
        var current = new StringBuilder();
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (line.EndsWith('\\'))
            {
                current.Append(line.AsSpan(0, line.Length - 1));
                continue;
            }
            current.Append(line);
            var logical = StripComment(current.ToString()).Trim();
            current.Clear();
            if (logical.Length > 0)
            {
                yield return logical;
            }
        }
        var last = StripComment(current.ToString()).Trim();
        if (last.Length > 0)
        {
            yield return last;
        }
    }

    // pip: a comment starts a line or follows whitespace ("pkg==1 # note"); a '#' inside a URL fragment stays.
    private static string StripComment(string line)
    {
        for (var i = 0; i < line.Length; i++)
        {
            if (line[i] == '#' && (i == 0 || char.IsWhiteSpace(line[i - 1])))
            {
                return line[..i];
            }
        }
        return line;
    }

    private static string? NullIfEmpty(string s) => s.Length == 0 ? null : s;

    [GeneratedRegex(@"^(?<name>[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(?:\[(?<extras>[^\]]*)\])?\s*(?:@\s*(?<url>[^;\s]+)\s*|(?<spec>\(?\s*(?:(?:===|==|!=|<=|>=|~=|<|>)\s*[A-Za-z0-9._*+!-]+\s*,?\s*)*\)?))(?:;(?<markers>.*))?$", RegexOptions.NonBacktracking)]
    private static partial Regex Pep508();

    [GeneratedRegex(@"^(?<name>[A-Za-z0-9_](?:[A-Za-z0-9._-]*[A-Za-z0-9_])?)(?<rest>(?:\s*[=<>!~].*|\s+\S.*)?)$", RegexOptions.NonBacktracking)]
    private static partial Regex CondaSpec();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();

    [GeneratedRegex(@"[-_.]+")]
    private static partial Regex Separators();
}
