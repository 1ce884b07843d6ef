"""Day two for both faces: what `kwizard.service` re-exports about a cluster that already runs.

The status, the certificates, the run plans (renew, backup, remove a node, upgrade), and what the
wizard's status screen needs on top: the cluster at a glance with the reason when there is none
(`cluster_glance`), the one upgrade to offer (`upgrade_offer`, from upgrade_checks' skew rules) and
whether a node may be removed (`removal_problem`, from nodes' rule). The run machinery
(`start_plan`, `connect_work`) stays in service.py; it is imported when called, since service.py
imports this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from kwizard.checks.findings import Finding
from kwizard.facts.model import HostFacts
from kwizard.kube.join import require_cluster
from kwizard.kube.versions import KubeVersion
from kwizard.plan.steps import Plan, StepFailed
from kwizard.profile.model import Profile
from kwizard.ssh import SSHError

if TYPE_CHECKING:
    from kwizard.day2.status import ClusterStatus
    from kwizard.run.lock import RunLocks
    from kwizard.service import RunHandle, RunRequest
    from kwizard.ssh import Fleet


async def cluster_status(profile: Profile, fleet: Fleet):
    """The cluster at a glance (kwizard.day2.status.ClusterStatus); changes nothing."""
    from kwizard.day2.status import cluster_status as status_of  # noqa: PLC0415

    session = await fleet.session(profile.control_plane.name)
    await require_cluster(session, profile.control_plane.name)
    return await status_of(profile, session)


async def certificate_expiry(profile: Profile, fleet: Fleet):
    """Every certificate and CA kubeadm manages on the control plane (kwizard.day2.certs.CertExpiry)."""
    from kwizard.day2.certs import read_certs  # noqa: PLC0415

    session = await fleet.session(profile.control_plane.name)
    await require_cluster(session, profile.control_plane.name)
    return await read_certs(session)


async def certificate_findings(profile: Profile, fleet: Fleet, facts: dict | None = None) -> list[Finding]:
    """`kwizard check`'s certificate warnings (within 30 days); none when there is no cluster yet."""
    from kwizard.day2.certs import CertsError, expiry_findings, read_certs  # noqa: PLC0415
    from kwizard.plan.context import RemoteScript  # noqa: PLC0415

    cp = profile.control_plane.name
    found = facts.get(cp) if facts is not None else None
    if facts is not None and (not isinstance(found, HostFacts) or not found.sudo_ok):
        return []  # unreachable or no root there: preflight already says so, and the certificates need root
    try:
        session = await fleet.session(cp)
        status, out, _ = await session.capture(
            RemoteScript("test -s /etc/kubernetes/pki/ca.crt && echo yes || echo no\n"), timeout=60
        )
        if status != 0 or out.strip() != "yes":
            return []
        return expiry_findings(await read_certs(session), cp)
    except (CertsError, SSHError):
        return []


# --- the wizard's status screen: the cluster, or why there is none, and what it may do next ---


@dataclass(frozen=True)
class UpgradeOffer:
    """The one upgrade worth offering: one minor up, or finishing one that stopped half-way."""

    to: str  # "1.34": what `start_upgrade` is given
    server: str  # the API server's version now, as it reports it ("v1.33.2")
    finishing: bool = False  # some node is still behind the API server: this completes that upgrade
    problems: tuple[str, ...] = ()  # upgrade_checks.skew_problems: why it may not start

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class ClusterGlance:
    """What the status screen shows: the status, or the one sentence saying why there is none."""

    control_plane: str
    status: ClusterStatus | None = None
    problem: str = ""  # "no cluster on cp: ...", "cannot reach the control plane cp: ..."
    unreachable: bool = False  # the problem is the host (not an empty control plane)
    upgrade: UpgradeOffer | None = None
    asked_at: datetime | None = None  # when the control plane answered: "N days" left counts from here


