using System.Diagnostics;
using Paasta.Config;
using Paasta.Deployments;
using Paasta.Errors;
using Paasta.Git;
using Paasta.Kubernetes;

namespace Paasta.Operations;

/// <summary>Deploy-PaastaService: one version through a service's pipeline.</summary>
public sealed record DeployRequest(string Service, string Commit)
{
    public string? ImageVersion { get; init; }
    /// <summary>Run only this step of the pipeline (a deploy group); null: every step, in order.</summary>
    public string? DeployGroup { get; init; }
    /// <summary>-AutoRollback (true) or -NoAutoRollback (false); null: each step's auto_rollback in deploy.yaml.</summary>
    public bool? AutoRollback { get; init; }
    /// <summary>How long each step may take to come up; null: the step's timeout in deploy.yaml, else <see cref="DeployPipelineOperation.DefaultTimeout"/>.</summary>
    public TimeSpan? Timeout { get; init; }
    /// <summary>Make the clusters converge with Sync passes while waiting (for users without a reconcile loop).</summary>
    public bool Sync { get; init; }
    /// <summary>Answers yes to trigger_next_step_manually (the sink's ShouldContinue answers it; this is for the record).</summary>
    public bool Force { get; init; }
    public string? Repository { get; init; }
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(1);
}

/// <summary>
/// Deploy-PaastaService (what PaaSTA's Jenkins pipeline does with mark-for-deployment --wait-for-deployment, step by
/// step; docs/BEHAVIOUR.md §1.6, §9.4–9.6). It walks deploy.yaml's pipeline in order; for each deploy-group step it
/// marks the commit (Publish), regenerates deployments.json (Generate), waits until every long-running instance of
/// the group on every cluster runs it and is ready (the wait operation, which also runs Sync passes with
/// <see cref="DeployRequest.Sync"/>, which also lets the drained old copies go before it returns), and moves on. A failed step is rolled back to the group's previous version when
/// auto-rollback is on; the walk stops at a failed step and before a step that needs a manual trigger nobody gave.
/// It decides from the repository's tags and the clusters alone, so a second run continues where the first stopped:
/// a group already marked with the version is not marked again, only waited for.
/// </summary>
public sealed class DeployPipelineOperation
{
    /// <summary>PaaSTA mark-for-deployment's default --timeout.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10800);

    private GitSession _git;

    public DeployPipelineOperation(GitSession? git = null) => _git = git ?? new GitSession();

    public IReadOnlyList<DeployStepResult> Run(OperationContext context, DeployRequest request)
    {
        var sink = context.Sink;
        TagNames.RequireImageVersion(request.ImageVersion);
        var service = InstanceQuery.Service(context, request.Service);
        var steps = Steps(service, request.DeployGroup);
        var location = GitSession.RequireLocation(context, service, request.Repository);
        var activity = $"Deploy-PaastaService {service.Name}";
        var run = new Walk(this, context, request, service, location, activity);
        try { return run.Go(steps); }
        finally { sink.Progress(new OperationProgress(activity, "Done").Complete()); }
    }

    /// <summary>The steps to walk: the pipeline, or the one deploy group asked for.</summary>
    private static IReadOnlyList<PipelineStep> Steps(ServiceConfig service, string? deployGroup)
    {
        var deployFile = Path.Combine(service.Directory, "deploy.yaml");
        var groups = service.Pipeline.Where(s => s.Kind == PipelineStepKind.DeployGroup).Select(s => s.Name).Distinct().ToList();
        if (groups.Count == 0)
            throw new PaastaException("DeployPipelineEmpty", PaastaErrorKind.InvalidOperation,
                $"{deployFile} has no deploy-group step in its pipeline{(service.HasDeployYaml ? "" : " (the file does not exist)")}: there is nothing to deploy {service.Name} to. " +
                "Add the deploy groups of its instances as pipeline steps, or mark one group with Publish-PaastaDeployment.")
            { Target = service.Name, File = deployFile, Key = "pipeline" };
        if (deployGroup is null) return service.Pipeline;
        var step = service.Pipeline.FirstOrDefault(s => s.Kind == PipelineStepKind.DeployGroup && s.Name == deployGroup)
            ?? throw new PaastaException("PipelineStepNotFound", PaastaErrorKind.ObjectNotFound,
                $"'{deployGroup}' is not a deploy-group step of {service.Name}'s pipeline ({deployFile}); its deploy groups are {string.Join(", ", groups)}. " +
                "Publish-PaastaDeployment marks a group outside the pipeline.")
            { Target = deployGroup, File = deployFile, Key = "pipeline" };
        return new[] { step with { TriggerNextStepManually = false } };
    }

