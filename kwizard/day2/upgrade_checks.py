"""The rules an upgrade must pass before anything changes: pure, from what the cluster reports.

kubernetes/website content/en/docs/tasks/administer-cluster/kubeadm/kubeadm-upgrade.md: "Skipping
MINOR versions when upgrading is unsupported"; the control plane first, then the nodes, one minor at a
time. kubeadm's own policy (kubernetes/kubernetes cmd/kubeadm/app/phases/upgrade/policy.go
EnforceVersionPolicies) says the same in its words, which the refusals below quote.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from kwizard.checks.findings import Finding, Level
from kwizard.kube.versions import KubeVersion

# policy.go MaximumAllowedMinorVersionUpgradeSkew: kubeadm upgrades the control plane one minor at a time.
MAX_MINOR_STEP = 1


class UpgradeRefused(ValueError):
    """The upgrade cannot start; the message says why and what to do."""


@dataclass(frozen=True)
class NodeVersion:
    name: str
    kubelet: KubeVersion
    schedulable: bool = True


@dataclass(frozen=True)
class ClusterVersions:
    """What the control plane reports: the API server's version and every node's kubelet."""

    server: KubeVersion
    nodes: tuple[NodeVersion, ...] = field(default_factory=tuple)

    def node(self, name: str) -> NodeVersion | None:
        return next((n for n in self.nodes if n.name == name), None)


def parse_target(text: str) -> KubeVersion:
    """`--to 1.34` or `--to 1.34.1` (a leading v is accepted); anything else is refused."""
    try:
        version = KubeVersion.parse(text, exact=True)
    except ValueError:
        raise UpgradeRefused(f"--to {text!r}: write the version like 1.34 or 1.34.1") from None
    if version.major != 1:
        raise UpgradeRefused(f"--to {text}: kwizard upgrades Kubernetes 1.x only")
    return version


def read_server_version(text: str) -> KubeVersion:
    """`kubectl version -o json` -> serverVersion.gitVersion."""
    try:
        git = json.loads(text)["serverVersion"]["gitVersion"]
    except (ValueError, KeyError, TypeError):
        raise UpgradeRefused("the API server did not say its version (kubectl version -o json has no "
                             "serverVersion): is the control plane up?") from None
    return KubeVersion.parse(git)


def read_node_versions(text: str) -> tuple[NodeVersion, ...]:
    """`kubectl get nodes -o json` -> each node's status.nodeInfo.kubeletVersion and spec.unschedulable."""
    try:
        items = json.loads(text)["items"]
        return tuple(NodeVersion(item["metadata"]["name"], KubeVersion.parse(item["status"]["nodeInfo"]["kubeletVersion"]),
                                 not (item.get("spec") or {}).get("unschedulable", False)) for item in items)
    except (ValueError, KeyError, TypeError) as exc:
        raise UpgradeRefused(f"could not read the nodes' versions from kubectl get nodes -o json ({exc})") from None


def skew_problems(target: KubeVersion, cluster: ClusterVersions, expected_nodes: Sequence[str]) -> list[str]:
    """Every reason the upgrade to `target` may not start; empty when it may (or may go on)."""
    problems: list[str] = []
    server = cluster.server
    if target.major != server.major:
        return [f"cannot upgrade from {server} to {target}: a different major version"]
    # policy.go: "Specified version to upgrade to %q is too high; kubeadm can upgrade only %d minor version at a time"
    if target.minor > server.minor + MAX_MINOR_STEP:
        problems.append(f'Specified version to upgrade to "v{target}" is too high; kubeadm can upgrade only '
                        f"{MAX_MINOR_STEP} minor version at a time (the API server runs v{server}: upgrade to "
                        f"{server.major}.{server.minor + 1} first)")
    # A downgrade is refused outright (policy.go allows one minor down with kubeadm; kwizard does not).
    if target.minor < server.minor or (
        target.minor == server.minor and target.patch is not None and server.patch is not None and target.patch < server.patch
    ):
        problems.append(f"v{target} is older than the API server's v{server}: kwizard does not downgrade a cluster")
    listed = {n.name for n in cluster.nodes}
    missing = [name for name in expected_nodes if name not in listed]
    if missing:
        problems.append(f"not in the cluster: {', '.join(missing)} (join them with kwizard apply, or remove them "
                        "from the profile, before upgrading)")
    for node in cluster.nodes:
        # kubernetes/website .../version-skew-policy.md (kubelet): "kubelet must not be newer than kube-apiserver"
        if node.kubelet.minor_pair > server.minor_pair:
            problems.append(f"{node.name}: kubelet v{node.kubelet} is newer than the API server's v{server}; "
                            "the kubelet may never be newer than the API server")
        # policy.go detectTooOldKubelets / kubeadm-upgrade.md: each node moves one minor at a time.
        elif target.minor > node.kubelet.minor + MAX_MINOR_STEP and target.minor <= server.minor + MAX_MINOR_STEP:
            problems.append(f"{node.name}: kubelet v{node.kubelet} is more than one minor behind v{target}; "
                            f"upgrade it to {node.kubelet.major}.{node.kubelet.minor + 1} first")
    return problems


def node_done(node: NodeVersion | None, target: KubeVersion) -> bool:
    """Done: the node's kubelet reports the target (its minor, or the exact patch when known) and it is schedulable."""
    if node is None or not node.schedulable:
        return False
    if target.patch is None:
        return node.kubelet.minor_pair == target.minor_pair
    return (node.kubelet.major, node.kubelet.minor, node.kubelet.patch) == (target.major, target.minor, target.patch)


def batches(workers: Sequence[str], parallel: int) -> list[tuple[str, ...]]:
    """The workers in groups of `parallel`, in the profile's order."""
    if parallel < 1:
        raise UpgradeRefused("--parallel must be 1 or more")
    return [tuple(workers[i:i + parallel]) for i in range(0, len(workers), parallel)]


def profile_version(profile_version_text: str, target: KubeVersion) -> str:
    """What the profile says afterwards: a minor stays a minor; a pinned patch is pinned to the new one."""
    before = KubeVersion.find(profile_version_text)
    if target.has_patch and (before is None or before.has_patch):
        return f"{target.major}.{target.minor}.{target.patch}"
    return target.minor_text


def cluster_newer_findings(profile, facts: Mapping[str, object]) -> list[Finding]:
    """`kwizard apply`'s guard: a host in the cluster whose kubelet is a newer minor than the profile asks.

    Applying would install the profile's older packages over it (a downgrade kubeadm does not support).
    """
    from kwizard.facts.model import HostFacts

    wanted = KubeVersion.find(profile.cluster.kubernetes_version)
    if wanted is None:
        return []
    findings = []
    for name, found in facts.items():
        if not isinstance(found, HostFacts) or not found.existing_cluster:
            continue
        running = KubeVersion.find(found.kubelet_version)
        if running is not None and running.minor_pair > wanted.minor_pair:
            findings.append(Finding(
                Level.ERROR, "version.cluster_newer",
                f"this host runs kubelet {found.kubelet_version} in a cluster, newer than the profile's "
                f"kubernetes_version {profile.cluster.kubernetes_version}; apply would downgrade it",
                f"set cluster.kubernetes_version: \"{running.minor_text}\" in the profile (kwizard upgrade does this)",
                name))
    return findings
