using k8s;
using k8s.KubeConfigModels;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace Paasta.Kubernetes;

/// <summary>
/// Reads a kubeconfig into KubernetesClient's own model, as its <c>LoadKubeConfig</c> does (same YAML aliases,
/// unknown keys ignored, paths relative to the file), without going through its <c>KubernetesYaml</c>: that
/// class builds, on first use, YAML readers and writers for every Kubernetes model and a map of every type in
/// the 11 MB client assembly, which costs a new process a third of a second before its first API call.
/// </summary>
public static class KubeConfigFile
{
    // Only the kubeconfig model's types are ever read with it: built on first use, then shared.
    private static readonly Lazy<IDeserializer> Reader = new(() => new DeserializerBuilder()
        .WithNamingConvention(CamelCaseNamingConvention.Instance)
        .WithAttemptingUnquotedStringTypeDeserialization()
        .IgnoreUnmatchedProperties()
        .Build());

    /// <summary>The kubeconfig at <paramref name="path"/>; throws KubeConfigException when it is missing, YamlException when it is not YAML.</summary>
    public static K8SConfiguration Load(string path)
    {
        var file = new FileInfo(path);
        if (!file.Exists) throw new k8s.Exceptions.KubeConfigException($"kubeconfig file not found at {file.FullName}");
        var config = Reader.Value.Deserialize<K8SConfiguration>(File.ReadAllText(file.FullName))
            ?? throw new k8s.Exceptions.KubeConfigException($"kubeconfig file {file.FullName} is empty");
        // Certificate and key paths in it are relative to the file, as kubectl reads them.
        config.FileName = file.FullName;
        return config;
    }

    /// <summary>The client configuration for <paramref name="context"/> (null: the file's current-context).</summary>
    public static KubernetesClientConfiguration ClientConfiguration(string path, string? context) =>
        KubernetesClientConfiguration.BuildConfigFromConfigObject(Load(path), context);
}