    /// <summary>One walk of the pipeline: the state that carries from step to step.</summary>
    private sealed class Walk
    {
        private readonly DeployPipelineOperation _op;
        private readonly OperationContext _context;
        private readonly DeployRequest _request;
        private readonly ServiceConfig _service;
        private readonly GitRepositoryLocation _location;
        private readonly string _activity;
        private readonly List<DeployStepResult> _results = new();
        private readonly List<InstanceConfig> _settle = new();
        private IReadOnlyList<InstanceConfig> _instances = Array.Empty<InstanceConfig>();
        private RepositoryRefs _refs = null!;
        private DeploymentVersion _target;
        private int _done;
        private int _total;

        public Walk(DeployPipelineOperation op, OperationContext context, DeployRequest request, ServiceConfig service, GitRepositoryLocation location, string activity)
        {
            _op = op;
            _context = context;
            _request = request;
            _service = service;
            _location = location;
            _activity = activity;
        }

        private IOperationSink Sink => _context.Sink;

        public IReadOnlyList<DeployStepResult> Go(IReadOnlyList<PipelineStep> steps)
        {
            WalkSteps(steps);
            Settle();
            return _results;
        }

        private void WalkSteps(IReadOnlyList<PipelineStep> steps)
        {
            Progress("Listing the repository's refs and loading the instances");
            _refs = _op._git.Refs(_context, _location, _activity);
            _target = new DeploymentVersion(CommitResolver.Resolve(_refs.Refs, _request.Commit), _request.ImageVersion);
            _instances = InstanceQuery.Instances(_context, new InstanceSelection
            {
                Services = new[] { _service.Name },
                TypeFilter = InstanceTypes.IsLongRunning,
                TypeDescription = "long-running",
            });
            _total = steps.Count;
            Sink.Verbose($"Deploying {_target} of {_service.Name} through {steps.Count} step(s): {string.Join(", ", steps.Select(s => s.Name))}.");

            string? approvalAskedBy = null;
            foreach (var stage in steps.GroupBy(s => s.Stage).Select(g => g.ToList()))
            {
                _context.Cancellation.ThrowIfCancellationRequested();
                var deploySteps = new List<(PipelineStep Step, GroupPlan Plan)>();
                foreach (var step in stage)
                {
                    if (SkipReason(step) is { } skipped) Add(new DeployStepResult { Service = _service.Name, DeployGroup = step.Name, State = DeployStepState.Skipped, Reason = skipped });
                    else deploySteps.Add((step, Plan(step)));
                }
                if (deploySteps.Count > 0)
                {
                    if (approvalAskedBy is not null && deploySteps.Any(d => d.Plan.NeedsMark) && !Approved(approvalAskedBy, deploySteps))
                    {
                        foreach (var (step, plan) in deploySteps)
                            Add(Result(step, plan, DeployStepState.WaitingForApproval, TimeSpan.Zero, Array.Empty<string>(),
                                $"{approvalAskedBy} has trigger_next_step_manually: run Deploy-PaastaService again and answer yes, or pass -Force"));
                        Sink.Warning($"{_service.Name}: stopped before {string.Join(", ", deploySteps.Select(d => d.Step.Name))}, which waits for approval " +
                            $"({approvalAskedBy} has trigger_next_step_manually). Run the same command again with -Force, or interactively, to continue.");
                        return;
                    }
                    if (!DeployStage(deploySteps)) return;
                }
                // A manual trigger holds the next step Paasta runs (steps it does not run pass it on).
                if (deploySteps.Count > 0) approvalAskedBy = null;
                if (stage.FirstOrDefault(s => s.TriggerNextStepManually) is { } manual) approvalAskedBy = manual.Name;
            }
        }

        // ------------------------------------------------------------ planning

        /// <summary>What a deploy-group step has to do, from the tags and soa-configs.</summary>
        private sealed record GroupPlan(string Group, DeploymentVersion? From, bool NeedsMark, IReadOnlyList<InstanceConfig> Instances)
        {
            public IReadOnlyList<string> Clusters => Instances.Select(i => i.Cluster).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        }

