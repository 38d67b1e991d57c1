using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace Paasta.Config;

/// <summary>Kubernetes-safe names, as PaaSTA derives them (docs/BEHAVIOUR.md §5.2).</summary>
public static partial class Names
{
    public const string Spacer = ".";

    /// <summary><c>_</c> becomes <c>--</c>; a leading <c>--</c> becomes <c>underscore-</c>; lower case.</summary>
    public static string Sanitise(string name)
    {
        var s = name.Replace("_", "--");
        if (s.StartsWith("--", StringComparison.Ordinal)) s = "underscore-" + s[2..];
        return s.ToLowerInvariant();
    }

    /// <summary>Keeps names within <paramref name="limit"/>: the first limit-5 characters, '-', 4 chars of base32(md5).</summary>
    public static string LimitSizeWithHash(string name, int limit = 63, int suffix = 4)
    {
        if (name.Length <= limit) return name;
        var digest = MD5.HashData(Encoding.UTF8.GetBytes(name));
        var hash = Base32(digest).ToLowerInvariant()[..suffix];
        return name[..(limit - suffix - 1)] + "-" + hash;
    }

    [GeneratedRegex(@"^([a-z0-9]|[a-z0-9][a-z0-9_-]*[a-z0-9])*$")]
    public static partial Regex InstanceNamePattern();

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9_.-]*$")]
    public static partial Regex ServiceNamePattern();

    internal static string Base32(byte[] data)
    {
        const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        var sb = new StringBuilder((data.Length * 8 + 4) / 5);
        int buffer = 0, bits = 0;
        foreach (var b in data)
        {
            buffer = (buffer << 8) | b;
            bits += 8;
            while (bits >= 5)
            {
                sb.Append(alphabet[(buffer >> (bits - 5)) & 31]);
                bits -= 5;
            }
        }
        if (bits > 0) sb.Append(alphabet[(buffer << (5 - bits)) & 31]);
        return sb.ToString();
    }
}
