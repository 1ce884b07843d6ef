"""The setup plan: profile + facts -> the ordered steps that make a cluster.

Steps read the hosts' facts from the run context (`ctx.facts`, put there by
the preflight step after it connected), so the same plan object serves a real
run and a dry run; in a dry run there are no facts (or only those a
connection test found) and the steps that need them say what they will
decide at run time.
"""

from __future__ import annotations

import asyncio
import dataclasses
import ipaddress

from kwizard.cni import catalogue as cni
from kwizard.kube.preflight import diagnose_init_failure
from kwizard.plan import scripts
from kwizard.plan import cluster_scripts, firewall_scripts, package_scripts
from kwizard.plan.cni_steps import applied_probe, apply_script, fetch_and_patch
from kwizard.kube.diagnose import diagnose_not_ready
from kwizard.kube.join import make_join_command
from kwizard.kube.joincmd import FRESH_JOIN_COMMAND
from kwizard.kube.kubeconfig import write_kubeconfig
from kwizard.profile.model import Host, Profile
from kwizard.kube.nodes import node_list
from kwizard.kube.ports import CONTROL_PLANE_PORTS, WORKER_PORTS
from kwizard.facts.model import read_tool_version
from kwizard.facts.script import split_sections
from kwizard.kube.cri import socket_url
from kwizard.kube.versions import KubeVersion
from kwizard.plan.steps import LocalWork, same_script, Plan, Step, StepFailed
from kwizard.plan.setup_needs import with_setup_needs
from kwizard.plan.context import RemoteScript, RunContext, Upload
from kwizard.plan.decide import facts_of, init_config, join_command_text, resolve_cri_socket
from kwizard.kube.config import kubeadm_config_api

CONFIG_PATH = f"{scripts.KWIZARD_DIR}/kubeadm-config.yaml"
MANIFEST_DIR = f"{scripts.KWIZARD_DIR}/cni"


def build_setup_plan(profile: Profile, preflight: LocalWork | None = None, *, lockstep: bool = False) -> Plan:
    """The setup steps (`preflight`: the connect-and-check work); needs per host, or v1's `lockstep` order."""
    everyone = tuple(h.name for h in profile.hosts)
    cp = (profile.control_plane.name,)
    workers = tuple(h.name for h in profile.workers)
    steps = [
        preflight_step(everyone, preflight),
        _hosts_file_step(profile, everyone) if profile.cluster.manage_etc_hosts else None,
        _kernel_step(everyone),
        _swap_step(everyone) if profile.cluster.disable_swap else None,
        _firewall_step(profile, everyone) if profile.cluster.open_firewall_ports or _disable_firewalld(profile) else None,
        _networkmanager_step(everyone) if profile.cluster.cni.value == "calico" else None,
        _packages_step(profile, everyone) if profile.cluster.install_packages else None,
        _images_step(profile, cp),
        _init_step(profile, cp),
        _kubeconfig_step(profile, cp),
        _cni_fetch_step(profile, cp),
        _cni_apply_step(profile, cp),
        _ready_step(profile, cp, cp, "ready", "Wait for the control plane to be Ready") if lockstep or not workers else None,
        _untaint_step(profile, cp) if profile.untaint_control_plane else None,
        _join_command_step(profile, cp) if workers else None,
        _join_step(profile, workers) if workers else None,
        _ready_step(profile, cp, everyone, "verify", "Verify every node is Ready") if workers else None,
        _labels_step(profile, cp) if any(h.labels for h in profile.hosts) else None,
    ]
    plan = Plan(name="setup", steps=[s for s in steps if s is not None], hosts=everyone)
    return plan.lockstep() if lockstep else with_setup_needs(plan)


# --- the steps ---