        private static string? SkipReason(PipelineStep step) =>
            step.Disabled ? "disabled in deploy.yaml"
            : step.Kind == PipelineStepKind.Build ? "not run by Paasta (build)"
            : step.Kind == PipelineStepKind.Command ? "not run by Paasta (command)"
            : null;

        private GroupPlan Plan(PipelineStep step)
        {
            var history = PaastaTags.DeployedVersions(_refs.Refs, step.Name);
            var current = history.Count > 0 ? history[0].Version : (DeploymentVersion?)null;
            // The version before this deploy: the current one, or, when the group is already marked with the target
            // (a run that stopped half-way), the one it ran before that.
            var from = history.Select(h => (DeploymentVersion?)h.Version).FirstOrDefault(v => v != _target);
            return new GroupPlan(step.Name, from, current != _target, _instances.Where(i => i.DeployGroup == step.Name).ToList());
        }

        private bool Approved(string askedBy, List<(PipelineStep Step, GroupPlan Plan)> next)
        {
            var groups = string.Join(", ", next.Select(d => d.Step.Name));
            Sink.Verbose($"{askedBy} has trigger_next_step_manually: asking before {groups}.");
            return Sink.ShouldContinue($"{askedBy} is done. Deploy {_target.ShortSha}{(_target.ImageVersion is null ? "" : "+" + _target.ImageVersion)} of {_service.Name} to {groups} now?",
                $"{_service.Name}: the next pipeline step waits for approval");
        }

        // ------------------------------------------------------------ one stage

        /// <summary>Marks every group of the stage that needs it, regenerates deployments.json once, then waits for each group. False: stop the walk.</summary>
        private bool DeployStage(List<(PipelineStep Step, GroupPlan Plan)> stage)
        {
            var watch = Stopwatch.StartNew();
            var names = string.Join(", ", stage.Select(s => s.Step.Name));
            var tags = stage.ToDictionary(s => s.Step.Name, _ => new List<string>(), StringComparer.Ordinal);
            var toMark = stage.Where(s => s.Plan.NeedsMark).ToList();
            if (toMark.Count > 0)
            {
                Progress($"{names}: marking {_target.ShortSha} for deployment");
                var (written, errors) = Quietly(c => new DeploymentOperations(_op._git).Publish(c, new PublishRequest(
                    toMark.Select(s => new PublishTarget(_service.Name, s.Step.Name, _target.Sha, _target.ImageVersion)).ToList()) { Repository = _request.Repository }));
                foreach (var tag in written) tags[tag.DeployGroup].Add(tag.Tag);
                if (errors.Count > 0)
                {
                    foreach (var (step, plan) in stage)
                        Finish(Result(step, plan, DeployStepState.Failed, watch.Elapsed, tags[step.Name], $"marking failed: {errors[0].Message}"));
                    return false;
                }
                if (toMark.Any(s => tags[s.Step.Name].Count == 0))
                {
                    Sink.Verbose($"{names}: not marked (declined or -WhatIf); the walk stops here.");
                    return false;
                }
                _op._git = _op._git.Fresh(); // the next listing must see the tags just written
            }
            else Sink.Verbose($"{names}: already marked with {_target}; no new tag.");

            if (GenerateFailure(names) is { } generateFailure)
            {
                foreach (var (step, plan) in stage) Finish(Result(step, plan, DeployStepState.Failed, watch.Elapsed, tags[step.Name], generateFailure));
                return false;
            }

            // Each group's duration: the marking and generation the stage shares, plus its own wait.
            var shared = watch.Elapsed;
            var ok = true;
            foreach (var (step, plan) in stage)
            {
                var result = DeployGroup(step, plan, tags[step.Name], shared);
                Finish(result);
                ok &= result.State == DeployStepState.Deployed;
            }
            return ok;
        }

        /// <summary>
        /// With -Sync, the steps move on as soon as a group is healthy (wait-for-deployment's criterion), while the old
        /// copies they drained may still be on their way out. For setups with no reconcile loop, Sync passes then go on
        /// until the bounces of every group deployed or rolled back are done, so the walk leaves nothing for the next
        /// Sync to finish. Failed groups are left as they are. Not finishing in time is a warning, not a failure.
        /// </summary>
        private void Settle()
        {
            var instances = _settle.Distinct().ToList();
            if (!_request.Sync || instances.Count == 0) return;
            Progress($"letting the old copies of {instances.Count} instance(s) go");
            var (_, errors) = Quietly(c => SyncOperation.Run(c, instances,
                new SyncOptions { Wait = true, Timeout = _request.Timeout ?? DefaultTimeout, PollInterval = _request.PollInterval }));
            foreach (var e in errors) Sink.Warning($"{_service.Name}: the groups are deployed, but {e.Message}");
        }

