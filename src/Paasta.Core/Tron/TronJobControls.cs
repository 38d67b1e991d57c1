using Paasta.Deployments;
using Paasta.Errors;

namespace Paasta.Tron;

/// <summary>
/// What deployments.json says about the actions of Tron jobs: start, or stop (Stop-PaastaInstance wrote a stop
/// tag on the deployed commit of SERVICE:CLUSTER.JOB.ACTION). A job stops when any of its actions is stopped,
/// because a job runs its actions as one unit (one Tron job run, one CronJob pod): scheduling it without the
/// stopped action would run the actions that require it against nothing, so nothing of it is scheduled. The stop
/// lasts until the next deploy of the action's deploy group (a new deploy tag resets it to start, docs/BEHAVIOUR.md
/// §2.7). PaaSTA itself ignores stop for Tron; docs/DIFFERENCES.md, "Stopping a scheduled job", says why Paasta does not.
/// </summary>
public sealed class TronJobControls
{
    private readonly string _soaDir;
    private readonly Dictionary<string, DeploymentsDocument?> _documents = new(StringComparer.Ordinal);

    public TronJobControls(string soaDir) => _soaDir = soaDir;

    /// <summary>The actions of <paramref name="job"/> whose control entry says stop, in the job's action order.</summary>
    public IReadOnlyList<string> StoppedActions(TronJob job)
    {
        var document = Document(job.Service);
        if (document is null) return Array.Empty<string>();
        return job.Actions
            .Where(a => document.Controls.TryGetValue($"{a.Instance.Service}:{a.Instance.Branch}", out var control) && control.DesiredState == "stop")
            .Select(a => a.Name)
            .ToList();
    }

    /// <summary>The job as it is to be scheduled: stopped (enabled: false) while any of its actions is stopped, else as configured.</summary>
    public TronJob Apply(TronJob job) => job.StoppedBy(StoppedActions(job));

    /// <summary>Every job of <paramref name="jobs"/> as it is to be scheduled.</summary>
    public IReadOnlyList<TronJob> Apply(IEnumerable<TronJob> jobs) => jobs.Select(Apply).ToList();

    // An unreadable or missing deployments.json stops nothing: the image lookup already reports it.
    private DeploymentsDocument? Document(string service)
    {
        if (_documents.TryGetValue(service, out var known)) return known;
        DeploymentsDocument? document;
        try { document = DeploymentsFileStore.Load(DeploymentsFileStore.PathFor(Path.Combine(_soaDir, service)), service); }
        catch (PaastaException) { document = null; }
        return _documents[service] = document;
    }
}
