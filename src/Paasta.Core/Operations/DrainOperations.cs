using Paasta.Config;
using Paasta.Drain;
using Paasta.Errors;

namespace Paasta.Operations;

/// <summary>A drain method to register: a .NET type, or a factory (what PowerShell scriptblocks become), made only once confirmed.</summary>
public sealed record DrainRegistration(string Name)
{
    /// <summary>A compiled class implementing IDrainMethod.</summary>
    public Type? Type { get; init; }
    /// <summary>Otherwise: makes the factory, its definition text and the resources to dispose with it.</summary>
    public Func<(DrainMethodFactory Factory, string Definition, IDisposable? Resources)>? Create { get; init; }
    public string? Description { get; init; }
    /// <summary>Replace a custom method of the same name (-Force); built-ins are never replaced.</summary>
    public bool Replace { get; init; }
}

/// <summary>One drain call by hand (Invoke-PaastaDrainMethod): the method by name and context, or an instance's own.</summary>
public sealed record DrainInvocation(DrainAction Action)
{
    /// <summary>The instance whose drain_method, drain_method_params, registrations and container_port to use.</summary>
    public InstanceConfig? Instance { get; init; }
    /// <summary>Otherwise the method's name ...</summary>
    public string? Method { get; init; }
    /// <summary>... its drain_method_params ...</summary>
    public IReadOnlyDictionary<string, object?>? Parameters { get; init; }
    /// <summary>... and the service, instance and registrations (default: the task's own service and instance).</summary>
    public string? Service { get; init; }
    public string? InstanceName { get; init; }
    public IReadOnlyList<string>? Registrations { get; init; }
    public TimeSpan Timeout { get; init; } = DrainGuard.DefaultTimeout;
}

/// <summary>
/// The drain method cmdlets: registering, listing and removing methods in a registry (the process-wide one by
/// default), and calling one by hand through the same guard the bounce engine uses (docs/BEHAVIOUR.md §7).
/// </summary>
public static class DrainOperations
{
    /// <summary>Registers the method after ShouldProcess; null when declined. A PowerShell class is refused (DrainMethodTypeInvalid).</summary>
    public static DrainMethodInfo? Register(OperationContext context, DrainRegistration registration, DrainMethodRegistry? registry = null)
    {
        registry ??= DrainMethodRegistry.Default;
        DrainMethodRegistry.ValidateName(registration.Name);
        if (registration.Type is { } type && IsPowerShellClass(type))
            throw new PaastaException("DrainMethodTypeInvalid", PaastaErrorKind.InvalidArgument,
                $"{type.FullName} is a PowerShell class: its methods run only on the runspace that defined it, which is busy while a bounce waits for the drain. Register scriptblocks instead (-Drain, -IsSafeToKill ...), or a compiled class.") { Target = type };
        var existing = registry.Find(registration.Name);
        var action = existing is null ? "Register drain method" : $"Replace drain method ({existing.Source}: {existing.Definition})";
        if (!context.Sink.ShouldProcess(registration.Name, action)) return null;

        DrainMethodInfo info;
        if (registration.Type is not null) info = registry.Register(registration.Name, registration.Type, registration.Description, registration.Replace);
        else
        {
            var (factory, definition, resources) = (registration.Create ?? throw new ArgumentException("A registration needs a type or a factory.", nameof(registration)))();
            try { info = registry.Register(registration.Name, factory, DrainMethodSource.ScriptBlock, definition, registration.Description, registration.Replace, resources); }
            catch
            {
                resources?.Dispose();
                throw;
            }
        }
        context.Sink.Verbose($"Drain method '{info.Name}' registered ({info.Definition}).");
        return info;
    }

    /// <summary>
    /// The methods named (wildcards allowed; all when null), each once, sorted; a literal name that matches nothing is
    /// DrainMethodNotFound. The methods for testing (test, crashy_drain) come only by their exact name, or with
    /// <paramref name="includeTestMethods"/>: operators are not offered them.
    /// </summary>
    public static IReadOnlyList<DrainMethodInfo> List(OperationContext context, IReadOnlyList<string>? names, DrainMethodRegistry? registry = null, bool includeTestMethods = false)
    {
        registry ??= DrainMethodRegistry.Default;
        var all = registry.List(includeTestMethods: true);
        var offered = all.Where(i => includeTestMethods || !i.ForTesting).ToList();
        if (names is null) return offered;
        var found = new List<DrainMethodInfo>();
        foreach (var pattern in names.Select(NamePattern.Parse))
        {
            var matches = (pattern.IsWildcard ? offered : all).Where(i => pattern.IsMatch(i.Name)).ToList();
            if (matches.Count == 0 && !pattern.IsWildcard)
                context.Sink.Error(new PaastaException("DrainMethodNotFound", PaastaErrorKind.ObjectNotFound,
                    $"No drain method named '{pattern.Literal}'. Known: {string.Join(", ", offered.Select(i => i.Name))}.") { Target = pattern.Literal });
            found.AddRange(matches.Where(m => !found.Any(f => string.Equals(f.Name, m.Name, StringComparison.OrdinalIgnoreCase))));
        }
        return found;
    }

