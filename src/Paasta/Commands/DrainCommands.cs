using System.Collections;
using System.Management.Automation;
using Paasta.Drain;
using Paasta.Config;
using Paasta.Operations;

namespace Paasta.Commands;

/// <summary>
/// <para type="synopsis">Registers a custom drain method from PowerShell scriptblocks or a .NET type.</para>
/// <para type="description">Adds a drain method that instances can name in drain_method, next to the built-in noop, hacheck and http (and test and crashy_drain, which PaaSTA ships for its own tests). Before the bounce engine removes an old copy (a pod) it calls the instance's drain method: Drain to take the copy out of traffic, then IsSafeToKill until it answers $true; StopDraining undoes a drain, IsDraining says whether a copy is drained. Each scriptblock receives the copy as a Paasta.Drain.DrainTask (Id is the pod name; Host, Port, Ports, Namespace, Service, Instance, Labels) in $_, $args[0] or its first parameter, and the instance's Paasta.Drain.DrainContext (Service, Instance, Registrations, Params = drain_method_params) in $args[1] or its second parameter. Drain and StopDraining output is ignored. IsSafeToKill and IsDraining must end by returning $true or $false. The blocks run in a runspace pool of their own (the engine calls them from background threads, up to 4 at once), so they do not see this session's variables or functions: put what they need inside them. Any error in a block, or a block that runs past the bounce engine's time limit, fails that call; a failed call never counts as safe to kill, so the copy keeps serving. Without -IsDraining, a copy counts as draining once this method drained it in this process. -Type registers a compiled class (Add-Type or an assembly, built against the module's dependencies/Paasta.Core.dll) implementing Paasta.Drain.IDrainMethod with a public constructor taking a Paasta.Drain.DrainContext, or none; PowerShell classes are refused, since their methods run only on the runspace that defined them, which is busy while a bounce waits. Registrations last for the process. Built-in methods cannot be replaced; another custom method of the same name only with -Force.</para>
/// </summary>
/// <example>
///   <code>Register-PaastaDrainMethod -Name lb -Drain { param($Task) Invoke-RestMethod -Method Post "http://lb.example/pools/web/members/$($Task.Host)/disable" } -IsSafeToKill { param($Task) (Invoke-RestMethod "http://lb.example/pools/web/members/$($Task.Host)").connections -eq 0 }</code>
///   <para>Takes copies out of an external load balancer, and lets them be killed once it reports no open connections. Instances use it with drain_method: lb.</para>
/// </example>
/// <example>
///   <code>$core = Join-Path (Get-Module Paasta).ModuleBase dependencies/Paasta.Core.dll; Add-Type -Path ./MyDrain.cs -ReferencedAssemblies $core, System.Runtime, System.Threading.Tasks; Register-PaastaDrainMethod -Name mine -Type ([MyCompany.MyDrain]) -Description 'our mesh' -PassThru</code>
///   <para>Registers a compiled C# class that implements Paasta.Drain.IDrainMethod, and shows the registration.</para>
/// </example>
[Cmdlet(VerbsLifecycle.Register, "PaastaDrainMethod", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low, DefaultParameterSetName = ScriptBlockSet)]
[OutputType(typeof(DrainMethodInfo))]
public sealed class RegisterPaastaDrainMethod : PaastaCmdlet
{
    private const string ScriptBlockSet = "ScriptBlock";
    private const string TypeSet = "Type";

    /// <summary>The name instances use in drain_method: a letter, then letters, digits, '_' or '-'. Completes the methods already registered (to replace one with -Force).</summary>
    [Parameter(Mandatory = true, Position = 0)]
    [ArgumentCompleter(typeof(RegisteredDrainMethodCompleter))]
    [ValidateNotNullOrEmpty]
    public string Name { get; set; } = "";

    /// <summary>Takes the copy out of traffic. Receives the task ($_ or $args[0]) and the context ($args[1]). Should be idempotent.</summary>
    [Parameter(Mandatory = true, ParameterSetName = ScriptBlockSet)]
    public ScriptBlock Drain { get; set; } = null!;

    /// <summary>Returns $true once the drained copy may be killed, else $false.</summary>
    [Parameter(Mandatory = true, ParameterSetName = ScriptBlockSet)]
    public ScriptBlock IsSafeToKill { get; set; } = null!;

