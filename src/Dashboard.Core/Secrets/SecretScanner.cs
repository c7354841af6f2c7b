using System.Text.RegularExpressions;

namespace Dashboard.Secrets;

/// <summary>
/// Tells whether a key or a value looks like a credential, and by which rule (docs/adr/0012, "Secret blocking").
/// <para>
/// Keys are split into lower-case words (snake_case, kebab-case, dots, slashes, spaces, camelCase and letter/digit
/// boundaries). A sensitive word counts only as the last word of the key (after dropping words that merely say how
/// the value is written: <c>value</c>, <c>str</c>, <c>b64</c> …), so <c>db_password</c>, <c>hf_token</c> and
/// <c>apiKey</c> are caught while <c>tokenizer</c>, <c>max_tokens</c>, <c>token_budget</c>, <c>num_keys</c>,
/// <c>key_dim</c>, <c>password_file</c> and <c>secret_sauce</c> pass. A tokenizer's special tokens (<c>pad_token</c>,
/// <c>eos_token</c> …) are settings, not credentials, and pass too.
/// </para>
/// <para>
/// Values are matched against the formats of well-known credentials (cloud keys, private key blocks, JWTs, URLs with
/// a password, providers' token formats, connection-string passwords). The expressions run without backtracking, so
/// their cost is linear in the value's length whatever a client sends.
/// </para>
/// </summary>
public static partial class SecretScanner
{
    // ---- Keys ----------------------------------------------------------------------------------------------------

    /// <summary>Words after the sensitive one that say only how the secret is written (db_password_b64 is still a password).</summary>
    private static readonly HashSet<string> EncodingWords = new(StringComparer.Ordinal)
    {
        "value", "val", "str", "string", "text", "raw", "plain", "plaintext", "b64", "base64", "hex", "enc", "encoded",
    };

    private static readonly HashSet<string> PasswordWords = new(StringComparer.Ordinal)
    {
        "password", "passwd", "pwd", "passphrase", "passcode",
    };

    /// <summary>The words before <c>token</c> that make it a tokenizer's setting (pad_token = "[PAD]"), not a credential.</summary>
    private static readonly HashSet<string> VocabularyTokenWords = new(StringComparer.Ordinal)
    {
        "pad", "eos", "bos", "unk", "sep", "cls", "mask", "start", "end", "stop", "special", "image", "video", "audio",
        "boi", "eoi", "boa", "eoa", "think", "tool", "placeholder", "default", "first", "last", "next", "prev", "new",
        "input", "output", "decoder", "encoder", "vision", "text", "eot", "im", "bot", "eom", "fim", "prefix", "suffix",
        "middle", "null", "empty", "label", "ignore", "unknown", "padding", "begin", "separator", "classifier",
        "sentinel", "query", "answer", "system", "user", "assistant", "turn", "chat", "control",
    };

    /// <summary>The words that make <c>…_key</c> a credential (api_key, secret_key …), with the rule they fall under.</summary>
    private static readonly Dictionary<string, string> KeyQualifiers = new(StringComparer.Ordinal)
    {
        ["api"] = Rules.ApiKey,
        ["access"] = Rules.AccessKey,
        ["secret"] = Rules.SecretKey,
        ["private"] = Rules.PrivateKey,
        ["signing"] = Rules.PrivateKey,
        ["encryption"] = Rules.PrivateKey,
        ["master"] = Rules.PrivateKey,
        ["ssh"] = Rules.PrivateKey,
        ["account"] = Rules.AccountKey,
        ["subscription"] = Rules.AccountKey,
        ["license"] = Rules.ApiKey,
    };

    /// <summary>The names of the rules, as messages and the secret_blocks table give them.</summary>
    public static class Rules
    {
        public const string Password = "key:password";
        public const string Secret = "key:secret";
        public const string Token = "key:token";
        public const string ApiKey = "key:api_key";
        public const string AccessKey = "key:access_key";
        public const string SecretKey = "key:secret_key";
        public const string PrivateKey = "key:private_key";
        public const string AccountKey = "key:account_key";
        public const string Credential = "key:credential";
        public const string ConnectionString = "key:connection_string";
        public const string Authorization = "key:authorization";
    }

    /// <summary>Every key rule's name.</summary>
    public static readonly IReadOnlyList<string> KeyRules =
    [
        Rules.Password, Rules.Secret, Rules.Token, Rules.ApiKey, Rules.AccessKey, Rules.SecretKey, Rules.PrivateKey,
        Rules.AccountKey, Rules.Credential, Rules.ConnectionString, Rules.Authorization,
    ];

