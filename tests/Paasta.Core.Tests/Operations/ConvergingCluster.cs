using System.Text.Json.Nodes;
using Paasta.Kubernetes;
using Paasta.Operations;
using Paasta.Tests.Kubernetes;

namespace Paasta.Tests.Operations;

/// <summary>
/// What runs on a cluster between Paasta's calls, over a <see cref="FakeKubeApi"/>: a kubelet that gives every
/// Deployment its pods (ready, or crash-looping for the commits in <see cref="BadShas"/>) and its status, and, when
/// given one, a reconcile loop (Sync passes, as a cron'd Sync-PaastaInstance would make). Ticks every 20 ms until disposed.
/// </summary>
public sealed class ConvergingCluster : IDisposable
{
    private readonly FakeKubeApi _api;
    private readonly Action? _reconcile;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private int _pods;

    public ConvergingCluster(FakeKubeApi api, Action? reconcile = null)
    {
        _api = api;
        _reconcile = reconcile;
        _loop = Task.Run(Loop);
    }

    /// <summary>Commits whose copies crash on start (restarted 3 times, CrashLoopBackOff, never ready).</summary>
    public HashSet<string> BadShas { get; } = new(StringComparer.Ordinal);

    private async Task Loop()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                _reconcile?.Invoke();
                Kubelet();
            }
            catch (Exception) when (!_stop.IsCancellationRequested) { } // a tick that met a half-written store tries again
            try { await Task.Delay(20, _stop.Token); } catch (OperationCanceledException) { }
        }
    }

    private void Kubelet()
    {
        foreach (var live in _api.All("deployments").ToList())
        {
            var deployment = live.DeepClone().AsObject();
            var ns = deployment["metadata"]!["namespace"]!.GetValue<string>();
            var name = deployment["metadata"]!["name"]!.GetValue<string>();
            var template = deployment["spec"]!["template"]!["metadata"]!["labels"]!.AsObject();
            var replicas = deployment["spec"]!["replicas"]?.GetValue<int>() ?? 1;
            var sha = template[KubernetesObjectBuilder.GitShaLabel]?.GetValue<string>() ?? "";
            bool Bad() { lock (BadShas) return BadShas.Contains(sha); }
            var bad = Bad();
            var mine = _api.All("pods").Where(p => p["metadata"]!["namespace"]!.GetValue<string>() == ns
                && template.All(kv => p["metadata"]!["labels"]?[kv.Key]?.GetValue<string>() == kv.Value!.GetValue<string>())).Count();
            for (var i = mine; i < replicas; i++) _api.Add("pods", Pod(ns, $"{name}-{Interlocked.Increment(ref _pods)}", template, bad));
            var ready = bad ? 0 : replicas;
            deployment["metadata"]!["generation"] ??= 1L;
            deployment["status"] = new JsonObject
            {
                ["replicas"] = replicas,
                ["readyReplicas"] = ready,
                ["availableReplicas"] = ready,
                ["updatedReplicas"] = replicas,
                ["observedGeneration"] = deployment["metadata"]!["generation"]!.GetValue<long>(),
            };
            // Only over the object read: a Sync that replaced it meanwhile wins.
            var version = live["metadata"]!["resourceVersion"]?.GetValue<string>();
            if (_api.Get("deployments", ns, name)?["metadata"]?["resourceVersion"]?.GetValue<string>() == version) _api.Add("deployments", deployment);
        }
    }

    private static JsonObject Pod(string ns, string name, JsonObject labels, bool crashing) => new()
    {
        ["apiVersion"] = "v1",
        ["kind"] = "Pod",
        ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = ns, ["labels"] = labels.DeepClone() },
        ["spec"] = new JsonObject { ["nodeName"] = "node", ["containers"] = new JsonArray(new JsonObject { ["name"] = "main", ["image"] = "x" }) },
        ["status"] = new JsonObject
        {
            ["phase"] = "Running",
            ["conditions"] = new JsonArray(new JsonObject { ["type"] = "Ready", ["status"] = crashing ? "False" : "True" }),
            ["containerStatuses"] = new JsonArray(new JsonObject
            {
                ["name"] = "main",
                ["ready"] = !crashing,
                ["restartCount"] = crashing ? 3 : 0,
                ["image"] = "x",
                ["imageID"] = "",
                ["state"] = crashing
                    ? new JsonObject { ["waiting"] = new JsonObject { ["reason"] = "CrashLoopBackOff", ["message"] = "back-off 40s restarting failed container" } }
                    : new JsonObject { ["running"] = new JsonObject() },
            }),
        },
    };

    public void Dispose()
    {
        _stop.Cancel();
        try { _loop.Wait(TimeSpan.FromSeconds(10)); } catch (AggregateException) { }
        _stop.Dispose();
    }
}
