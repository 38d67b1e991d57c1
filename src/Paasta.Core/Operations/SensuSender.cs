using Paasta.Errors;
using Paasta.Monitoring;

namespace Paasta.Operations;

/// <summary>
/// Send-PaastaSensuEvent: check results to the Sensu client socket (-SensuSocket, $env:PAASTA_SENSU_SOCKET, the
/// setting, 127.0.0.1:3030), one connection per event, after ShouldProcess; progress only when the socket keeps
/// the caller waiting. One sender serves a whole pipeline.
/// </summary>
public sealed class SensuSender
{
    private int _sent;

    private SensuSender(SensuEndpoint endpoint) => Endpoint = endpoint;

    public SensuEndpoint Endpoint { get; }

    /// <summary>The sender for the context's Sensu socket; SensuSocketInvalid before anything is sent.</summary>
    public static SensuSender For(OperationContext context)
    {
        var endpoint = SensuEndpoint.Parse(context.Settings.SensuSocket);
        context.Sink.Debug($"Sensu client socket: {endpoint}");
        return new SensuSender(endpoint);
    }

    /// <summary>
    /// Sends one check result; null when it was not sent (no team, as PaaSTA sends nothing then, with a warning; or
    /// -WhatIf). Invalid names and durations, and every delivery failure, are thrown as their ErrorIds.
    /// </summary>
    public SensuDelivery? Send(OperationContext context, SensuCheck check, TimeSpan timeout, WaitClock? clock = null)
    {
        clock ??= WaitClock.Real;
        if (!check.HasTeam)
        {
            SensuRules.ValidateName(check.Name);
            context.Sink.Warning($"Event {check.Name} not sent: it has no team (set team in monitoring.yaml). PaaSTA sends no event without a team.");
            return null;
        }
        var sensuEvent = check.ToEvent();
        context.Sink.Verbose($"Event for {Endpoint}: {sensuEvent.ToJson()}");
        if (!context.Sink.ShouldProcess($"{check.Name} ({check.Status})", $"Send a Sensu check result to {Endpoint}")) return null;

        var activity = $"Sending Sensu events to {Endpoint}";
        var task = SensuClient.SendAsync(sensuEvent, Endpoint, timeout, context.Cancellation);
        var progressShown = false;
        try
        {
            // A healthy socket answers in a millisecond; progress appears only when one keeps us waiting.
            var first = Task.WhenAny(task, clock.Delay(TimeSpan.FromMilliseconds(250), context.Cancellation)).GetAwaiter().GetResult();
            if (first != task)
            {
                progressShown = true;
                context.Sink.Progress(new OperationProgress(activity, $"Waiting for the Sensu client to take {check.Name} ({_sent} sent so far; gives up after {timeout.TotalSeconds:0} s)"));
            }
            var delivery = task.GetAwaiter().GetResult();
            _sent++;
            context.Sink.Verbose(delivery.Acknowledged ? $"{check.Name}: the Sensu client answered ok." : $"{check.Name}: sent; the peer closed without an answer.");
            return delivery;
        }
        finally
        {
            if (progressShown) context.Sink.Progress(new OperationProgress(activity, "Done").Complete());
        }
    }
}
