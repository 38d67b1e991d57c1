using System.Text;

namespace Paasta.Tron;

/// <summary>A line diff for showing configuration changes (-WhatIf).</summary>
public static class TextDiff
{
    /// <summary>
    /// A unified diff (3 lines of context) from <paramref name="before"/> to <paramref name="after"/>;
    /// empty when they are equal. Longest common subsequence on lines; texts over 4,000 lines each are
    /// shown as removed-then-added.
    /// </summary>
    public static string Unified(string before, string after, string beforeName = "current", string afterName = "generated")
    {
        if (before == after) return "";
        var a = SplitLines(before);
        var b = SplitLines(after);
        var ops = Diff(a, b);
        var sb = new StringBuilder();
        sb.Append("--- ").Append(beforeName).Append('\n').Append("+++ ").Append(afterName).Append('\n');
        const int context = 3;
        var i = 0;
        while (i < ops.Count)
        {
            if (ops[i].Kind == ' ') { i++; continue; }
            var start = Math.Max(0, i - context);
            var end = i;
            // Extend the hunk while changes are within 2*context lines of each other.
            while (end < ops.Count)
            {
                if (ops[end].Kind != ' ') { end++; continue; }
                var run = end;
                while (run < ops.Count && ops[run].Kind == ' ') run++;
                if (run == ops.Count || run - end > 2 * context) { end = Math.Min(ops.Count, end + context); break; }
                end = run;
            }
            var aStart = ops[start].A;
            var bStart = ops[start].B;
            var aLen = ops.Skip(start).Take(end - start).Count(o => o.Kind != '+');
            var bLen = ops.Skip(start).Take(end - start).Count(o => o.Kind != '-');
            sb.Append($"@@ -{aStart + (aLen == 0 ? 0 : 1)},{aLen} +{bStart + (bLen == 0 ? 0 : 1)},{bLen} @@\n");
            for (var k = start; k < end; k++) sb.Append(ops[k].Kind).Append(ops[k].Line).Append('\n');
            i = end;
        }
        return sb.ToString();
    }

    private readonly record struct Op(char Kind, string Line, int A, int B);

    private static List<string> SplitLines(string text)
    {
        var lines = text.Split('\n').ToList();
        if (lines.Count > 0 && lines[^1].Length == 0) lines.RemoveAt(lines.Count - 1);
        return lines;
    }

    private static List<Op> Diff(List<string> a, List<string> b)
    {
        var ops = new List<Op>();
        if ((long)a.Count * b.Count > 16_000_000)
        {
            for (var x = 0; x < a.Count; x++) ops.Add(new Op('-', a[x], x, 0));
            for (var y = 0; y < b.Count; y++) ops.Add(new Op('+', b[y], a.Count, y));
            return ops;
        }
        var lcs = new int[a.Count + 1, b.Count + 1];
        for (var x = a.Count - 1; x >= 0; x--)
            for (var y = b.Count - 1; y >= 0; y--)
                lcs[x, y] = a[x] == b[y] ? lcs[x + 1, y + 1] + 1 : Math.Max(lcs[x + 1, y], lcs[x, y + 1]);
        int i = 0, j = 0;
        while (i < a.Count || j < b.Count)
        {
            if (i < a.Count && j < b.Count && a[i] == b[j]) { ops.Add(new Op(' ', a[i], i, j)); i++; j++; }
            else if (i < a.Count && (j == b.Count || lcs[i + 1, j] >= lcs[i, j + 1])) { ops.Add(new Op('-', a[i], i, j)); i++; }
            else { ops.Add(new Op('+', b[j], i, j)); j++; }
        }
        return ops;
    }
}

/// <summary>
/// The compare-then-post protocol of setup_tron_namespace (docs/BEHAVIOUR.md §10.3): read the namespace's config and
/// hash, skip when the YAML says the same, otherwise post the new text with the hash that was read (so a
/// master that changed meanwhile refuses the stale update instead of losing someone else's change).
/// </summary>
public sealed class TronNamespaceSync
{
    private readonly TronClient _client;

    public TronNamespaceSync(TronClient client) => _client = client;

    /// <summary>Reads the master and decides. Writes nothing.</summary>
    public async Task<(TronNamespaceSyncResult Result, TronStoredConfig Current)> PlanAsync(TronNamespaceConfig config, CancellationToken cancellation)
    {
        var current = await _client.GetConfigAsync(config.Namespace, cancellation).ConfigureAwait(false);
        var same = TronClient.SameConfig(current.Config, config.Yaml);
        var result = new TronNamespaceSyncResult
        {
            Namespace = config.Namespace,
            Cluster = config.Cluster,
            TronUrl = _client.MasterUrl.ToString(),
            Action = same ? TronSyncAction.Unchanged : TronSyncAction.Updated,
            OldHash = current.Hash,
            NewHash = same ? current.Hash : config.Hash,
            Diff = same ? "" : TextDiff.Unified(current.Config, config.Yaml, $"{config.Namespace} on the Tron master", $"{config.Namespace} from soa-configs"),
            Jobs = config.Jobs,
        };
        return (result, current);
    }

    public Task ApplyAsync(TronNamespaceConfig config, TronStoredConfig current, CancellationToken cancellation) =>
        _client.PostConfigAsync(config.Namespace, config.Yaml, current.Hash, cancellation);
}