    /// <summary>Puts a drained copy back into traffic. Without it, undoing a drain only forgets it.</summary>
    [Parameter(ParameterSetName = ScriptBlockSet)]
    public ScriptBlock? StopDraining { get; set; }

    /// <summary>Returns $true when the copy is drained. Without it: whether this method drained it in this process.</summary>
    [Parameter(ParameterSetName = ScriptBlockSet)]
    public ScriptBlock? IsDraining { get; set; }

    /// <summary>A compiled .NET class implementing Paasta.Drain.IDrainMethod, with a public constructor taking a Paasta.Drain.DrainContext, or none.</summary>
    [Parameter(Mandatory = true, ParameterSetName = TypeSet)]
    public Type Type { get; set; } = null!;

    /// <summary>What the method does, shown by Get-PaastaDrainMethod.</summary>
    [Parameter]
    public string? Description { get; set; }

    /// <summary>Replace a custom method already registered under the name.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Return the registration.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void End()
    {
        var registration = new DrainRegistration(Name) { Description = Description, Replace = Force };
        if (ParameterSetName == TypeSet) registration = registration with { Type = Type };
        else
        {
            var (name, drain, safe, stop, draining) = (Name, Drain, IsSafeToKill, StopDraining, IsDraining);
            registration = registration with
            {
                Create = () =>
                {
                    var method = new ScriptBlockDrainMethod(name, drain, safe, stop, draining);
                    return (method.Create, method.Definition, method);
                },
            };
        }
        var info = Run(op => DrainOperations.Register(op, registration));
        if (PassThru && info is not null) WriteObject(info);
    }
}

/// <summary>
/// <para type="synopsis">Lists the drain methods: built-in and registered.</para>
/// <para type="description">Emits one Paasta.Drain.DrainMethodInfo per drain method an instance can name in drain_method: the built-in noop, hacheck and http, and those registered with Register-PaastaDrainMethod in this process, with their source (BuiltIn, ScriptBlock, Type or Delegate), what defines them, and a description. -Name filters with wildcards (and completes the methods there are); a name without wildcards that matches nothing is a DrainMethodNotFound error. PaaSTA also ships test and crashy_drain for its own tests: they work wherever soa-configs name them, but are listed only by their exact name or with -IncludeTestMethods (their ForTesting property is $true).</para>
/// </summary>
/// <example>
///   <code>Get-PaastaDrainMethod</code>
///   <para>Lists every drain method, sorted by name.</para>
/// </example>
/// <example>
///   <code>Get-PaastaDrainMethod | Where-Object Source -ne BuiltIn | Unregister-PaastaDrainMethod -Confirm:$false</code>
///   <para>Removes every drain method registered in this process.</para>
/// </example>
/// <example>
///   <code>Get-PaastaDrainMethod -IncludeTestMethods | Where-Object ForTesting</code>
///   <para>Shows the drain methods PaaSTA keeps for its own tests (test, crashy_drain).</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "PaastaDrainMethod")]
[OutputType(typeof(DrainMethodInfo))]
public sealed class GetPaastaDrainMethod : PaastaCmdlet
{
    /// <summary>Names to show; wildcards allowed. Default: all.</summary>
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(DrainMethodCompleter))]
    [ValidateNotNullOrEmpty]
    public string[]? Name { get; set; }

    /// <summary>Also list test and crashy_drain, the drain methods PaaSTA ships for its own tests.</summary>
    [Parameter]
    public SwitchParameter IncludeTestMethods { get; set; }

    protected override void Process()
    {
        var (names, includeTestMethods) = (Name, IncludeTestMethods.IsPresent);
        foreach (var info in Run(op => DrainOperations.List(op, names, includeTestMethods: includeTestMethods))) WriteObject(info);
    }
}

