namespace Paasta.Tests;

/// <summary>A throwaway soa-configs root on disk for one test.</summary>
public sealed class TempSoaDir : IDisposable
{
    public TempSoaDir()
    {
        Root = Path.Combine(Path.GetTempPath(), "paasta-test-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(Root);
    }

    public string Root { get; }

    public string Write(string relativePath, string content)
    {
        var path = Path.Combine(Root, relativePath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content.Replace("\r\n", "\n"));
        return path;
    }

    /// <summary>A minimal valid service: service.yaml, monitoring.yaml, deploy.yaml with the given groups.</summary>
    public void Service(string name, string team = "backend", params string[] deployGroups)
    {
        Write($"{name}/service.yaml", "description: test\nexternal_link: http://example\n");
        Write($"{name}/monitoring.yaml", $"team: {team}\n");
        var steps = deployGroups.Length == 0 ? new[] { "prod.main" } : deployGroups;
        Write($"{name}/deploy.yaml", "pipeline:\n" + string.Concat(steps.Select(s => $"- step: {s}\n")));
    }

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { }
    }
}
