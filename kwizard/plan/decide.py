"""What the hosts' facts decide in the setup plan: the advertise address, the CRI socket, the init config.

Each function takes the facts of one host, or None in a dry run (nothing was
gathered), and then answers with a placeholder that says what it will decide
at run time, the way `kwizard plan` prints it.
"""

from __future__ import annotations

from kwizard.checks.advertise import choose_advertise_address
from kwizard.facts.model import HostFacts
from kwizard.kube.config import kubeadm_config_api, kubernetes_version_for, render_init_config
from kwizard.kube.cri import CRI_SOCKET_URLS, socket_url
from kwizard.plan.context import Placeholder, RunContext
from kwizard.plan.steps import StepFailed
from kwizard.profile.model import Profile
from kwizard.kube.versions import KubeVersion


def facts_of(ctx: RunContext, host: str) -> HostFacts | None:
    """The host's facts, or None in a dry run (where nothing was gathered)."""
    return ctx.facts.get(host)


def resolve_advertise_address(profile: Profile, facts: HostFacts | None) -> str:
    wanted = profile.cluster.advertise_address
    if wanted != "auto":
        return wanted
    if facts is None:
        return str(Placeholder(f"advertise address: {profile.control_plane.name}'s default-route address"))
    choice = choose_advertise_address(facts.network)
    if not choice.recommended:
        raise StepFailed(
            f"{profile.control_plane.name} has no usable address to advertise; set cluster.advertise_address in the profile"
        )
    return choice.recommended


def resolve_cri_socket(profile: Profile, facts: HostFacts | None) -> str:
    wanted = profile.cluster.cri_socket
    if wanted != "auto":
        return wanted
    if facts is None:
        return str(Placeholder("CRI socket: the one found on the host"))
    found = [socket_url(s) for s in facts.cri_sockets]
    if len(found) == 1:
        return found[0]
    if profile.cluster.install_packages and not found:
        return CRI_SOCKET_URLS[0]  # containerd, which the packages step installs
    if not found:
        raise StepFailed("no container runtime socket found; install containerd (or set install_packages: true)")
    raise StepFailed(
        f"several container runtime sockets found ({', '.join(found)}); kubeadm will not guess: "
        "set cluster.cri_socket in the profile to the one to use"
    )


def resolve_kubernetes_version(profile: Profile, facts: HostFacts | None) -> str:
    """The exact release the cluster runs (the config's kubernetesVersion), as this host's kubeadm
    decides it; in a dry run without a pinned patch release, a placeholder."""
    if facts is None and not KubeVersion.parse(profile.cluster.kubernetes_version).has_patch:
        return str(Placeholder("Kubernetes version: that of the installed kubeadm"))
    return kubernetes_version_for(profile.cluster.kubernetes_version, _kubeadm_version(profile, facts))


def _kubeadm_version(profile: Profile, facts: HostFacts | None) -> str:
    found = facts.kubeadm_version if facts is not None else None
    return found or f"v{profile.cluster.kubernetes_version}"


def init_config(profile: Profile, facts: HostFacts | None) -> str:
    """The kubeadm config file; in a dry run, the parts facts would decide are named."""
    advertise = resolve_advertise_address(profile, facts)
    cri_socket = resolve_cri_socket(profile, facts)
    version = _kubeadm_version(profile, facts)
    if facts is None and (advertise.startswith("<") or cri_socket.startswith("<")):
        return (
            "# rendered at run time from the control plane's facts\n"
            f"# config API: {kubeadm_config_api(version)} (by the installed kubeadm's version)\n"
            f"# advertiseAddress: {advertise}\n# criSocket: {cri_socket}\n"
            f"# podSubnet: {profile.cluster.pod_cidr}\n# serviceSubnet: {profile.cluster.service_cidr}\n"
        )
    return render_init_config(
        profile,
        advertise_address=advertise,
        node_name=profile.control_plane.name,
        cri_socket=cri_socket,
        kubeadm_version=version,
        node_ip=advertise,
    )


def join_command_text(ctx: RunContext) -> str:
    """The join command the join-command step left; a placeholder in a dry run."""
    join = ctx.outcome.join_command
    if join is not None:
        return join.command()
    if ctx.dry_run:
        return str(Placeholder("join command"))
    raise StepFailed("the script needs the join command, which no earlier step of this run has set")
