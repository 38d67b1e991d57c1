namespace Paasta.Tests.Operations;

/// <summary>The service the job operation tests share: alpha, with two Tron jobs (nightly: first → second; hourly) on cluster prod.</summary>
internal static class TronTestService
{
    public const string Sha = "4ef01b5a574b519ab546309e89f72972a33b6b75";

    public static void Write(TempSoaDir soa)
    {
        soa.Service("alpha", "backend", "prod.main");
        soa.Write("alpha/tron-prod.yaml", """
            nightly:
              schedule: daily 04:00:00
              deploy_group: prod.main
              actions:
                first:
                  command: echo one
                second:
                  command: echo two
                  requires: [first]
            hourly:
              schedule: cron 0 * * * *
              deploy_group: prod.main
              actions:
                run:
                  command: echo hourly
            """ + "\n");
    }

    /// <summary>deployments.json of <paramref name="service"/>: prod.main deployed at <see cref="Sha"/>, with these controls (branch without the service).</summary>
    public static void WriteDeployments(TempSoaDir soa, string service, params (string Branch, string State)[] controls) =>
        soa.Write($"{service}/deployments.json",
            "{\"v1\": {}, \"v2\": {\"deployments\": {\"prod.main\": {\"docker_image\": \"services-" + service + ":paasta-" + Sha + "\", \"git_sha\": \"" + Sha + "\", \"image_version\": null}}, \"controls\": {"
            + string.Join(", ", controls.Select(c => $"\"{service}:{c.Branch}\": {{\"desired_state\": \"{c.State}\", \"force_bounce\": null}}")) + "}}}");
}