    /// <summary>Removes custom methods, each after ShouldProcess; built-ins (DrainMethodBuiltIn) and unknown names (DrainMethodNotFound) are errors for that name.</summary>
    public static IReadOnlyList<DrainMethodInfo> Unregister(OperationContext context, IReadOnlyList<string> names, DrainMethodRegistry? registry = null)
    {
        registry ??= DrainMethodRegistry.Default;
        var removed = new List<DrainMethodInfo>();
        foreach (var name in names)
        {
            try
            {
                var info = registry.Find(name);
                if (info is { Source: not DrainMethodSource.BuiltIn } && !context.Sink.ShouldProcess(info.Name, $"Unregister drain method ({info.Source}: {info.Definition})")) continue;
                removed.Add(registry.Unregister(name));
            }
            catch (PaastaException e) { context.Sink.Error(e); }
        }
        return removed;
    }

    /// <summary>
    /// Calls the method on each task through a <see cref="DrainGuard"/>: a call that throws or runs past the
    /// timeout is a failed result and an error with the method's ErrorId; only a successful IsSafeToKill that
    /// answered true is safe. Drain and StopDraining change state and ask ShouldProcess; the queries do not.
    /// While a call runs, progress shows how long it has taken against the timeout.
    /// </summary>
    public static IReadOnlyList<DrainResult> Invoke(OperationContext context, DrainInvocation request, IEnumerable<DrainTask> tasks,
        DrainMethodRegistry? registry = null, WaitClock? clock = null)
    {
        registry ??= DrainMethodRegistry.Default;
        clock ??= WaitClock.Real;
        var results = new List<DrainResult>();
        foreach (var given in tasks)
        {
            // A copy without a port is taken to listen on its instance's container_port.
            var task = request.Instance is { ContainerPort: > 0 } instance && given.Ports.Count == 0
                ? given with { Ports = new[] { (int)instance.ContainerPort } } : given;
            DrainGuard guard;
            try { guard = Guard(request, task, registry); }
            catch (PaastaException e)
            {
                context.Sink.Error(e);
                continue;
            }
            using (guard)
            {
                var what = $"{request.Action} {task} through drain method '{guard.MethodName}'";
                if (request.Action is DrainAction.Drain or DrainAction.StopDraining && !context.Sink.ShouldProcess(task.ToString(), $"{request.Action} through drain method '{guard.MethodName}'"))
                    continue;
                context.Sink.Verbose(what + ".");
                var result = Wait(context, guard.InvokeAsync(request.Action, task, context.Cancellation), what, request.Timeout, clock);
                results.Add(result);
                if (result.Error is { } error) context.Sink.Error(error);
            }
        }
        return results;
    }

    private static DrainGuard Guard(DrainInvocation request, DrainTask task, DrainMethodRegistry registry)
    {
        if (request.Instance is not null) return registry.CreateGuarded(request.Instance, request.Timeout);
        var drainContext = new DrainContext
        {
            Service = request.Service ?? task.Service ?? "",
            Instance = request.InstanceName ?? task.Instance ?? "",
            Registrations = request.Registrations ?? Array.Empty<string>(),
            Params = request.Parameters ?? new Dictionary<string, object?>(),
        };
        return registry.CreateGuarded(request.Method ?? "", drainContext, request.Timeout);
    }

    /// <summary>Waits for one guarded call (a hacheck or http call can take the whole timeout), reporting its time every second.</summary>
    private static DrainResult Wait(OperationContext context, Task<DrainResult> call, string status, TimeSpan timeout, WaitClock clock)
    {
        const string activity = "Invoke-PaastaDrainMethod";
        var started = clock.Start();
        context.Sink.Progress(new OperationProgress(activity, status) { PercentComplete = 0, SecondsRemaining = (int)timeout.TotalSeconds });
        try
        {
            while (!call.IsCompleted)
            {
                Task.WhenAny(call, clock.Delay(TimeSpan.FromSeconds(1), context.Cancellation)).GetAwaiter().GetResult();
                context.Cancellation.ThrowIfCancellationRequested();
                if (call.IsCompleted) break;
                var elapsed = clock.Since(started);
                context.Sink.Progress(new OperationProgress(activity, status)
                {
                    PercentComplete = (int)Math.Min(99, 100 * elapsed.TotalSeconds / timeout.TotalSeconds),
                    SecondsRemaining = (int)Math.Max(0, (timeout - elapsed).TotalSeconds),
                    CurrentOperation = $"waiting for the drain method: {(int)elapsed.TotalSeconds} s of at most {timeout.TotalSeconds:0} s",
                });
            }
            return call.GetAwaiter().GetResult();
        }
        finally { context.Sink.Progress(new OperationProgress(activity, status).Complete()); }
    }

    private static bool IsPowerShellClass(Type type) =>
        type.Assembly.IsDynamic && (type.Assembly.GetName().Name ?? "").StartsWith("PowerShell Class Assembly", StringComparison.Ordinal);
}
