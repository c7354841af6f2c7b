using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace Dashboard.Registry;

/// <summary>
/// The hosts a model version source may name (docs/adr/0009-model-registry.md, "Sources"). This server never
/// fetches a source, but clients and serving tools download what get-download-uri answers, sometimes from inside
/// the network: a source must not point them at loopback, private, link-local (cloud metadata at
/// 169.254.169.254) or other internal addresses. Names are judged as written and never resolved (resolving would
/// only be true at that moment): a public name that resolves to a private address cannot be seen here, so whoever
/// fetches must still check the address it connects to.
/// </summary>
internal static partial class NetworkHosts
{
    // Names that only mean something inside a network: RFC 6761 (localhost), RFC 6762 (local), RFC 8375
    // (home.arpa), ICANN's private-use TLD (internal: metadata.google.internal, ec2.internal), and the
    // localdomain of many resolvers.
    private static readonly string[] InternalSuffixes = ["localhost", "local", "localdomain", "internal", "home.arpa"];

    // IPv4 blocks that are not global unicast (IANA's special-purpose registry): this network, private,
    // shared (CGN), loopback, link-local, IETF protocol assignments, documentation, 6to4 relay, benchmarking,
    // multicast, reserved and broadcast.
    private static readonly (uint Network, int Bits)[] NonGlobalIPv4 =
    [
        (0x00000000, 8), (0x0A000000, 8), (0x64400000, 10), (0x7F000000, 8), (0xA9FE0000, 16), (0xAC100000, 12),
        (0xC0000000, 24), (0xC0000200, 24), (0xC0586300, 24), (0xC0A80000, 16), (0xC6120000, 15), (0xC6336400, 24),
        (0xCB007100, 24), (0xE0000000, 4), (0xF0000000, 4),
    ];

    [GeneratedRegex("^(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}$")]
    private static partial Regex DottedQuad();

    // What a resolver or a URL parser would read as an IPv4 number: decimal, octal (leading 0) or hex (0x).
    [GeneratedRegex("^([0-9]+|0x[0-9a-f]*)$")]
    private static partial Regex NumericLabel();

    [GeneratedRegex("^[a-z0-9-]+$")]
    private static partial Regex Label();

    /// <summary>
    /// What is wrong with the authority (<c>host</c>, <c>host:port</c> or <c>[IPv6]:port</c>) of a network URI,
    /// or null when it names a public host. <paramref name="authority"/> is decoded already.
    /// </summary>
    public static string? Problem(string authority)
    {
        if (authority.Contains('@', StringComparison.Ordinal))
        {
            return "a source must not carry user information or credentials ('user@host').";
        }
        string host;
        string? port;
        if (authority.StartsWith('['))
        {
            var close = authority.IndexOf(']', StringComparison.Ordinal);
            if (close < 0)
            {
                return "an IPv6 address in brackets needs its closing ']'.";
            }
            host = authority[1..close];
            var after = authority[(close + 1)..];
            if (after.Length > 0 && after[0] != ':')
            {
                return "only a port may follow an IPv6 address in brackets.";
            }
            port = after.Length > 0 ? after[1..] : null;
            if (PortProblem(port) is { } portProblem)
            {
                return portProblem;
            }
            return IPv6Problem(host);
        }
        var colon = authority.IndexOf(':', StringComparison.Ordinal);
        host = colon < 0 ? authority : authority[..colon];
        port = colon < 0 ? null : authority[(colon + 1)..];
        return PortProblem(port) ?? HostProblem(host.ToLowerInvariant());
    }

    private static string? PortProblem(string? port) =>
        port is null
        || (port.Length is > 0 and <= 5 && port.All(char.IsAsciiDigit) && int.Parse(port, CultureInfo.InvariantCulture) <= 65535)
            ? null
            : "a port is a number from 0 to 65535.";

    private static string? HostProblem(string host)
    {
        if (host.Length == 0)
        {
            return "a network source needs a host.";
        }
        // One trailing dot is the root of DNS ("localhost." is localhost).
        var name = host.EndsWith('.') ? host[..^1] : host;
        var labels = name.Split('.');
        if (labels.Any(l => !Label().IsMatch(l)))
        {
            // Also refuses full-width digits and dots, which URL parsers fold into ASCII ones.
            return "a host name is made of ASCII letters, digits and '-' between single dots (IDNA names as xn--).";
        }
        if (NumericLabel().IsMatch(labels[^1]))
        {
            // Resolvers and URL parsers read 2130706433, 0x7f.1, 0177.0.0.1 and 127.1 as 127.0.0.1.
            if (!DottedQuad().IsMatch(name))
            {
                return "an IPv4 address is written as four decimal numbers (no decimal, octal, hex or shortened forms).";
            }
            var address = BinaryPrimitives.ReadUInt32BigEndian(IPAddress.Parse(name).GetAddressBytes());
            return NonGlobalIPv4.Any(b => (address >> (32 - b.Bits)) == (b.Network >> (32 - b.Bits)))
                ? "the host is a loopback, private, link-local or otherwise internal address."
                : null;
        }
        if (labels.Length == 1 || InternalSuffixes.Any(s => name == s || name.EndsWith("." + s, StringComparison.Ordinal)))
        {
            return "the host is an internal name (localhost, a name without a domain, .local, .internal, ...).";
        }
        return null;
    }

    private static string? IPv6Problem(string literal)
    {
        // A zone ("fe80::1%eth0") only means something on one machine.
        if (literal.Contains('%', StringComparison.Ordinal) || !IPAddress.TryParse(literal, out var address)
            || address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return "the host in brackets is not an IPv6 address.";
        }
        var bytes = address.GetAddressBytes();
        var first = BinaryPrimitives.ReadUInt16BigEndian(bytes);
        var second = BinaryPrimitives.ReadUInt16BigEndian(bytes.AsSpan(2));
        // Global unicast is 2000::/3. Everything else (::, ::1, IPv4-mapped and -compatible forms, NAT64, ULA
        // fc00::/7, link-local fe80::/10, multicast) is refused, and so are the parts of 2000::/3 that are not one
        // public host: IETF assignments with Teredo 2001::/23, documentation 2001:db8::/32 and 3fff::/20, 6to4 2002::/16.
        var global = (first & 0xE000) == 0x2000
            && !(first == 0x2001 && second < 0x0200)
            && !(first == 0x2001 && second == 0x0DB8)
            && first != 0x2002
            && !(first == 0x3FFF && second < 0x1000);
        return global ? null : "the host is a loopback, private, link-local or otherwise internal address.";
    }
}
