"""The setup plan: profile + facts -> the ordered steps that make a cluster.

Steps read the hosts' facts from the run context (`ctx.facts`, put there by
the preflight step after it connected), so the same plan object serves a real
run and a dry run; in a dry run there are no facts (or only those a
connection test found) and the steps that need them say what they will
decide at run time.
"""

from __future__ import annotations

import ipaddress

from kwizard.cni import catalogue as cni
from kwizard.plan import scripts
from kwizard.plan import firewall_scripts, package_scripts
from kwizard.profile.model import Host, Profile
from kwizard.kube.ports import CONTROL_PLANE_PORTS, WORKER_PORTS
from kwizard.kube.versions import KubeVersion
from kwizard.plan.steps import LocalWork, same_script, Plan, Step, StepFailed
from kwizard.plan.setup_needs import with_setup_needs
from kwizard.plan.context import RemoteScript, RunContext
from kwizard.plan.decide import facts_of
from kwizard.plan.setup_cluster import cni_apply_step, cni_fetch_step, images_step, node_images_step, init_step, join_command_step, join_step, kubeconfig_step, labels_step, ready_step, untaint_step
from kwizard.plan.installed import refresh_installed_versions


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
        node_images_step(profile, workers) if workers and not lockstep else None,
        images_step(profile, cp),
        init_step(profile, cp),
        kubeconfig_step(profile, cp),
        cni_fetch_step(profile, cp),
        cni_apply_step(profile, cp),
        ready_step(profile, cp, cp, "ready", "Wait for the control plane to be Ready") if lockstep or not workers else None,
        untaint_step(profile, cp) if profile.untaint_control_plane else None,
        join_command_step(profile, cp) if workers else None,
        join_step(profile, workers) if workers else None,
        ready_step(profile, cp, everyone, "verify", "Verify every node is Ready") if workers else None,
        labels_step(profile, cp) if any(h.labels for h in profile.hosts) else None,
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


def _is_ip(address: str) -> bool:
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return False
    return True