def preflight_step(hosts: tuple[str, ...], work: LocalWork | None) -> Step:
    return Step(
        id="preflight",
        title="Connect, gather facts, check before changing anything",
        hosts=hosts,
        after=work,
        rerun_on_resume=True,  # facts are gathered fresh on every run
        describe="every host at once: host keys verified, sudo tried, networks and kubeadm's own preflight checked",
        timeout=120,
    )


def _hosts_file_step(profile: Profile, hosts: tuple[str, ...]) -> Step:
    block = scripts.hosts_block((h.address, h.name) for h in profile.hosts if _is_ip(h.address))
    return Step(
        id="hosts-file",
        title="Make every node resolve every other (/etc/hosts)",
        hosts=hosts,
        script=same_script(scripts.hosts_file(profile.name, block)),
        probe=same_script(scripts.hosts_file_probe(profile.name, block)),
        describe="a kwizard-marked block in /etc/hosts, replaced (not appended) on every run",
        timeout=60,
    )


def _kernel_step(hosts: tuple[str, ...]) -> Step:
    return Step(
        id="kernel",
        title="Kernel modules and sysctls for Kubernetes networking",
        hosts=hosts,
        script=same_script(scripts.kernel()),
        probe=same_script(scripts.kernel_probe()),
        describe="overlay and br_netfilter loaded at boot; ip_forward and bridge-nf-call on, persisted in /etc/sysctl.d",
        timeout=120,
    )


def _swap_step(hosts: tuple[str, ...]) -> Step:
    return Step(
        id="swap",
        title="Turn swap off (now and after a reboot)",
        hosts=hosts,
        script=same_script(scripts.swap_off()),
        probe=same_script(scripts.swap_probe()),
        describe="the kubelet will not start with swap on: swapoff -a, swap lines of /etc/fstab commented out (backed up first), active .swap units masked, zram-generator switched off",
        timeout=120,
    )


def firewall_ports(profile: Profile, host: Host) -> list[str]:
    plugin = cni.get_plugin(profile.cluster.cni.value)
    encrypted = bool(profile.cluster.cni_options.encryption_password_env)
    role_ports = CONTROL_PLANE_PORTS if host.name == profile.control_plane.name else WORKER_PORTS
    ports = [p.firewalld_arg for p in (*role_ports, *plugin.ports_for(encryption=encrypted))]
    return list(dict.fromkeys(ports))


def _disable_firewalld(profile: Profile) -> bool:
    """Calico asks for firewalld off; kwizard does it only when the profile consents."""
    return profile.cluster.cni.value == "calico" and profile.cluster.cni_options.disable_firewalld


def _firewall_step(profile: Profile, hosts: tuple[str, ...]) -> Step:
    if _disable_firewalld(profile):
        return Step(
            id="firewall",
            title="Disable firewalld, as Calico requires (cni_options.disable_firewalld)",
            hosts=hosts,
            script=same_script(firewall_scripts.firewall_disable()),
            probe=same_script(firewall_scripts.firewall_disable_probe()),
            describe="systemctl disable --now firewalld where it runs: Calico's system requirements say it should be disabled",
            timeout=120,
        )
    by_name = {h.name: h for h in profile.hosts}

    def script(ctx: RunContext, host: str) -> RemoteScript:
        return RemoteScript(firewall_scripts.firewall(firewall_ports(profile, by_name[host])))

    def probe(ctx: RunContext, host: str) -> RemoteScript:
        return RemoteScript(firewall_scripts.firewall_probe(firewall_ports(profile, by_name[host])))

    return Step(
        id="firewall",
        title="Open the control plane's and the network plugin's ports (firewalld)",
        hosts=hosts,
        script=script,
        probe=probe,
        describe="only where firewalld runs; the ports for each node's role and the chosen plugin",
        timeout=120,
    )