/// <summary>
/// <para type="synopsis">Removes a drain method registered with Register-PaastaDrainMethod.</para>
/// <para type="description">Removes custom drain methods by name, and closes the runspaces of scriptblock ones. Instances that name a removed method in drain_method can no longer be bounced until it is registered again (the bounce engine then leaves their old copies serving). Built-in methods cannot be removed (DrainMethodBuiltIn); an unknown name is DrainMethodNotFound. Asks for confirmation, since a running bounce may be using the method; -Confirm:$false skips it.</para>
/// </summary>
/// <example>
///   <code>Unregister-PaastaDrainMethod -Name lb</code>
///   <para>Removes the drain method lb after confirmation.</para>
/// </example>
/// <example>
///   <code>Get-PaastaDrainMethod 'lb*' | Unregister-PaastaDrainMethod -Confirm:$false -PassThru</code>
///   <para>Removes every registered method whose name starts with lb, without asking, and shows what was removed.</para>
/// </example>
[Cmdlet(VerbsLifecycle.Unregister, "PaastaDrainMethod", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(DrainMethodInfo))]
public sealed class UnregisterPaastaDrainMethod : PaastaCmdlet
{
    /// <summary>The names of the methods to remove (completes the methods registered in this process).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(RegisteredDrainMethodCompleter))]
    [ValidateNotNullOrEmpty]
    public string[] Name { get; set; } = Array.Empty<string>();

    /// <summary>Return what was removed.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void Process()
    {
        var names = Name;
        var removed = Run(op => DrainOperations.Unregister(op, names));
        if (PassThru) foreach (var info in removed) WriteObject(info);
    }
}

/// <summary>
/// <para type="synopsis">Calls one operation of a drain method on a copy by hand: Drain, StopDraining, IsDraining or IsSafeToKill.</para>
/// <para type="description">Builds the drain method as the bounce engine does — by -Name with -Parameters (drain_method_params), -Service, -Instance and -Registration, or from an instance's own drain_method and drain_method_params with -InstanceConfig — and calls -Action on each -Task through the same safety wrapper: a call that throws or runs past -TimeoutSec is a failed result (and a non-terminating error with the method's ErrorId, e.g. DrainEndpointUnreachable, DrainScriptBlockFailed, DrainMethodTimedOut), and only a successful IsSafeToKill that answered $true has SafeToKill $true. Emits one Paasta.Drain.DrainResult per task in either case. A task is a hashtable like @{ Id = 'pod-name'; Host = '10.0.0.5'; Port = 8888 }, a pod from Get-PaastaInstanceStatus, or a pod from kubectl get pod -o json | ConvertFrom-Json; with -InstanceConfig, a task without a port gets the instance's container_port. Drain and StopDraining change state and honour -WhatIf and -Confirm; the queries change nothing. While a call runs, progress shows how long it has taken against -TimeoutSec.</para>
/// </summary>
/// <example>
///   <code>$pod = @{ Id = 'hello-main-5d8c-x2x9p'; Host = '10.244.0.12'; Port = 8888 }; Invoke-PaastaDrainMethod -Name hacheck -Parameters @{ delay = 60 } -Service hello -Instance main -Task $pod -Action Drain</code>
///   <para>Marks the pod down in its hacheck for the registration hello.main, as a bounce would.</para>
/// </example>
/// <example>
///   <code>$i = Get-PaastaInstance -Service hello -Cluster prod -Instance main; kubectl get pod hello-main-5d8c-x2x9p -n paastasvc-hello -o json | ConvertFrom-Json | Invoke-PaastaDrainMethod -InstanceConfig $i -Action IsSafeToKill</code>
///   <para>Asks the instance's configured drain method (with its drain_method_params) whether the pod may be killed yet.</para>
/// </example>
[Cmdlet(VerbsLifecycle.Invoke, "PaastaDrainMethod", SupportsShouldProcess = true, DefaultParameterSetName = ByNameSet)]
[OutputType(typeof(DrainResult))]
public sealed class InvokePaastaDrainMethod : PaastaCmdlet
{
    private const string ByNameSet = "ByName";
    private const string ByInstanceSet = "ByInstance";

