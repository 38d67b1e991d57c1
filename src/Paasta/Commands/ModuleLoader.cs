using System.Management.Automation;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.Loader;

namespace Paasta.Commands;

/// <summary>
/// Keeps Paasta's dependencies (YamlDotNet, KubernetesClient, LibGit2Sharp, Docker.DotNet, Newtonsoft.Json...)
/// out of PowerShell's shared load context, so another module's versions of them cannot clash with ours.
/// Only Paasta.dll lives in the default context; when it first needs Paasta.Core, the resolver hands it
/// the copy loaded into <see cref="PaastaLoadContext"/>, and everything Paasta.Core needs resolves there.
/// </summary>
public sealed class ModuleLoader : IModuleAssemblyInitializer, IModuleAssemblyCleanup
{
    private static readonly string DependencyFolder =
        Path.Combine(Path.GetDirectoryName(typeof(ModuleLoader).Assembly.Location)!, "dependencies");

    private static readonly Lazy<PaastaLoadContext> Context = new(() => new PaastaLoadContext(DependencyFolder));
    private static int _registered;

    // Runs as soon as Paasta.dll loads, before PowerShell inspects cmdlet parameter types that live in Paasta.Core.
#pragma warning disable CA2255 // A module has no Main: this is the only hook that runs before PowerShell reflects over the cmdlets.
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Register()
    {
        if (Interlocked.Exchange(ref _registered, 1) == 0)
            AssemblyLoadContext.Default.Resolving += ResolveFromDefault;
    }

    public void OnImport() => Register();

    public void OnRemove(PSModuleInfo module)
    {
        if (Interlocked.Exchange(ref _registered, 0) == 1)
            AssemblyLoadContext.Default.Resolving -= ResolveFromDefault;
    }

    private static Assembly? ResolveFromDefault(AssemblyLoadContext context, AssemblyName name)
    {
        // Answer only for the engine; a dependency asked for by someone else is not ours to hand out.
        if (name.Name != "Paasta.Core" || !Directory.Exists(DependencyFolder)) return null;
        return Context.Value.LoadFromAssemblyName(name);
    }
}

/// <summary>Loads Paasta.Core and its dependencies (managed and native, e.g. libgit2) from the module's dependencies folder.</summary>
internal sealed class PaastaLoadContext : AssemblyLoadContext
{
    private readonly AssemblyDependencyResolver _resolver;
    private readonly string _folder;

    public PaastaLoadContext(string folder) : base("Paasta", isCollectible: false)
    {
        _folder = folder;
        _resolver = new AssemblyDependencyResolver(Path.Combine(folder, "Paasta.Core.dll"));
    }

    protected override Assembly? Load(AssemblyName name)
    {
        // Framework and PowerShell assemblies are not in the folder: returning null shares the default context's copy.
        var path = _resolver.ResolveAssemblyToPath(name);
        if (path is null)
        {
            var candidate = Path.Combine(_folder, name.Name + ".dll");
            if (File.Exists(candidate)) path = candidate;
        }
        return path is null ? null : LoadFromAssemblyPath(path);
    }

    protected override IntPtr LoadUnmanagedDll(string unmanagedDllName)
    {
        var path = _resolver.ResolveUnmanagedDllToPath(unmanagedDllName);
        return path is null ? IntPtr.Zero : LoadUnmanagedDllFromPath(path);
    }
}