def _networkmanager_step(hosts: tuple[str, ...]) -> Step:
    return Step(
        id="networkmanager",
        title="Keep NetworkManager off Calico's interfaces",
        hosts=hosts,
        script=same_script(firewall_scripts.networkmanager_unmanaged()),
        probe=same_script(firewall_scripts.networkmanager_unmanaged_probe()),
        describe=f"only where NetworkManager is installed: {firewall_scripts.NETWORKMANAGER_CALICO_CONF} with unmanaged-devices "
        "for cali*, tunl*, vxlan.calico, vxlan-v6.calico, wireguard.cali, wg-v6.cali (Calico's requirements)",
        timeout=60,
    )


def _minor(profile: Profile) -> str:
    return KubeVersion.parse(profile.cluster.kubernetes_version).minor_text


def _patch(profile: Profile) -> str | None:
    """"1.33.2" when the profile names a patch release (the packages are pinned to it), else None."""
    wanted = KubeVersion.parse(profile.cluster.kubernetes_version)
    return str(wanted) if wanted.has_patch else None


def _packages_step(profile: Profile, hosts: tuple[str, ...]) -> Step:
    minor, patch = _minor(profile), _patch(profile)

    def family_of(ctx: RunContext, host: str) -> tuple[str | None, str]:
        facts = facts_of(ctx, host)
        if facts is None:
            return None, ""  # a dry run that reached no host: the script picks the family on the host
        if facts.package_family is None:
            raise StepFailed(f"{host} has no package manager kwizard drives (found: {facts.package_manager or 'none'}); "
                             "install containerd and kubeadm/kubelet/kubectl yourself, or use apt-get or dnf hosts")
        return facts.package_family, facts.os_id

    def script(ctx: RunContext, host: str) -> RemoteScript:
        family, os_id = family_of(ctx, host)
        return RemoteScript(package_scripts.packages(minor, patch, family, os_id))

    def probe(ctx: RunContext, host: str) -> RemoteScript:
        return RemoteScript(package_scripts.packages_probe(minor, patch, family_of(ctx, host)[0]))

    return Step(
        id="packages",
        title=f"Install containerd and kubeadm/kubelet/kubectl {patch or minor}",
        hosts=hosts,
        script=script,
        probe=probe,
        after=refresh_installed_versions(hosts),
        describe=(f"per distribution family (apt: Debian/Ubuntu; dnf: Rocky/RHEL/Alma with Docker's containerd.io, "
                  f"Fedora), pkgs.k8s.io v{minor}" + (f" pinned to {patch}" if patch else ", newest patch")
                  + ", conntrack and kubeadm's other preflight tools, SELinux permissive on dnf hosts, "
                  "containerd with SystemdCgroup = true; then the installed versions are read back"),
        timeout=1800,
    )


def refresh_installed_versions(hosts: tuple[str, ...]) -> LocalWork:
    """After the packages step: the facts' kubeadm/kubelet/kubectl versions and CRI sockets as installed.

    The facts were gathered before the packages existed; the init config's kubernetesVersion
    and config API come from the installed kubeadm (kubernetes_version_for), so read it again.
    """

    async def refresh_one(ctx: RunContext, host: str) -> None:
        facts = facts_of(ctx, host)
        if facts is None:
            return
        session = await ctx.session(host)
        _, out, _ = await session.capture(RemoteScript(package_scripts.installed_versions()), timeout=60)
        sections = split_sections(out)
        updated = dataclasses.replace(
            facts,
            kubeadm_version=read_tool_version(sections.get("kubeadm", "")) or facts.kubeadm_version,
            kubelet_version=read_tool_version(sections.get("kubelet", "")) or facts.kubelet_version,
            kubectl_version=read_tool_version(sections.get("kubectl", "")) or facts.kubectl_version,
            cri_sockets=tuple(socket_url(s) for s in sections.get("cri_sockets", "").split()) or facts.cri_sockets,
        )
        ctx.facts[host] = updated
        if updated.kubeadm_version != facts.kubeadm_version:
            ctx.note(host, f"installed kubeadm {updated.kubeadm_version}, kubelet {updated.kubelet_version}")

    async def refresh(ctx: RunContext) -> None:
        await asyncio.gather(*(refresh_one(ctx, host) for host in hosts))

    return refresh


