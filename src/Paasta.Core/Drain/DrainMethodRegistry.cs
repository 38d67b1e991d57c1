using System.Reflection;
using System.Text.RegularExpressions;
using Paasta.Config;
using Paasta.Errors;

namespace Paasta.Drain;

/// <summary>
/// Drain methods by name (docs/BEHAVIOUR.md §7.2's registry): the built-ins noop, hacheck and http, plus custom ones
/// registered from .NET types, factory delegates or (through the cmdlets) PowerShell scriptblocks. PaaSTA's drain_lib
/// also registers test and crashy_drain, for its own tests (§7.3); they are built in here too, since soa-configs may
/// name them, but marked <see cref="DrainMethodInfo.ForTesting"/> and left out of what operators are shown.
/// Names compare case-insensitively. <see cref="Default"/> is the process-wide registry the cmdlets and the
/// bounce engine share. Thread-safe.
/// </summary>
public sealed partial class DrainMethodRegistry
{
    private sealed record Entry(DrainMethodInfo Info, DrainMethodFactory Factory, IDisposable? Resources = null);

    private readonly object _gate = new();
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The registry Paasta uses: built-ins, and whatever the session registered.</summary>
    public static DrainMethodRegistry Default { get; } = new();

    /// <summary>A registry with the built-in methods only.</summary>
    public DrainMethodRegistry()
    {
        AddBuiltIn("noop", typeof(NoopDrainMethod), "Drains nothing; always safe to kill.", _ => new NoopDrainMethod());
        AddBuiltIn("test", typeof(TestDrainMethod), "For tests: records drains in process (TestDrainRecord.Shared); safe when marked, or delay seconds after drain.",
            c => new TestDrainMethod(c), forTesting: true);
        AddBuiltIn("crashy_drain", typeof(CrashyDrainMethod), "For tests: every call fails, to show that failures keep copies serving.", _ => new CrashyDrainMethod(), forTesting: true);
        AddBuiltIn(HacheckDrainMethod.Name, typeof(HacheckDrainMethod),
            "hacheck spool API: POST status=down with expiration; safe delay seconds (default 240) after down.", c => new HacheckDrainMethod(c));
        AddBuiltIn(HttpDrainMethod.Name, typeof(HttpDrainMethod),
            "Calls the drain, stop_draining, is_draining and is_safe_to_kill URL specs of drain_method_params.", c => new HttpDrainMethod(c));
    }

    private void AddBuiltIn(string name, Type type, string description, DrainMethodFactory factory, bool forTesting = false) =>
        _entries[name] = new Entry(new DrainMethodInfo(name, DrainMethodSource.BuiltIn, type.FullName!, description) { ForTesting = forTesting }, factory);

    /// <summary>The methods, sorted by name; the ones for testing only when <paramref name="includeTestMethods"/>.</summary>
    public IReadOnlyList<DrainMethodInfo> List(bool includeTestMethods = false)
    {
        lock (_gate)
            return _entries.Values.Select(e => e.Info).Where(i => includeTestMethods || !i.ForTesting)
                .OrderBy(i => i.Name, StringComparer.OrdinalIgnoreCase).ToList();
    }

    /// <summary>Every name, sorted, the test methods included (PaaSTA's list_drain_methods).</summary>
    public IReadOnlyList<string> Names => List(includeTestMethods: true).Select(i => i.Name).ToList();

    public DrainMethodInfo? Find(string name)
    {
        lock (_gate) return _entries.TryGetValue(name, out var e) ? e.Info : null;
    }

    /// <summary>
    /// Registers a factory. A built-in cannot be replaced; another custom method of that name only with <paramref name="replace"/>.
    /// <paramref name="resources"/> (e.g. the runspaces of a scriptblock method) are disposed when the method is unregistered or replaced.
    /// </summary>
    public DrainMethodInfo Register(string name, DrainMethodFactory factory, DrainMethodSource source = DrainMethodSource.Delegate,
        string? definition = null, string? description = null, bool replace = false, IDisposable? resources = null)
    {
        ArgumentNullException.ThrowIfNull(factory);
        ValidateName(name);
        if (source == DrainMethodSource.BuiltIn)
            throw new ArgumentException("Only Paasta's own methods are built in.", nameof(source));
        var info = new DrainMethodInfo(name, source, definition ?? factory.Method.ToString() ?? "delegate", description);
        IDisposable? replaced;
        lock (_gate)
        {
            if (_entries.TryGetValue(name, out var existing))
            {
                if (existing.Info.Source == DrainMethodSource.BuiltIn) throw BuiltIn(name, "replaced");
                if (!replace)
                    throw new PaastaException("DrainMethodAlreadyRegistered", PaastaErrorKind.InvalidOperation,
                        $"A drain method named '{existing.Info.Name}' is already registered ({existing.Info.Source}: {existing.Info.Definition}); unregister it first or replace it (-Force).") { Target = name };
            }
            _entries[name] = new Entry(info, factory, resources);
            replaced = existing?.Resources;
        }
        replaced?.Dispose();
        return info;
    }

