using System.Text;

namespace Paasta.Deployments;

/// <summary>
/// Writes JSON byte-for-byte as Python's <c>json.dump</c> does with its defaults (docs/BEHAVIOUR.md §3.2): <c>", "</c>
/// between items, <c>": "</c> after keys, keys in insertion order, one line, no trailing newline, and
/// <c>ensure_ascii</c> escaping — everything outside printable ASCII (0x20–0x7E) becomes <c>\uXXXX</c>
/// with lower-case hex (UTF-16 code units, so astral characters become surrogate pairs), plus the short
/// escapes <c>\" \\ \n \r \t \b \f</c>.
/// </summary>
public static class PythonJson
{
    public static void WriteString(StringBuilder sb, string? value)
    {
        if (value is null)
        {
            sb.Append("null");
            return;
        }
        sb.Append('"');
        foreach (var c in value)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                default:
                    if (c is >= ' ' and <= '~') sb.Append(c);
                    else sb.Append("\\u").Append(((int)c).ToString("x4"));
                    break;
            }
        }
        sb.Append('"');
    }

    /// <summary>Writes <c>{"k": v, ...}</c> where <paramref name="writeValue"/> writes each value.</summary>
    public static void WriteObject<T>(StringBuilder sb, IEnumerable<KeyValuePair<string, T>> entries, Action<StringBuilder, T> writeValue)
    {
        sb.Append('{');
        var first = true;
        foreach (var (key, value) in entries)
        {
            if (!first) sb.Append(", ");
            first = false;
            WriteString(sb, key);
            sb.Append(": ");
            writeValue(sb, value);
        }
        sb.Append('}');
    }

    /// <summary>Writes an object of string-or-null fields: <c>{"a": "x", "b": null}</c>.</summary>
    public static void WriteFields(StringBuilder sb, params (string Key, string? Value)[] fields)
    {
        sb.Append('{');
        for (var i = 0; i < fields.Length; i++)
        {
            if (i > 0) sb.Append(", ");
            WriteString(sb, fields[i].Key);
            sb.Append(": ");
            WriteString(sb, fields[i].Value);
        }
        sb.Append('}');
    }
}