    /// <summary>The rule a key breaks, or null when it may hold any value.</summary>
    public static string? MatchKey(string? key)
    {
        if (string.IsNullOrEmpty(key))
        {
            return null;
        }
        var raw = Words(key);
        var end = raw.Count;
        // connection_string is a name of its own, not "connection" written as a string.
        while (end > 1 && EncodingWords.Contains(raw[end - 1]) && raw[end - 2] is not ("connection" or "conn"))
        {
            end--;
        }
        var words = raw.Select(w => w.TrimEnd("0123456789".ToCharArray())).ToList();
        if (end == 0)
        {
            return null;
        }
        var last = words[end - 1];
        var before = end >= 2 ? words[end - 2] : null;
        var beforeThat = end >= 3 ? words[end - 3] : null;

        if (PasswordWords.Contains(last))
        {
            return Rules.Password;
        }
        switch (last)
        {
            case "secret" or "secrets" or "clientsecret":
                return Rules.Secret;
            case "token" or "authtoken" or "accesstoken" or "apitoken" or "bearer" or "jwt":
                // pad_token, eos_token …: a tokenizer's vocabulary; a bare "token" or hf_token: a credential.
                return before is not null && VocabularyTokenWords.Contains(before) ? null : Rules.Token;
            case "apikey" or "xapikey":
                return Rules.ApiKey;
            case "accesskey" or "secretkey" or "privatekey":
                return last == "accesskey" ? Rules.AccessKey : last == "secretkey" ? Rules.SecretKey : Rules.PrivateKey;
            case "credential" or "credentials" or "creds":
                return Rules.Credential;
            case "authorization":
                return Rules.Authorization;
            case "connectionstring" or "connstr":
                return Rules.ConnectionString;
            case "key":
                return before is not null && KeyQualifiers.TryGetValue(before, out var rule) ? rule : null;
            case "string" or "str" when before is "connection" or "conn":
                return Rules.ConnectionString;
            case "id":
                // aws_access_key_id: the key's public half, but it identifies an account and comes with the secret half.
                return before == "key" && beforeThat is "access" ? Rules.AccessKey
                    : before == "accesskey" ? Rules.AccessKey : null;
            default:
                return null;
        }
    }

    /// <summary>
    /// A key as lower-case words: split at every character that is not a letter or digit, between a lower-case letter
    /// or digit and an upper-case one (apiKey), and before the last capital of a run followed by a lower-case letter
    /// (APIKey → api, key). Digits stay in their word (b64, password2); matching ignores a word's trailing digits.
    /// </summary>
    public static IReadOnlyList<string> Words(string key)
    {
        var words = new List<string>();
        var current = new System.Text.StringBuilder();
        void Flush()
        {
            if (current.Length > 0)
            {
                words.Add(current.ToString().ToLowerInvariant());
                current.Clear();
            }
        }
        for (var i = 0; i < key.Length; i++)
        {
            var c = key[i];
            if (!char.IsLetterOrDigit(c))
            {
                Flush();
                continue;
            }
            if (current.Length > 0)
            {
                var p = key[i - 1];
                var boundary =
                    (char.IsUpper(c) && (char.IsLower(p) || char.IsDigit(p)))
                    || (char.IsUpper(c) && char.IsUpper(p) && i + 1 < key.Length && char.IsLower(key[i + 1]));
                if (boundary)
                {
                    Flush();
                }
            }
            current.Append(c);
        }
        Flush();
        return words;
    }

    // ---- Values --------------------------------------------------------------------------------------------------

    private sealed record ValueRule(string Name, Regex Pattern, Func<Match, bool>? Accept = null);

    private const RegexOptions Options = RegexOptions.CultureInvariant | RegexOptions.NonBacktracking;

    private static readonly TimeSpan Budget = TimeSpan.FromSeconds(1);

    private static Regex R(string pattern, bool ignoreCase = false) =>
        new(pattern, Options | (ignoreCase ? RegexOptions.IgnoreCase : RegexOptions.None), Budget);

