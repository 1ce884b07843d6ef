"""`kwizard status`: the cluster at a glance, from the control plane, changing nothing.

Nodes (readiness, roles, kubelet version), the API server's version, the network plugin's pods,
and every certificate's expiry. One capture per question; a question kubeadm or kubectl cannot
answer leaves its part empty with the reason, never an exception out of the status.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone

from kwizard.day2.certs import CertExpiry, CertsError, expiry_findings, read_certs
from kwizard.checks.findings import Finding
from kwizard.kube.nodes import NodeStatus, parse_nodes
from kwizard.plan import scripts
from kwizard.plan.context import HostSession, RemoteScript
from kwizard.profile.model import Profile

# The network plugins' pods, by the labels their manifests give them.
PLUGIN_PODS = {
    "flannel": ("kube-flannel", "app=flannel"),
    "calico": ("calico-system", "k8s-app=calico-node"),
    "weave": ("kube-system", "name=weave-net"),
}


@dataclass
class ClusterStatus:
    control_plane: str
    nodes: list[NodeStatus] = field(default_factory=list)
    server_version: str = ""
    plugin: str = ""
    plugin_pods: dict[str, int] = field(default_factory=dict)  # pod phase -> count
    certs: list[CertExpiry] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # what could not be asked

    @property
    def all_ready(self) -> bool:
        return bool(self.nodes) and all(n.ready for n in self.nodes)

    def records(self) -> list[dict]:
        """One JSON object per line (`--output jsonl`)."""
        out = [{"type": "node", "name": n.name, "ready": n.ready, "roles": list(n.roles), "version": n.version,
                "internal_ip": n.internal_ip} for n in self.nodes]
        out.append({"type": "cluster", "control_plane": self.control_plane, "server_version": self.server_version,
                    "plugin": self.plugin, "plugin_pods": self.plugin_pods, "all_ready": self.all_ready,
                    "problems": self.problems})
        out += [{"type": "certificate", **c.to_json()} for c in self.certs]
        out += [{"type": "finding", "level": f.level.value, "code": f.code, "message": f.message, "fix": f.fix,
                 "host": f.host} for f in self.findings]
        return out

    def lines(self, now: datetime | None = None) -> list[str]:
        ready = sum(n.ready for n in self.nodes)
        text = [f"API server {self.server_version or '?'} on {self.control_plane}; "
                f"{ready}/{len(self.nodes)} node(s) Ready; network plugin {self.plugin}: "
                + (", ".join(f"{count} {phase}" for phase, count in sorted(self.plugin_pods.items())) or "no pods")]
        text.append("")
        text.append(f"  {'NODE':24} {'STATUS':9} {'ROLES':16} {'VERSION':12} INTERNAL-IP")
        text += [f"  {n.name:24} {n.status:9} {','.join(n.roles):16} {n.version:12} {n.internal_ip}" for n in self.nodes]
        if self.certs:
            soonest = min((c for c in self.certs if not c.is_ca), key=lambda c: c.expires, default=None)
            ca = min((c for c in self.certs if c.is_ca), key=lambda c: c.expires, default=None)
            text.append("")
            if soonest:
                text.append(f"  certificates: the first expires {soonest.expires:%Y-%m-%d} ({soonest.name}, "
                            f"{int(soonest.days_left(now))} days)")
            if ca:
                text.append(f"  CAs: the first expires {ca.expires:%Y-%m-%d} ({ca.name})")
        text += [f"  {f.level.value}: {f.message} — {f.fix}" for f in self.findings]
        text += [f"  could not ask: {p}" for p in self.problems]
        return text


async def _capture_json(session: HostSession, command: str) -> tuple[dict | None, str]:
    status, out, err = await session.capture(RemoteScript(command + "\n"), timeout=60)
    if status != 0:
        return None, (err.strip().splitlines() or ["no output"])[-1]
    try:
        return json.loads(out), ""
    except ValueError:
        return None, f"{command.split()[0]} printed something that is not JSON"


async def cluster_status(profile: Profile, session: HostSession, now: datetime | None = None) -> ClusterStatus:
    now = now or datetime.now(timezone.utc)
    result = ClusterStatus(profile.control_plane.name, plugin=profile.cluster.cni.value)
    nodes, problem = await _capture_json(session, f"{scripts.KUBECTL} get nodes -o json")
    if nodes is None:
        result.problems.append(f"nodes: {problem}")
    else:
        result.nodes = parse_nodes(json.dumps(nodes))
    version, problem = await _capture_json(session, f"{scripts.KUBECTL} version -o json")
    if version is not None:
        result.server_version = (version.get("serverVersion") or {}).get("gitVersion", "")
    elif nodes is not None:
        result.problems.append(f"version: {problem}")
    namespace, selector = PLUGIN_PODS.get(result.plugin, ("kube-system", ""))
    if selector and nodes is not None:
        pods, problem = await _capture_json(session, f"{scripts.KUBECTL} get pods -n {namespace} -l {selector} -o json")
        if pods is None:
            result.problems.append(f"network plugin pods: {problem}")
        else:
            for pod in pods.get("items", []):
                phase = (pod.get("status") or {}).get("phase", "Unknown")
                result.plugin_pods[phase] = result.plugin_pods.get(phase, 0) + 1
    try:
        result.certs = await read_certs(session)
    except CertsError as exc:
        result.problems.append(f"certificates: {exc}")
    result.findings = expiry_findings(result.certs, result.control_plane, now)
    return result