def _config_upload(profile: Profile, ctx: RunContext, host: str) -> Upload:
    text = init_config(profile, facts_of(ctx, host))
    return Upload(CONFIG_PATH, text.encode(), 0o600)


def _images_step(profile: Profile, cp: tuple[str, ...]) -> Step:
    def script(ctx: RunContext, host: str) -> RemoteScript:
        return RemoteScript(cluster_scripts.images_pull(CONFIG_PATH), uploads=(_config_upload(profile, ctx, host),))

    return Step(
        id="images",
        title="Pull the control plane's images",
        hosts=cp,
        script=script,
        probe=same_script(cluster_scripts.control_plane_exists()),
        describe="kubeadm config images pull, so init does not wait on downloads",
        timeout=1800,
    )


def _init_step(profile: Profile, cp: tuple[str, ...]) -> Step:
    def script(ctx: RunContext, host: str) -> RemoteScript:
        return RemoteScript(cluster_scripts.kubeadm_init(CONFIG_PATH), uploads=(_config_upload(profile, ctx, host),))

    return Step(
        id="init",
        title="kubeadm init on the control plane",
        hosts=cp,
        script=script,
        probe=same_script(cluster_scripts.control_plane_exists()),
        describe=f"from a config file: podSubnet {profile.cluster.pod_cidr}, serviceSubnet {profile.cluster.service_cidr}",
        timeout=900,
        diagnose=diagnose_init_failure,
    )


def _kubeconfig_step(profile: Profile, cp: tuple[str, ...]) -> Step:
    user = profile.user_for(profile.control_plane)
    host = profile.control_plane.name

    async def fetch_admin_conf(ctx: RunContext) -> None:
        admin_conf = await (await ctx.session(host)).download(scripts.ADMIN_CONF, sudo=True)
        ctx.outcome.kubeconfig_path = write_kubeconfig(admin_conf, profile.name)
        ctx.note(host, f"admin kubeconfig saved locally: {ctx.outcome.kubeconfig_path} (mode 0600)")

    return Step(
        id="kubeconfig",
        title=f"kubeconfig for {user} on the control plane, and a local copy",
        hosts=cp,
        script=same_script(cluster_scripts.user_kubeconfig(user)),
        probe=same_script(cluster_scripts.user_kubeconfig_probe(user)),
        after=fetch_admin_conf,
        describe="~/.kube/config for the SSH user; admin.conf fetched to a 0600 file of its own (never ~/.kube/config)",
        timeout=60,
        # Its `after` leaves the local kubeconfig's path (in memory only): a resumed run (retry,
        # skip) must fetch it again, or the done screen says none was written. The probe skips
        # the script on the host when ~/.kube/config is already there.
        rerun_on_resume=True,
    )


def _plugin(profile: Profile) -> cni.CNIPlugin:
    return cni.get_plugin(profile.cluster.cni.value)


def _manifest_path(name: str) -> str:
    return f"{MANIFEST_DIR}/{name}"


def _patched_path(profile: Profile) -> str:
    return _manifest_path("kwizard-" + _plugin(profile).patched_manifest.filename)


def _cni_fetch_step(profile: Profile, cp: tuple[str, ...]) -> Step:
    plugin = _plugin(profile)
    files = [(m.url, m.filename) for m in plugin.manifests]
    local = profile.cluster.cni_options.manifest_file
    return Step(
        id="cni-fetch",
        title=f"Fetch the {plugin.name} {plugin.version} manifest and set the pod CIDR in it",
        hosts=cp,
        script=None if local else same_script(cluster_scripts.fetch_manifests(files, MANIFEST_DIR)),
        after=fetch_and_patch(profile, cp[0], MANIFEST_DIR, _patched_path(profile)),
        describe=(
            f"pinned upstream URLs, downloaded on the control plane; {profile.cluster.pod_cidr} written into "
            f"{plugin.patched_manifest.filename}" + (f" (from the local file {local})" if local else "")
        ),
        timeout=300,
    )