    private static readonly ValueRule[] ValueRuleList =
    [
        new("value:private_key", R(@"-----BEGIN ([A-Z0-9]+ )*PRIVATE KEY( BLOCK)?-----")),
        new("value:aws_access_key_id", R(@"\b(AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|ANPA|ANVA|APKA)[A-Z0-9]{16}\b")),
        new("value:jwt", R(@"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*")),
        new("value:url_credentials", R(@"\b[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]*:(?<password>[^/\s@]+)@"),
            m => !IsPlaceholder(m.Groups["password"].Value)),
        new("value:github_token", R(@"\b(gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})")),
        new("value:gitlab_token", R(@"\bgl(pat|dt|rt|ptt|cbt|soat)-[A-Za-z0-9_-]{20,}")),
        new("value:slack_token", R(@"\bxox[abposre]-[A-Za-z0-9-]{10,}")),
        new("value:slack_webhook", R(@"hooks\.slack\.com/(services|workflows)/[A-Za-z0-9_/-]{20,}")),
        new("value:google_api_key", R(@"\bAIza[0-9A-Za-z_-]{35}")),
        new("value:stripe_key", R(@"\b(sk|rk)_(live|test)_[0-9A-Za-z]{16,}")),
        new("value:anthropic_api_key", R(@"\bsk-ant-(api|admin)[0-9]{2}-[A-Za-z0-9_-]{32,}")),
        // Legacy keys are sk- and letters and digits only; project, service and admin keys say so. Names such as
        // sk-learn-random-forest-classifier have dashes and no such prefix, and pass.
        new("value:openai_api_key", R(@"\b(sk-[A-Za-z0-9]{32,}|sk-(proj|svcacct|admin)-[A-Za-z0-9_-]{32,})")),
        new("value:huggingface_token", R(@"\bhf_[A-Za-z0-9]{30,}")),
        new("value:npm_token", R(@"\bnpm_[A-Za-z0-9]{36}")),
        new("value:pypi_token", R(@"\bpypi-AgE[A-Za-z0-9_-]{50,}")),
        new("value:dashboard_token", R(@"\bdsh_[A-Za-z0-9_-]{43}")),
        new("value:azure_account_key", R(@"\b(AccountKey|SharedAccessKey)\s*=\s*[A-Za-z0-9+/]{20,}", ignoreCase: true)),
        new("value:azure_sas", R(@"(\bSharedAccessSignature\s*=\s*\S|[?&]sig=[A-Za-z0-9%+/]{20,})", ignoreCase: true)),
        new("value:connection_string_password", R(@"(^|[;\s""'])(password|pwd)\s*=\s*(?<password>[^;\s""']+)", ignoreCase: true),
            m => !IsPlaceholder(m.Groups["password"].Value)),
        new("value:assigned_secret",
            R(@"\b(api[_-]?key|secret[_-]?key|access[_-]?key|client[_-]?secret|auth[_-]?token|access[_-]?token|secret|token)[""']?\s*[=:]\s*[""']?(?<secret>[A-Za-z0-9_+/.=-]{16,})", ignoreCase: true),
            m => !IsPlaceholder(m.Groups["secret"].Value)),
    ];

    /// <summary>Every value rule's name.</summary>
    public static readonly IReadOnlyList<string> ValueRules = [.. ValueRuleList.Select(r => r.Name)];

    /// <summary>The rule a value breaks, or null when it looks like no credential.</summary>
    public static string? MatchValue(string? value)
    {
        if (string.IsNullOrEmpty(value) || value.Length < 8)
        {
            return null;
        }
        foreach (var rule in ValueRuleList)
        {
            try
            {
                foreach (Match m in rule.Pattern.Matches(value))
                {
                    if (rule.Accept is null || rule.Accept(m))
                    {
                        return rule.Name;
                    }
                }
            }
            catch (RegexMatchTimeoutException)
            {
                // Linear expressions do not time out on a value of at most a few thousand characters; if one ever did,
                // the value is suspicious enough to hold back.
                return rule.Name;
            }
        }
        return null;
    }

    /// <summary>A masked or templated password (***, ${DB_PASSWORD}, &lt;password&gt;, {password}, %s): nothing secret in it.</summary>
    private static bool IsPlaceholder(string text) =>
        text.Length == 0
        || text.All(c => c == '*' || c == 'x' || c == 'X' || c == '.')
        || (text.StartsWith("${", StringComparison.Ordinal) && text.EndsWith('}'))
        || (text.StartsWith('{') && text.EndsWith('}'))
        || (text.StartsWith('<') && text.EndsWith('>'))
        || (text.StartsWith('%') && text.Length <= 3)
        || (text.StartsWith('$') && text.Skip(1).All(c => char.IsUpper(c) || char.IsDigit(c) || c == '_'));
}
