using k8s.Models;
using Paasta.Bounce;

namespace Paasta.Commands;

/// <summary>Gives the bounce engine the drain method an instance names (drain_method, drain_method_params).</summary>
internal static class DrainMethodBridge
{
    public static IPodDrainer For(InstanceConfig instance) => instance.DrainMethod switch
    {
        "noop" => NoopPodDrainer.Instance,
        _ => NoopPodDrainer.Instance, // interim until the drain-method registry lands
    };
}