def upgrade_offer(profile: Profile, status: ClusterStatus) -> UpgradeOffer | None:
    """The upgrade the wizard offers, checked with the skew rules `kwizard upgrade` applies.

    Nodes behind the API server mean an upgrade stopped after the control plane (or a node was
    left behind): the offer is the API server's own minor, which finishes it. Otherwise one minor
    up (upgrade_checks.MAX_MINOR_STEP), never more. None when the API server did not say its version.
    """
    from kwizard.day2.upgrade_checks import MAX_MINOR_STEP, ClusterVersions, NodeVersion, skew_problems  # noqa: PLC0415

    server = KubeVersion.find(status.server_version)
    if server is None:
        return None
    nodes = tuple(NodeVersion(n.name, version) for n in status.nodes if (version := KubeVersion.find(n.version)))
    behind = any(n.kubelet.minor_pair < server.minor_pair for n in nodes)
    target = KubeVersion(server.major, server.minor + (0 if behind else MAX_MINOR_STEP))
    problems = skew_problems(target, ClusterVersions(server, nodes), [h.name for h in profile.hosts])
    return UpgradeOffer(target.minor_text, status.server_version, behind, tuple(problems))


async def cluster_glance(profile: Profile, fleet: Fleet) -> ClusterGlance:
    """The status and the upgrade offer; a cluster that is not there or a host that does not
    answer comes back as `problem`, never as an exception."""
    cp = profile.control_plane.name
    try:
        status = await cluster_status(profile, fleet)
    except StepFailed as exc:  # require_cluster: "no cluster on CP: ..."
        return ClusterGlance(cp, problem=str(exc))
    except SSHError as exc:
        return ClusterGlance(cp, problem=f"cannot reach the control plane {exc}", unreachable=True)
    return ClusterGlance(cp, status, upgrade=upgrade_offer(profile, status), asked_at=datetime.now(timezone.utc))


def removal_problem(profile: Profile, name: str) -> str:
    """Why `name` cannot be removed with remove-node (the control plane, not in the profile); empty when it can."""
    from kwizard.day2.nodes import CannotRemove, removable  # noqa: PLC0415

    try:
        removable(profile, name)
    except CannotRemove as exc:
        return str(exc)
    return ""


# --- the run plans ---


def renew_certs_plan(profile: Profile, fleet: Fleet, wait: int | None = None) -> Plan:
    from kwizard.day2.certs import STATIC_POD_WAIT, build_renew_plan  # noqa: PLC0415
    from kwizard.service import connect_work  # noqa: PLC0415

    return build_renew_plan(profile, connect_work(profile, fleet), STATIC_POD_WAIT if wait is None else wait)


def backup_plan(profile: Profile, fleet: Fleet, dest: Path) -> Plan:
    from kwizard.day2.backup import build_backup_plan  # noqa: PLC0415
    from kwizard.service import connect_work  # noqa: PLC0415

    return build_backup_plan(profile, dest, connect_work(profile, fleet))


def remove_node_plan(profile: Profile, fleet: Fleet, name: str, profile_path: Path) -> Plan:
    from kwizard.day2.nodes import build_remove_plan  # noqa: PLC0415
    from kwizard.service import connect_work  # noqa: PLC0415

    return build_remove_plan(profile, name, profile_path, connect_work(profile, fleet))


def start_remove_node(request: RunRequest, fleet: Fleet, name: str) -> RunHandle:
    """The wizard's remove-node: the plan `kwizard remove-node` runs, as a RunHandle; the profile
    file (`request.profile_path`) loses the host's entry at the end."""
    from kwizard import service  # noqa: PLC0415

    if request.profile_path is None:
        raise ValueError("removing a node edits the profile file: save the profile first")
    return service.start_plan(remove_node_plan(request.profile, fleet, name, request.profile_path), fleet, request)


# --- upgrading the cluster one minor release (kwizard/day2/upgrade.py) ---


def upgrade_plan(profile: Profile, fleet: Fleet, to: str, profile_path: Path | None = None, parallel: int = 1,
                 locks: RunLocks | None = None) -> Plan:
    """The control plane, then the workers `parallel` at a time, to `to` ("1.34" or "1.34.1")."""
    from kwizard.day2.upgrade import build_upgrade_plan  # noqa: PLC0415
    from kwizard.service import connect_work  # noqa: PLC0415

    return build_upgrade_plan(profile, to, profile_path, parallel, connect_work(profile, fleet, locks))


def start_upgrade(request: RunRequest, fleet: Fleet, to: str, parallel: int = 1) -> RunHandle:
    from kwizard import service  # noqa: PLC0415
    from kwizard.run.lock import RunLocks  # noqa: PLC0415

    locks = RunLocks.for_run(request.profile, request.profile_path, "upgrade")
    return service.start_plan(upgrade_plan(request.profile, fleet, to, request.profile_path, parallel, locks), fleet,
                              request, locks)