    /// <summary>
    /// Registers a .NET type implementing <see cref="IDrainMethod"/>, built per instance through its public
    /// constructor taking a <see cref="DrainContext"/> (preferred) or none.
    /// </summary>
    public DrainMethodInfo Register(string name, Type type, string? description = null, bool replace = false)
    {
        ArgumentNullException.ThrowIfNull(type);
        var factory = FactoryFor(type);
        return Register(name, factory, DrainMethodSource.Type, type.FullName ?? type.Name, description, replace);
    }

    public DrainMethodInfo Register<T>(string name, string? description = null, bool replace = false) where T : IDrainMethod =>
        Register(name, typeof(T), description, replace);

    /// <summary>Removes a custom method and returns what it was.</summary>
    public DrainMethodInfo Unregister(string name)
    {
        Entry? entry;
        lock (_gate)
        {
            if (!_entries.TryGetValue(name, out entry)) throw NotFound(name);
            if (entry.Info.Source == DrainMethodSource.BuiltIn) throw BuiltIn(entry.Info.Name, "unregistered");
            _entries.Remove(name);
        }
        entry.Resources?.Dispose();
        return entry.Info;
    }

    /// <summary>Builds the named method for a context. Unknown names, bad params and failing constructors are PaastaExceptions.</summary>
    public IDrainMethod Create(string name, DrainContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        Entry? entry;
        lock (_gate) _entries.TryGetValue(name ?? "", out entry);
        if (entry is null) throw NotFound(name ?? "");
        try
        {
            return entry.Factory(context) ?? throw new InvalidOperationException("The factory returned null.");
        }
        catch (PaastaException) { throw; }
        catch (Exception e)
        {
            var inner = e is TargetInvocationException { InnerException: { } i } ? i : e;
            if (inner is PaastaException paasta) throw paasta;
            throw new PaastaException("DrainMethodFailed", PaastaErrorKind.InvalidOperation,
                $"Drain method '{entry.Info.Name}' could not be created for {context.Service}.{context.Instance}: {inner.Message}", inner) { Target = entry.Info.Name };
        }
    }

    /// <summary>The instance's drain_method built with its drain_method_params and registrations.</summary>
    public IDrainMethod Create(InstanceConfig instance)
    {
        ArgumentNullException.ThrowIfNull(instance);
        return Create(instance.DrainMethod, DrainContext.For(instance));
    }

    /// <summary>
    /// What the bounce engine uses: the instance's drain method behind a <see cref="DrainGuard"/>, whose calls never
    /// throw (except for the caller's cancellation) and never report safe after a failure or a timeout.
    /// Throws (PaastaException) only when the method cannot be built: unknown name or invalid drain_method_params.
    /// </summary>
    public DrainGuard CreateGuarded(InstanceConfig instance, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(instance);
        return new DrainGuard(Create(instance), Find(instance.DrainMethod)?.Name ?? instance.DrainMethod, timeout);
    }

    public DrainGuard CreateGuarded(string name, DrainContext context, TimeSpan? timeout = null) =>
        new(Create(name, context), Find(name)?.Name ?? name, timeout);

    /// <summary>Names as soa-configs may write them (the schema's pattern for drain_method).</summary>
    public static void ValidateName(string name)
    {
        if (string.IsNullOrEmpty(name) || !NamePattern().IsMatch(name))
            throw new PaastaException("DrainMethodNameInvalid", PaastaErrorKind.InvalidArgument,
                $"'{name}' is not a drain method name: use a letter, then letters, digits, '_' or '-' (it is written as drain_method in soa-configs).") { Target = name };
    }

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9_-]*$")]
    private static partial Regex NamePattern();

    private static DrainMethodFactory FactoryFor(Type type)
    {
        if (!typeof(IDrainMethod).IsAssignableFrom(type) || type.IsAbstract || type.IsInterface || type.ContainsGenericParameters)
            throw TypeInvalid(type, $"it must be a concrete class implementing {typeof(IDrainMethod).FullName}");
        var withContext = type.GetConstructor(new[] { typeof(DrainContext) });
        if (withContext is not null) return context => (IDrainMethod)withContext.Invoke(new object[] { context });
        var parameterless = type.GetConstructor(Type.EmptyTypes);
        if (parameterless is not null) return _ => (IDrainMethod)parameterless.Invoke(null);
        throw TypeInvalid(type, $"it needs a public constructor taking a {typeof(DrainContext).FullName}, or none");
    }

    private static PaastaException TypeInvalid(Type type, string why) =>
        new("DrainMethodTypeInvalid", PaastaErrorKind.InvalidArgument, $"{type.FullName} cannot be a drain method: {why}.") { Target = type };

    private PaastaException NotFound(string name) =>
        new("DrainMethodNotFound", PaastaErrorKind.ObjectNotFound,
            $"No drain method named '{name}'. Known: {string.Join(", ", List().Select(i => i.Name))}. Register custom ones with Register-PaastaDrainMethod.") { Target = name };

    private static PaastaException BuiltIn(string name, string verb) =>
        new("DrainMethodBuiltIn", PaastaErrorKind.InvalidOperation, $"'{name}' is a built-in drain method; it cannot be {verb}.") { Target = name };
}
