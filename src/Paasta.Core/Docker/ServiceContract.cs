using System.Text.RegularExpressions;
using Paasta.Errors;
using Paasta.IO;

namespace Paasta.Docker;

// long: ConvertTo-Json writes 64-bit enums by name, which runbooks parsing JSON need (docs/OUTPUT.md).
public enum ServiceCheckStatus : long
{
    Passed,
    Warning,
    Failed,
}

/// <summary>One check of the PaaSTA service contract (paasta check).</summary>
public sealed record ServiceCheckResult(string Service, string Check, ServiceCheckStatus Status, string Message)
{
    public bool Passed => Status != ServiceCheckStatus.Failed;
    public override string ToString() => $"{Status} {Check}: {Message}";
}

/// <summary>
/// The repository half of paasta check (docs/BEHAVIOUR.md §4): a Dockerfile, a Makefile answering test, itest
/// and cook-image, plus advice (DOCKER_TAG in the Makefile, no time zone baked into the image). The soa-configs
/// half is Operations/ServiceCheck.
/// </summary>
public static partial class ServiceContract
{
    public static readonly IReadOnlyList<string> MakeTargets = new[] { "test", "itest", "cook-image" };

    [GeneratedRegex(@"/etc/localtime")]
    private static partial Regex LocalTime();

    /// <param name="make">The make program (tests name one that does not exist).</param>
    public static async Task<List<ServiceCheckResult>> CheckRepositoryAsync(string serviceName, string repository, CancellationToken cancellationToken, string make = "make")
    {
        var results = new List<ServiceCheckResult>();
        void Add(string check, ServiceCheckStatus status, string message) => results.Add(new(serviceName, check, status, message));

        // The repository: Dockerfile and Makefile.
        var dockerfile = Path.Combine(repository, "Dockerfile");
        if (File.Exists(dockerfile))
        {
            Add("Dockerfile", ServiceCheckStatus.Passed, $"{dockerfile} exists.");
            var lines = ReadLines(dockerfile)
                .Select((text, i) => (Text: text, Line: i + 1))
                .Where(l => !l.Text.TrimStart().StartsWith('#') && LocalTime().IsMatch(l.Text))
                .ToList();
            if (lines.Count > 0)
                Add("DockerfileTimeZone", ServiceCheckStatus.Warning,
                    $"{dockerfile}:{lines[0].Line} sets /etc/localtime. Containers should run in UTC and let the host's clock be the truth; convert times when showing them instead.");
            else
                Add("DockerfileTimeZone", ServiceCheckStatus.Passed, "The Dockerfile does not force a time zone.");
        }
        else
            Add("Dockerfile", ServiceCheckStatus.Failed, $"No Dockerfile in {repository}: the service's repository must build one image from its Dockerfile.");

        var makefile = Path.Combine(repository, "Makefile");
        if (File.Exists(makefile))
        {
            Add("Makefile", ServiceCheckStatus.Passed, $"{makefile} exists.");
            foreach (var target in MakeTargets)
            {
                bool exists;
                try { exists = await MakeTarget.ExistsAsync(repository, target, cancellationToken, make).ConfigureAwait(false); }
                catch (PaastaException e) when (e.ErrorId == "MakeNotFound")
                {
                    // Without make no target can be asked about; one failed check, and the other checks still run.
                    Add("Make", ServiceCheckStatus.Failed, $"{e.Message} The Makefile's targets ({string.Join(", ", MakeTargets)}) were not checked.");
                    break;
                }
                var why = target switch
                {
                    "test" => "runs the unit tests",
                    "itest" => "builds the image as $DOCKER_TAG and runs the integration tests (paasta itest, the pipeline's itest step)",
                    _ => "builds the image as $DOCKER_TAG (Build-PaastaImage, Invoke-PaastaLocalRun -Build)",
                };
                Add($"MakeTarget:{target}", exists ? ServiceCheckStatus.Passed : ServiceCheckStatus.Failed,
                    exists ? $"'make {target}' exists." : $"The Makefile has no '{target}' target (make --question {target} exits 2); '{target}' {why}.");
            }
            var text = string.Join('\n', ReadLines(makefile));
            Add("MakefileDockerTag", text.Contains("DOCKER_TAG", StringComparison.Ordinal) ? ServiceCheckStatus.Passed : ServiceCheckStatus.Warning,
                text.Contains("DOCKER_TAG", StringComparison.Ordinal)
                    ? "The Makefile uses DOCKER_TAG."
                    : "The Makefile never mentions DOCKER_TAG; itest and cook-image must tag the image they build with it (default it with DOCKER_TAG ?= <service>-dev-$(USER)).");
        }
        else
            Add("Makefile", ServiceCheckStatus.Failed, $"No Makefile in {repository}: PaaSTA runs 'make test', 'make itest' and 'make cook-image'.");

        return results;
    }

    // The checkout is not Paasta's: read only regular files, bounded (a FIFO named Dockerfile must not hang the check).
    private static string[] ReadLines(string path) => BoundedFile.ReadAllText(path).Split('\n');
}