    /// <summary>The drain method: noop, hacheck, http or a registered one (completed), or by name one of PaaSTA's test methods, test and crashy_drain.</summary>
    // Not bound from the pipeline by property name: piped pods have a Name too, which is not a drain method.
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = ByNameSet)]
    [Alias("Method")]
    [ArgumentCompleter(typeof(DrainMethodCompleter))]
    [ValidateNotNullOrEmpty]
    public string Name { get; set; } = "";

    /// <summary>drain_method_params for the method, e.g. @{ delay = 60; hacheck_port = 6666 }.</summary>
    [Parameter(ParameterSetName = ByNameSet)]
    public Hashtable? Parameters { get; set; }

    /// <summary>The service the copy belongs to; defaults to the task's Service.</summary>
    // No alias Name and no binding by property name: -Name is the drain method, and piped pods carry their own Service.
    [Parameter(ParameterSetName = ByNameSet)]
    [ArgumentCompleter(typeof(ServiceCompleter))]
    public string? Service { get; set; }

    /// <summary>The instance the copy belongs to; defaults to the task's Instance.</summary>
    [Parameter(ParameterSetName = ByNameSet)]
    [ArgumentCompleter(typeof(InstanceCompleter))]
    public string? Instance { get; set; }

    /// <summary>The copy's registrations (hacheck spools, http {nerve_ns}); default service.instance.</summary>
    [Parameter(ParameterSetName = ByNameSet)]
    public string[]? Registration { get; set; }

    /// <summary>An instance (Get-PaastaInstance) whose drain_method, drain_method_params and registrations to use.</summary>
    [Parameter(Mandatory = true, ParameterSetName = ByInstanceSet)]
    public InstanceConfig InstanceConfig { get; set; } = null!;

    /// <summary>The copies (pods) to act on: hashtables or objects with Id (or Name), Host (or IP), Port or Ports, and optionally Namespace, Service, Instance, Labels; pods from Get-PaastaInstanceStatus or from kubectl get pod -o json | ConvertFrom-Json; or Paasta.Drain.DrainTask objects.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    [DrainTaskTransformation]
    public DrainTask[] Task { get; set; } = Array.Empty<DrainTask>();

    /// <summary>The operation: Drain, StopDraining, IsDraining or IsSafeToKill.</summary>
    [Parameter(Mandatory = true)]
    public DrainAction Action { get => (DrainAction)_action; set => _action = (int)value; }

    // Stored as an int: a field of an enum from Paasta.Core would make PowerShell's scan of the cmdlet types
    // (GetExportedTypes computes field layouts) load Paasta.Core before ModuleLoader can resolve it.
    private int _action;

    /// <summary>Seconds one call may take before it counts as failed (default 60).</summary>
    [Parameter]
    [ValidateRange(1, 3600)]
    public int TimeoutSec { get; set; } = 60;

    protected override void Process()
    {
        var request = new DrainInvocation(Action) { Timeout = TimeSpan.FromSeconds(TimeoutSec) };
        request = ParameterSetName == ByInstanceSet
            ? request with { Instance = InstanceConfig }
            : request with
            {
                Method = Name,
                Parameters = Parameters is null ? null : (IReadOnlyDictionary<string, object?>)Plain(Parameters)!,
                Service = Service,
                InstanceName = Instance,
                Registrations = Registration,
            };
        var tasks = Task;
        foreach (var result in Run(op => DrainOperations.Invoke(op, request, tasks))) WriteObject(result);
    }

    /// <summary>A PowerShell value as the plain .NET values soa-configs give (no PSObject wrappers): hashtables become dictionaries.</summary>
    private static object? Plain(object? value) => value switch
    {
        null => null,
        PSObject ps => Plain(ps.BaseObject),
        IDictionary map => map.Keys.Cast<object>().ToDictionary(k => Convert.ToString(Plain(k), System.Globalization.CultureInfo.InvariantCulture) ?? "",
            k => Plain(map[k]), StringComparer.OrdinalIgnoreCase) is var d ? (IReadOnlyDictionary<string, object?>)d : null,
        string s => s,
        int i => (long)i,
        IEnumerable list => list.Cast<object?>().Select(Plain).ToList(),
        _ => value,
    };
}

/// <summary>
/// Lets -Task take what a user has at hand, since Paasta's types live in the module's own load context and
/// [Paasta.Drain.DrainTask] cannot be named in a script: a hashtable or object with Id (or Name, PodName), Host (or IP,
/// PodIP), Port or Ports, Namespace, Service, Instance, HostIp, NodeName (or Node), ConfigSha, Labels — which
/// Get-PaastaInstanceStatus's pods have — or a pod as kubectl prints it (kubectl get pod -o json | ConvertFrom-Json).
/// </summary>
internal sealed class DrainTaskTransformationAttribute : ArgumentTransformationAttribute
{
    public override object Transform(EngineIntrinsics engineIntrinsics, object inputData)
    {
        var value = inputData is PSObject ps ? ps.BaseObject : inputData;
        if (value is DrainTask) return value;
        if (value is IList list && value is not IDictionary) return list.Cast<object>().Select(ToTask).ToArray();
        return ToTask(inputData);
    }