        private DeployStepResult DeployGroup(PipelineStep step, GroupPlan plan, List<string> tags, TimeSpan spentBefore)
        {
            var result = DeployGroupOnce(step, plan, tags, spentBefore);
            if (result.State is DeployStepState.Deployed or DeployStepState.RolledBack) _settle.AddRange(plan.Instances);
            return result;
        }

        private DeployStepResult DeployGroupOnce(PipelineStep step, GroupPlan plan, List<string> tags, TimeSpan spentBefore)
        {
            var watch = Stopwatch.StartNew();
            TimeSpan Elapsed() => spentBefore + watch.Elapsed;
            if (plan.Instances.Count == 0)
                return Result(step, plan, DeployStepState.Deployed, Elapsed(), tags,
                    $"no long-running instance uses {step.Name}: marked only (scheduled and adhoc instances take it at their next run)");

            var timeout = _request.Timeout ?? (step.TimeoutSeconds is { } s ? TimeSpan.FromSeconds(s) : DefaultTimeout);
            var failing = step.EnableCrashloopAutoRollback == false ? null
                : new DeploymentProgress.FailingPodsRule(step.MinRestartsForCrashloopRollback, step.CrashloopRollbackPercentageThreshold);
            var failure = WaitFor(step.Name, plan, _target, timeout, failing);
            if (failure is null)
                return Result(step, plan, DeployStepState.Deployed, Elapsed(), tags, plan.NeedsMark ? null : $"already marked with {_target.ShortSha}: no new tag");

            var autoRollback = _request.AutoRollback ?? step.AutoRollback ?? false;
            if (!autoRollback)
                return Result(step, plan, DeployStepState.Failed, Elapsed(), tags,
                    $"{failure} (auto-rollback is off: the group stays marked with {_target.ShortSha})");
            if (plan.From is not { } previous)
                return Result(step, plan, DeployStepState.Failed, Elapsed(), tags, $"{failure} (nothing to roll back to: {step.Name} never ran another version)");

            Progress($"{step.Name}: rolling back to {previous.ShortSha}");
            Sink.Warning($"{_service.Name} {step.Name}: {failure}. Rolling back to {previous.ShortSha}.");
            var (rollbacks, errors) = Quietly(c => new DeploymentOperations(_op._git.Fresh()).Undo(c,
                new RollbackRequest(new[] { new RollbackTarget(_service.Name, new[] { step.Name }) })
                {
                    Commit = previous.Sha,
                    ImageVersion = previous.ImageVersion,
                    Repository = _request.Repository,
                }));
            foreach (var r in rollbacks) tags.AddRange(new[] { r.DeployTag, r.RollbackTag });
            if (errors.Count > 0 || rollbacks.Count == 0)
                return Result(step, plan, DeployStepState.Failed, Elapsed(), tags,
                    $"{failure}; the rollback to {previous.ShortSha} was not written: {(errors.Count > 0 ? errors[0].Message : "declined")}");
            _op._git = _op._git.Fresh();
            if (GenerateFailure(step.Name) is { } generateFailure)
                return Result(step, plan, DeployStepState.Failed, Elapsed(), tags, $"{failure}; rolled back to {previous.ShortSha}, but {generateFailure}");
            var back = WaitFor(step.Name, plan, previous, timeout, null);
            return back is null
                ? Result(step, plan, DeployStepState.RolledBack, Elapsed(), tags, failure)
                : Result(step, plan, DeployStepState.Failed, Elapsed(), tags, $"{failure}; rolled back to {previous.ShortSha}, which did not come back either: {back}");
        }

        /// <summary>Regenerates deployments.json; null, or why the step cannot go on. A soa dir that cannot be written here is someone else's to generate.</summary>
        private string? GenerateFailure(string what)
        {
            Progress($"{what}: writing deployments.json");
            var (_, errors) = Quietly(c => new DeploymentOperations(_op._git).Generate(c, new GenerateDeploymentsRequest(new[] { _service.Name }) { Repository = _request.Repository }));
            if (errors.Count == 0) return null;
            if (errors.All(e => e.ErrorId == "DeploymentsFileWriteFailed"))
            {
                Sink.Warning($"{errors[0].Message}. Waiting for whoever generates {_service.Name}'s deployments.json from the tags (the soa-configs primary).");
                return null;
            }
            return $"deployments.json was not regenerated: {errors[0].Message}";
        }

