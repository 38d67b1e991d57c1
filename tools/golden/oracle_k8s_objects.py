#!/usr/bin/python3
"""oracle_k8s_objects.py SOA_DIR SERVICE INSTANCE CLUSTER TYPE

Runs with the PaaSTA oracle (PAASTA_ORACLE_ROOT, /work/shared/oracle/README.md) and prints, as the Kubernetes
API would receive them (camelCase, None dropped), every object PaaSTA's setup_kubernetes_job writes for one
kubernetes or eks instance on a cluster that has none of them yet:
  {"controller": Deployment|StatefulSet, "podDisruptionBudget": ..., "horizontalPodAutoscaler": ... | null}
The controller comes from the oracle's own k8s-deployment wrapper (its offline stubs included); the PDB and
HPA from the application wrapper PaaSTA uses, given a client that has nothing yet (PDB 404 -> create).
"""
import importlib.machinery
import importlib.util
import os
import sys

ORACLE = os.environ["PAASTA_ORACLE_ROOT"]
sys.path.insert(0, os.path.join(ORACLE, "bin"))
# k8s-deployment applies the offline stubs and points PaaSTA at SOA_DIR (sys.argv[1]) at import time.
_loader = importlib.machinery.SourceFileLoader("oracle_k8s_deployment", os.path.join(ORACLE, "bin", "k8s-deployment"))
_spec = importlib.util.spec_from_loader(_loader.name, _loader)
k8s_deployment = importlib.util.module_from_spec(_spec)
_loader.exec_module(k8s_deployment)

import _oracle_common  # noqa: E402
from kubernetes.client import ApiClient  # noqa: E402
from kubernetes.client.rest import ApiException  # noqa: E402
from paasta_tools import eks_tools, kubernetes_tools  # noqa: E402
from paasta_tools.kubernetes.application.controller_wrappers import get_application_wrapper  # noqa: E402


class _EmptyCluster:
    """A client of a cluster that holds none of the instance's objects: reads 404, creates are recorded."""

    def __init__(self):
        self.created = {}
        self.policy = self

    def read_namespaced_pod_disruption_budget(self, name, namespace):
        raise ApiException(status=404)

    def create_namespaced_pod_disruption_budget(self, namespace, body):
        self.created["pdb"] = body
        return body


def main():
    soa_dir, service, instance, cluster, instance_type = sys.argv[1:6]
    soa_dir = os.path.abspath(soa_dir)
    if instance_type == "eks":
        eks_tools.KubeClient = lambda *a, **k: None
        cfg = eks_tools.load_eks_service_config_no_cache(
            service=service, instance=instance, cluster=cluster, load_deployments=True, soa_dir=soa_dir)
    else:
        cfg = kubernetes_tools.load_kubernetes_service_config_no_cache(
            service=service, instance=instance, cluster=cluster, load_deployments=True, soa_dir=soa_dir)
    app = cfg.format_kubernetes_app()
    api = ApiClient()
    controller = api.sanitize_for_serialization(app)

    wrapper = get_application_wrapper(app)
    wrapper.soa_config = cfg
    client = _EmptyCluster()
    wrapper.ensure_pod_disruption_budget(client, cfg.get_namespace())
    pdb = client.created.get("pdb")

    hpa = None
    if type(app).__name__ == "V1Deployment":
        spec = cfg.get_autoscaling_metric_spec(
            name=app.metadata.name, cluster=cfg.cluster, kube_client=None, namespace=app.metadata.namespace)
        hpa = api.sanitize_for_serialization(spec) if spec is not None else None

    _oracle_common.dump({
        "controller": controller,
        "podDisruptionBudget": api.sanitize_for_serialization(pdb) if pdb is not None else None,
        "horizontalPodAutoscaler": hpa,
        "_oracle": {
            "kind": type(app).__name__,
            "config_sha": app.metadata.labels["paasta.yelp.com/config_sha"],
            "desired_state": cfg.get_desired_state(),
            "force_bounce": cfg.get_force_bounce(),
            "bounce_method": cfg.get_bounce_method(),
            "desired_instances": cfg.get_desired_instances(),
            "namespace": cfg.get_namespace(),
        },
    })


if __name__ == "__main__":
    main()