def _cni_apply_step(profile: Profile, cp: tuple[str, ...]) -> Step:
    plugin = _plugin(profile)
    return Step(
        id="cni-apply",
        title=f"Apply {plugin.name}",
        hosts=cp,
        script=apply_script(profile, MANIFEST_DIR, _patched_path(profile)),
        probe=same_script(applied_probe(profile, MANIFEST_DIR, _patched_path(profile))),
        describe=" then ".join(f"kubectl {m.verb} {m.filename}" for m in plugin.manifests)
        + "; done when every object of every file exists",
        timeout=300,
    )


def _ready_step(profile: Profile, cp: tuple[str, ...], nodes: tuple[str, ...], step_id: str, title: str) -> Step:
    async def record_nodes(ctx: RunContext) -> None:
        ctx.outcome.nodes = tuple(await node_list(await ctx.session(cp[0])))

    wait_s = profile.cluster.wait_ready_seconds
    return Step(
        id=step_id,
        title=title,
        hosts=cp,
        script=same_script(cluster_scripts.wait_ready(nodes, wait_s)),
        after=record_nodes,
        describe=f"wait up to {_duration(wait_s)} for {', '.join(nodes)} Ready and CoreDNS Running",
        timeout=wait_s + 60,
        diagnose=lambda tail: diagnose_not_ready(tail, profile),
    )


def _duration(seconds: int) -> str:
    return f"{seconds // 60} min" if seconds % 60 == 0 else f"{seconds} s"


def _untaint_step(profile: Profile, cp: tuple[str, ...]) -> Step:
    node = profile.control_plane.name
    return Step(
        id="untaint",
        title="Let ordinary pods run on the control plane",
        hosts=cp,
        script=same_script(cluster_scripts.untaint(node)),
        probe=same_script(cluster_scripts.untaint_probe(node)),
        describe=f"kubectl taint nodes {node} {cluster_scripts.UNTAINT_KEY}- (\"not found\" means already done)",
        timeout=60,
    )


def _join_command_step(profile: Profile, cp: tuple[str, ...]) -> Step:
    return Step(
        id="join-command",
        title="A fresh join command, its CA hash checked",
        hosts=cp,
        after=make_join_command(cp[0]),
        rerun_on_resume=True,  # the token is secret, so it is never kept for a resume
        describe=f"{FRESH_JOIN_COMMAND}; the hash is compared with /etc/kubernetes/pki/ca.crt",
        timeout=120,
    )


def _join_step(profile: Profile, workers: tuple[str, ...]) -> Step:
    def script(ctx: RunContext, host: str) -> RemoteScript:
        facts = facts_of(ctx, host)
        cri = resolve_cri_socket(profile, facts)
        version = (facts.kubeadm_version if facts is not None else None) or f"v{profile.cluster.kubernetes_version}"
        return RemoteScript(cluster_scripts.kubeadm_join(
            join_command_text(ctx), node_name=host, cri_socket=None if cri.startswith("<") else cri,
            config_api=kubeadm_config_api(version),
        ))

    return Step(
        id="join",
        title="Join the workers",
        hosts=workers,
        script=script,
        probe=same_script(cluster_scripts.joined()),
        describe="kubeadm join on every worker at once; nodes already joined are skipped",
        timeout=600,
    )


def _labels_step(profile: Profile, cp: tuple[str, ...]) -> Step:
    script = "".join(cluster_scripts.label_node(h.name, h.labels) for h in profile.hosts if h.labels)
    return Step(
        id="labels",
        title="Label the nodes",
        hosts=cp,
        script=same_script(script),
        describe="the labels the profile gives each host (kubectl label --overwrite)",
        timeout=60,
    )


def _is_ip(address: str) -> bool:
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return False
    return True
