"""Likely causes for a cluster that does not come Ready, from the output's tail."""

from __future__ import annotations

from kwizard.profile.model import Profile

POD_CIDR_NOT_ASSIGNED = "pod cidr not assigned"


def diagnose_not_ready(tail: str, profile: Profile) -> str | None:
    text = tail.lower()
    if POD_CIDR_NOT_ASSIGNED in text:
        return (
            "Flannel cannot start: the nodes have no pod CIDR, which means kubeadm init ran without a pod "
            f"network (podSubnet). Reset the cluster (kwizard reset) and apply again so init gets "
            f"podSubnet {profile.cluster.pod_cidr}; or set spec.podCIDR on each node by hand."
        )
    if "subnet.env: no such file" in text:
        return "pods cannot get an address because Flannel is not running on that node; see Flannel's logs above"
    if "cni plugin not initialized" in text or "network plugin is not ready" in text:
        return "the network plugin has not started yet on some node; check its pods (kubectl get pods -A)"
    if "imagepullbackoff" in text or "errimagepull" in text:
        return "a node cannot pull images: check its internet access or registry mirror"
    if "timed out" in text:
        return "nodes did not become Ready in time; the node and pod lists above show which part is stuck"
    return None
