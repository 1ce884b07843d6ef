"""A kwizard Profile pointing at a running lab: the lab user, its key, its known_hosts."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .lab import Lab

# The variable a profile names when the scenario's sudo wants a password.
SUDO_PASSWORD_ENV = "KWIZARD_LAB_SUDO_PASSWORD"


def _unique_names(names: list[str]) -> list[str]:
    """Profile node names must differ even when a scenario gives two hosts one hostname."""
    seen: dict[str, int] = {}
    unique = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        unique.append(name if seen[name] == 1 else f"{name}-{seen[name]}")
    return unique


def build_profile(lab: "Lab", cni: str = "flannel", pod_cidr: str | None = None, **cluster_overrides):
    from kwizard.profile.model import ClusterSpec, Host, HostKeyPolicy, Profile, Role, SSHSettings

    wants_password = any(h.options.sudo_password for h in lab.hosts)
    ssh = SSHSettings(
        user=lab.hosts[0].user,
        port=lab.hosts[0].port,
        identity_file=str(lab.client_key),
        known_hosts=str(lab.known_hosts),
        host_key_policy=HostKeyPolicy.STRICT,
        sudo=True,
        sudo_password_env=SUDO_PASSWORD_ENV if wants_password else None,
    )
    names = _unique_names([h.name for h in lab.hosts])
    hosts = [
        Host(name=name, address=h.address,
             role=Role.CONTROL_PLANE if h.index < lab.scenario.control_planes else Role.WORKER)
        for name, h in zip(names, lab.hosts)
    ]
    cluster_args = {"cni": cni, **cluster_overrides}
    if pod_cidr is not None:
        cluster_args["pod_cidr"] = pod_cidr
    return Profile(name=f"lab-{lab.id}", ssh=ssh, hosts=hosts, cluster=ClusterSpec(**cluster_args))