        /// <summary>Waits (with Sync passes when asked) until the group's instances run <paramref name="version"/>; null, or why they do not.</summary>
        private string? WaitFor(string group, GroupPlan plan, DeploymentVersion version, TimeSpan timeout, DeploymentProgress.FailingPodsRule? failing)
        {
            Progress($"{group}: waiting for {plan.Instances.Count} instance(s) on {string.Join(", ", plan.Clusters)} to run {version.ShortSha}");
            var syncErrors = new HashSet<string>(StringComparer.Ordinal);
            void SyncPass(IReadOnlyList<InstanceConfig> instances)
            {
                var (_, errors) = Quietly(c => SyncOperation.Run(c, instances, new SyncOptions()));
                foreach (var e in errors)
                    if (syncErrors.Add(e.Message)) Sink.Warning($"Sync of {_service.Name} {group}: {e.Message}");
            }
            var request = new DeploymentWaitRequest(_service.Name, group)
            {
                Commit = version.Sha,
                ImageVersion = version.ImageVersion,
                Clusters = plan.Clusters,
                Timeout = timeout,
                PollInterval = _request.PollInterval,
                GiveUpWhenFailing = failing,
                BeforeEachRead = _request.Sync ? SyncPass : null,
                ParentActivity = _activity,
            };
            try
            {
                var outcome = new DeploymentWaitOperation().Await(_context, request);
                return outcome.Failure?.Message;
            }
            catch (PaastaException e) { return e.Message; }
        }

        // ------------------------------------------------------------ reporting

        /// <summary>Runs a step operation with its results and errors kept here (messages, progress and questions reach the caller).</summary>
        private (T Result, IReadOnlyList<PaastaException> Errors) Quietly<T>(Func<OperationContext, T> step)
        {
            var sink = new ErrorCollectingSink(Sink, forward: false, keepOutput: true);
            using var child = _context.WithSink(sink);
            try { return (step(child), sink.Errors); }
            catch (PaastaException e) { return (default!, sink.Errors.Append(e).ToList()); }
        }

        private DeployStepResult Result(PipelineStep step, GroupPlan plan, DeployStepState state, TimeSpan duration, IReadOnlyList<string> tags, string? reason) => new()
        {
            Service = _service.Name,
            DeployGroup = step.Name,
            Clusters = plan.Clusters,
            FromVersion = plan.From,
            ToVersion = _target,
            State = state,
            Reason = reason,
            Duration = duration,
            TagsWritten = tags.ToList(),
        };

        private void Add(DeployStepResult result)
        {
            _done++;
            _results.Add(result);
            Sink.Output(result);
        }

        /// <summary>Adds a deploy step's result; a failed or rolled-back step is also an error, so -ErrorAction Stop stops a runbook.</summary>
        private void Finish(DeployStepResult result)
        {
            Add(result);
            var target = $"{result.Service}:{result.DeployGroup}";
            switch (result.State)
            {
                case DeployStepState.Failed:
                    Sink.Error(new PaastaException("DeployStepFailed", PaastaErrorKind.InvalidResult,
                        $"{result.Service} {result.DeployGroup}: {result.Reason}. The later steps of the pipeline were not run.") { Target = target });
                    break;
                case DeployStepState.RolledBack:
                    Sink.Error(new PaastaException("DeployRolledBack", PaastaErrorKind.InvalidResult,
                        $"{result.Service} {result.DeployGroup} was rolled back to {result.FromVersion?.ShortSha}: {result.Reason}. The later steps of the pipeline were not run; the steps before keep {result.ToVersion?.ShortSha}.") { Target = target });
                    break;
                default:
                    Sink.Verbose($"{result.Service} {result.DeployGroup}: {result.State} in {result.Duration.TotalSeconds:0.0} s{(result.Reason is null ? "" : " — " + result.Reason)}.");
                    break;
            }
        }

        private void Progress(string status) =>
            Sink.Progress(new OperationProgress(_activity, $"Step {Math.Min(_done + 1, Math.Max(_total, 1))} of {_total}: {status}")
            {
                PercentComplete = _total == 0 ? -1 : 100 * _done / _total,
            });
    }
}
