using Paasta.Errors;
using Paasta.Settings;
using Xunit;

namespace Paasta.Tests.Operations;

public sealed class SettingsTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "paasta-settings-" + Guid.NewGuid().ToString("N")[..8]);

    public SettingsTests() => Directory.CreateDirectory(_folder);

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void Parameter_beats_environment_beats_file_beats_default()
    {
        var saved = new PaastaSettings { Cluster = "file", SoaDir = "/file/soa", DockerRegistry = "file:5000" };
        var env = new Dictionary<string, string> { ["PAASTA_CLUSTER"] = "env", ["PAASTA_SOA_DIR"] = "/env/soa" };
        var s = new ResolvedSettings(new PaastaSettings { Cluster = "param" }, () => saved, n => env.GetValueOrDefault(n));
        Assert.Equal(new SettingValue("Cluster", "param", SettingOrigin.Parameter, null), s.Get("Cluster"));
        Assert.Equal(SettingOrigin.Environment, s.Get("SoaDir").Origin);
        Assert.Equal("/env/soa", s.SoaDir);
        Assert.Equal(("file:5000", SettingOrigin.File), (s.DockerRegistry, s.Get("DockerRegistry").Origin));
        Assert.Equal(("127.0.0.1:3030", SettingOrigin.Default), (s.SensuSocket, s.Get("SensuSocket").Origin));
        Assert.Equal(SettingOrigin.Unset, s.Get("TronUrl").Origin);
    }

    [Fact]
    public void TheCacheFolderIsXdgCacheHomeElseUnderHomeElseNone()
    {
        ResolvedSettings With(params (string Name, string Value)[] env) =>
            new(null, () => new PaastaSettings(), n => env.FirstOrDefault(e => e.Name == n).Value);
        if (OperatingSystem.IsWindows()) return;
        Assert.Equal(Path.Combine("/x", "paasta"), With(("XDG_CACHE_HOME", "/x"), ("HOME", "/h")).CacheDirectory);
        Assert.Equal(Path.Combine("/h", ".cache", "paasta"), With(("HOME", "/h")).CacheDirectory);
        Assert.Equal(Path.Combine("/h", ".cache", "paasta"), With(("XDG_CACHE_HOME", "relative"), ("HOME", "/h")).CacheDirectory); // XDG: absolute only
        Assert.Null(With().CacheDirectory); // engine tests pass no environment: no cache, each connection asks
    }

    [Fact]
    public void The_default_soa_dir_is_PaaSTAs()
    {
        Assert.Equal("/nail/etc/services", new ResolvedSettings(null, () => new PaastaSettings(), _ => null).SoaDir);
    }

    [Fact]
    public void Kubeconfig_from_the_environment_is_the_first_file_of_the_list()
    {
        var s = new ResolvedSettings(null, () => new PaastaSettings(), n => n == "KUBECONFIG" ? $"/a/one{Path.PathSeparator}/b/two" : null);
        Assert.Equal("/a/one", s.KubeConfig);
    }

    [Fact]
    public void The_settings_file_is_not_read_when_parameters_and_environment_give_everything_needed()
    {
        var s = new ResolvedSettings(new PaastaSettings { SoaDir = "/x" }, () => throw new PaastaException("SettingsFileInvalid", PaastaErrorKind.InvalidData, "corrupt"), _ => null);
        Assert.Equal("/x", s.SoaDir);
        Assert.Equal("SettingsFileInvalid", Assert.Throws<PaastaException>(() => s.Cluster).ErrorId);
    }

    [Fact]
    public void A_cluster_maps_to_its_own_context_and_an_explicit_context_wins()
    {
        var saved = new PaastaSettings { KubeContext = "default-ctx", ClusterContext = new Dictionary<string, string> { ["prod"] = "ctx-prod" } };
        var s = new ResolvedSettings(null, () => saved, _ => null);
        Assert.Equal("ctx-prod", s.ContextFor("prod").Value);
        Assert.Equal("default-ctx", s.ContextFor("canary").Value);
        Assert.Equal("explicit", new ResolvedSettings(new PaastaSettings { KubeContext = "explicit" }, () => saved, _ => null).ContextFor("prod").Value);
        var env = new ResolvedSettings(null, () => saved, n => n == "PAASTA_CLUSTER_CONTEXT" ? "prod=env-prod, canary=env-canary" : null);
        Assert.Equal("env-canary", env.ContextFor("canary").Value);
    }

    [Fact]
    public void A_malformed_cluster_context_map_is_refused()
    {
        var s = new ResolvedSettings(null, () => new PaastaSettings(), n => n == "PAASTA_CLUSTER_CONTEXT" ? "prod" : null);
        Assert.Equal("ClusterContextInvalid", Assert.Throws<PaastaException>(() => s.ClusterContext).ErrorId);
    }

    [Fact]
    public void Concurrent_updates_of_different_keys_all_survive()
    {
        var path = Path.Combine(_folder, "settings.json");
        var writers = Enumerable.Range(0, 8).Select(i => Task.Run(() =>
            PaastaSettingsStore.Update(path, s => s with
            {
                ClusterContext = new Dictionary<string, string>(s.ClusterContext ?? new Dictionary<string, string>()) { [$"c{i}"] = $"ctx{i}" },
            }))).ToArray();
        Task.WaitAll(writers);
        Assert.Equal(8, PaastaSettingsStore.Load(path).ClusterContext!.Count);
    }

    [Fact]
    public void A_corrupt_settings_file_is_SettingsFileInvalid_with_its_line()
    {
        var path = Path.Combine(_folder, "settings.json");
        File.WriteAllText(path, "{\n  \"cluster\": \n");
        var e = Assert.Throws<PaastaException>(() => PaastaSettingsStore.Load(path));
        Assert.Equal("SettingsFileInvalid", e.ErrorId);
        Assert.Equal(path, e.File);
    }
}
