using System.Management.Automation;
using Paasta.Kubernetes;
using Paasta.Settings;

namespace Paasta.Commands;

/// <summary>Base of cmdlets that talk to a Kubernetes cluster: -KubeConfig and -Context, one connection per invocation.</summary>
public abstract class KubeCmdlet : SoaConfigCmdlet
{
    private KubeConnection? _connection;

    /// <summary>The kubeconfig file. Defaults to the first file of $env:KUBECONFIG, then Set-PaastaConfiguration -KubeConfig, then ~/.kube/config.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? KubeConfig { get; set; }

    /// <summary>The kubeconfig context. Defaults to $env:PAASTA_KUBE_CONTEXT, then Set-PaastaConfiguration -KubeContext, then the current context.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Context { get; set; }

    /// <summary>The connection, opened on first use (so a cmdlet that fails earlier never reads the kubeconfig).</summary>
    protected KubeConnection Kube
    {
        get
        {
            if (_connection is null)
            {
                var target = KubeTarget.Resolve(KubeConfig is null ? null : GetUnresolvedProviderPathFromPSPath(KubeConfig), Context, PaastaSettingsStore.Current);
                _connection = KubeConnection.Open(target);
                WriteVerbose($"Kubernetes: {_connection.ServerUrl} (kubeconfig {target.KubeConfigPath}{(target.Context is null ? "" : $", context {target.Context}")})");
            }
            return _connection;
        }
    }

    /// <summary>Waits for engine work on the pipeline thread; Ctrl+C cancels it.</summary>
    protected T Await<T>(Task<T> task)
    {
        try { return task.WaitAsync(CancellationToken).GetAwaiter().GetResult(); }
        catch (OperationCanceledException) when (CancellationToken.IsCancellationRequested) { throw new PipelineStoppedException(); }
    }

    protected void Await(Task task)
    {
        try { task.WaitAsync(CancellationToken).GetAwaiter().GetResult(); }
        catch (OperationCanceledException) when (CancellationToken.IsCancellationRequested) { throw new PipelineStoppedException(); }
    }

    protected override void EndProcessing()
    {
        if (_connection is not null)
        {
            WriteVerbose($"Kubernetes API: {_connection.Counter.Requests} request(s), {_connection.Counter.Writes} write(s).");
            _connection.Dispose();
        }
        base.EndProcessing();
    }
}
