using System.Globalization;
using System.Text;

namespace Dashboard.Search;

/// <summary>A rejected filter or order_by, with the 0-based offset of the fault.</summary>
internal sealed class SearchSyntaxException(string message, int position) : Exception(message)
{
    public int Position { get; } = position;
}

/// <summary>
/// An identifier as written: <c>entity.key</c>, or a bare or quoted attribute name (Entity null).
/// <see cref="Start"/> and <see cref="KeyStart"/> are offsets in the text.
/// </summary>
internal readonly record struct RawIdentifier(string? Entity, string Key, int Start, int EntityEnd, int KeyStart);

/// <summary>
/// A cursor over filter or order_by text with the lexical rules both share. It never builds SQL: everything it
/// reads becomes a key or a value that is later bound as a parameter.
/// </summary>
internal sealed class FilterScanner(string text)
{
    public string Text { get; } = text;

    public int Position { get; set; }

    public bool AtEnd => Position >= Text.Length;

    public char Current => Position < Text.Length ? Text[Position] : '\0';

    public void SkipWhitespace()
    {
        while (!AtEnd && char.IsWhiteSpace(Text[Position]))
        {
            Position++;
        }
    }

    public static bool IsWordStart(char c) => char.IsLetter(c) || c == '_';

    public static bool IsWordChar(char c) => char.IsLetterOrDigit(c) || c == '_';

    // A bare key is what MLflow allows in a key ([/\w.\- :] without the space), so most keys need no quotes.
    private static bool IsBareKeyChar(char c) => char.IsLetterOrDigit(c) || c is '_' or '.' or '-' or '/' or ':';

    /// <summary>Reads a run of word characters, or returns null without moving.</summary>
    public string? TryReadWord()
    {
        if (AtEnd || !IsWordChar(Current))
        {
            return null;
        }
        var start = Position;
        while (!AtEnd && IsWordChar(Current))
        {
            Position++;
        }
        return Text[start..Position];
    }

    /// <summary>Reads a case-insensitive keyword that ends at a word boundary, or returns false without moving.</summary>
    public bool TryReadKeyword(string keyword)
    {
        if (string.Compare(Text, Position, keyword, 0, keyword.Length, StringComparison.OrdinalIgnoreCase) != 0)
        {
            return false;
        }
        var end = Position + keyword.Length;
        if (end < Text.Length && IsWordChar(Text[end]))
        {
            return false;
        }
        Position = end;
        return true;
    }

    /// <summary>
    /// Reads <c>entity.key</c>, a bare attribute word, or a quoted attribute name. Keys may be quoted with
    /// backticks, double or single quotes (a doubled quote stands for itself), or written bare with dots
    /// (<c>tags.mlflow.runName</c>). Returns null without moving when no identifier starts here.
    /// </summary>
    public RawIdentifier? TryReadIdentifier(Func<string, int, Exception> error)
    {
        var start = Position;
        if (Current is '`' or '"')
        {
            var quoted = ReadQuoted(Current, error, "identifier");
            if (Current != '.')
            {
                return new RawIdentifier(null, quoted, start, start, start);
            }
            // A quoted entity word such as `metrics`.x
            return ReadKeyPart(quoted, start, error);
        }
        if (!IsWordStart(Current))
        {
            return null;
        }
        var word = TryReadWord()!;
        if (Current != '.')
        {
            return new RawIdentifier(null, word, start, Position, start);
        }
        return ReadKeyPart(word, start, error);
    }

    private RawIdentifier ReadKeyPart(string entity, int start, Func<string, int, Exception> error)
    {
        var entityEnd = Position;
        Position++; // the dot
        var keyStart = Position;
        string key;
        if (Current is '`' or '"' or '\'')
        {
            key = ReadQuoted(Current, error, "key");
        }
        else
        {
            while (!AtEnd && IsBareKeyChar(Current))
            {
                Position++;
            }
            key = Text[keyStart..Position];
        }
        if (key.Length == 0)
        {
            throw error("a key after '" + entity + ".'", keyStart);
        }
        return new RawIdentifier(entity, key, start, entityEnd, keyStart);
    }

    /// <summary>Reads a string quoted with <paramref name="quote"/>; a doubled quote inside stands for one.</summary>
    public string ReadQuoted(char quote, Func<string, int, Exception> error, string what)
    {
        var start = Position;
        Position++;
        var sb = new StringBuilder();
        while (true)
        {
            if (AtEnd)
            {
                throw error($"a closing {quote} for the {what} that starts", start);
            }
            var c = Text[Position++];
            if (c != quote)
            {
                sb.Append(c);
            }
            else if (Current == quote)
            {
                sb.Append(quote);
                Position++;
            }
            else
            {
                return sb.ToString();
            }
        }
    }

    /// <summary>Reads a decimal number (sign, fraction and exponent optional), or returns null without moving.</summary>
    public (double Value, string Text)? TryReadNumber()
    {
        var start = Position;
        var p = Position;
        if (p < Text.Length && Text[p] is '+' or '-')
        {
            p++;
        }
        var digits = 0;
        while (p < Text.Length && char.IsAsciiDigit(Text[p]))
        {
            p++;
            digits++;
        }
        if (p < Text.Length && Text[p] == '.')
        {
            p++;
            while (p < Text.Length && char.IsAsciiDigit(Text[p]))
            {
                p++;
                digits++;
            }
        }
        if (digits == 0)
        {
            return null;
        }
        if (p < Text.Length && Text[p] is 'e' or 'E')
        {
            var e = p + 1;
            if (e < Text.Length && Text[e] is '+' or '-')
            {
                e++;
            }
            var expDigits = 0;
            while (e < Text.Length && char.IsAsciiDigit(Text[e]))
            {
                e++;
                expDigits++;
            }
            if (expDigits > 0)
            {
                p = e;
            }
        }
        var number = Text[start..p];
        if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
        {
            return null;
        }
        Position = p;
        return (value, number);
    }

    /// <summary>The text for a message, shortened so that a 10,000-character filter does not fill a log line.</summary>
    public static string Shown(string text) => text.Length <= 500 ? text : text[..500] + "...";

    /// <summary>
    /// Refuses text that the databases cannot take as a parameter: PostgreSQL rejects NUL in text, and a lone
    /// surrogate cannot be encoded as UTF-8. Either would otherwise surface as a 500.
    /// </summary>
    public static int FirstUnencodable(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '\0')
            {
                return i;
            }
            if (char.IsHighSurrogate(c))
            {
                if (i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
                {
                    i++;
                    continue;
                }
                return i;
            }
            if (char.IsLowSurrogate(c))
            {
                return i;
            }
        }
        return -1;
    }
}