    private static DrainTask ToTask(object item)
    {
        var value = item is PSObject ps ? ps.BaseObject : item;
        if (value is DrainTask task) return task;
        Func<string, object?> get = value is IDictionary map
            ? key => map.Keys.Cast<object>().Where(k => string.Equals(k?.ToString(), key, StringComparison.OrdinalIgnoreCase)).Select(k => map[k]).FirstOrDefault()
            : key => PSObject.AsPSObject(item).Properties[key]?.Value;
        object? First(params string[] keys) => keys.Select(get).FirstOrDefault(v => v is not null);
        string? Text(params string[] keys) => First(keys) is { } v ? LanguagePrimitives.ConvertTo<string>(v) : null;

        if (First("metadata") is { } metadata) return FromKubectlPod(metadata, First("spec"), First("status"));
        var id = Text("Id", "Name", "PodName");
        if (string.IsNullOrEmpty(id))
            throw new ArgumentTransformationMetadataException("A drain task needs an Id (or Name): the pod name. Give a hashtable like @{ Id = 'pod'; Host = '10.0.0.5'; Port = 8888 }.");
        var labels = Labels(First("Labels"));
        return new DrainTask
        {
            Id = id,
            Host = Text("Host", "IP", "PodIP"),
            HostIp = Text("HostIp"),
            NodeName = Text("NodeName", "Node"),
            Ports = Ports(First("Ports", "Port")),
            Namespace = Text("Namespace"),
            Service = Text("Service") ?? labels.GetValueOrDefault("paasta.yelp.com/service"),
            Instance = Text("Instance") ?? labels.GetValueOrDefault("paasta.yelp.com/instance"),
            ConfigSha = Text("ConfigSha") ?? labels.GetValueOrDefault("paasta.yelp.com/config_sha"),
            Labels = labels,
        };
    }

    private static DrainTask FromKubectlPod(object metadata, object? spec, object? status)
    {
        static object? Prop(object? o, string name) => o is null ? null : PSObject.AsPSObject(o).Properties[name]?.Value;
        static string? Text(object? o) => o is null ? null : LanguagePrimitives.ConvertTo<string>(o);
        var labels = Labels(Prop(metadata, "labels"));
        var container = (Prop(spec, "containers") as IEnumerable)?.Cast<object>().FirstOrDefault();
        var ports = (Prop(container, "ports") as IEnumerable)?.Cast<object>().Select(p => Prop(p, "containerPort")).Where(p => p is not null).ToArray();
        return new DrainTask
        {
            Id = Text(Prop(metadata, "name")) ?? throw new ArgumentTransformationMetadataException("The pod has no metadata.name."),
            Namespace = Text(Prop(metadata, "namespace")),
            Host = Text(Prop(status, "podIP")),
            HostIp = Text(Prop(status, "hostIP")),
            NodeName = Text(Prop(spec, "nodeName")),
            Ports = Ports(ports),
            Service = labels.GetValueOrDefault("paasta.yelp.com/service"),
            Instance = labels.GetValueOrDefault("paasta.yelp.com/instance"),
            ConfigSha = labels.GetValueOrDefault("paasta.yelp.com/config_sha"),
            Labels = labels,
        };
    }

    private static IReadOnlyList<int> Ports(object? value)
    {
        var raw = value is PSObject ps ? ps.BaseObject : value;
        if (raw is null) return Array.Empty<int>();
        var items = raw is IEnumerable e and not string ? e.Cast<object>() : new[] { raw };
        try { return items.Select(LanguagePrimitives.ConvertTo<int>).ToArray(); }
        catch (PSInvalidCastException) { throw new ArgumentTransformationMetadataException($"Ports must be port numbers (got '{raw}')."); }
    }

    private static Dictionary<string, string> Labels(object? value)
    {
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        var raw = value is PSObject ps ? ps.BaseObject : value;
        if (raw is IDictionary map)
            foreach (DictionaryEntry kv in map) labels[kv.Key.ToString() ?? ""] = LanguagePrimitives.ConvertTo<string>(kv.Value);
        else if (raw is not null)
            foreach (var p in PSObject.AsPSObject(value!).Properties) labels[p.Name] = LanguagePrimitives.ConvertTo<string>(p.Value);
        return labels;
    }
}
