"""What is already running on the hosts: a control plane initialised before (with or without a pod CIDR), a network plugin already installed, and the plugin's own inputs checked against the hosts.
"""

from __future__ import annotations


from collections.abc import Mapping

from kwizard.facts.model import HostFacts
from kwizard.checks.findings import host_finding, Finding, Level
from kwizard.profile.model import Profile, Role


def existing_cluster_findings(profile: Profile, role: Role, facts: HostFacts) -> list[Finding]:
    mismatch = _existing_pod_network(profile, facts) if role is Role.CONTROL_PLANE else []
    if mismatch:
        return mismatch
    if facts.existing_cluster:
        what = "init" if role is Role.CONTROL_PLANE else "join"
        return [host_finding(Level.WARNING, "cluster.existing", facts,
                         f"this host already belongs to a cluster ({', '.join(facts.cluster_files[:3])}); "
                         f"kwizard will skip {what} here",
                         "if it belongs to another cluster, run `kwizard reset` (or `kubeadm reset -f` on it) first")]
    if facts.etcd_data and role is Role.CONTROL_PLANE:
        return [host_finding(Level.ERROR, "cluster.etcd_data", facts,
                         "/var/lib/etcd is not empty but no cluster config is there: kubeadm init refuses it",
                         "remove the old etcd data (`kubeadm reset -f`, or move /var/lib/etcd away)")]
    return []


def _existing_pod_network(profile: Profile, facts: HostFacts) -> list[Finding]:
    """A control plane that already runs with another pod network (or none) cannot take this profile's plugin."""
    wanted, found = profile.cluster.pod_cidr, facts.cluster_cidr
    if found is None or found == wanted:
        return []
    reset = "reset it (`kwizard reset`) and apply again, or set cluster.pod_cidr to what the cluster has"
    if found == "":
        return [host_finding(Level.ERROR, "cluster.no_pod_cidr", facts,
                         "this control plane was initialised without a pod network (no --cluster-cidr): nodes get "
                         "no pod CIDR and Flannel would crash-loop with 'pod cidr not assigned'",
                         "reset it (`kwizard reset`) and apply again, so init gets podSubnet " + wanted)]
    return [host_finding(Level.ERROR, "cluster.pod_cidr_differs", facts,
                     f"this control plane already runs with pod CIDR {found}, not the profile's {wanted}", reset)]


# --- the network plugin's inputs and the plugin already there (defects 10, 12) ---


def network_plugin_findings(profile: Profile, answered: Mapping[str, HostFacts]) -> list[Finding]:
    """Every plugin input checked before anything changes, and a plugin already installed."""
    from kwizard.checks.offline import workstation_input_findings  # noqa: PLC0415 - offline imports checks.cidr only

    findings = workstation_input_findings(profile, at_run_time=True)
    findings += _cni_interface(profile, answered)
    findings += _installed_plugin(profile, answered)
    findings += _calico_firewalld(profile, answered)
    return findings


def _cni_interface(profile: Profile, answered: Mapping[str, HostFacts]) -> list[Finding]:
    """cni_options.interface must exist on every node: Flannel's --iface and Calico's interface= name it exactly."""
    wanted = profile.cluster.cni_options.interface
    if not wanted or not answered:
        return []
    have = {name: {a.ifname for a in f.network.addresses} | {n for n, _ in f.macs} for name, f in answered.items()}
    lacking = sorted(name for name, names in have.items() if wanted not in names)
    if not lacking:
        return []
    seen = sorted({n for names in have.values() for n in names if n != "lo"})
    where = "no host has it" if len(lacking) == len(have) else f"{', '.join(lacking)} lack{'s' if len(lacking) == 1 else ''} it"
    return [Finding(Level.ERROR, "cni_options.interface_missing",
                    f"cluster.cni_options.interface is {wanted}, but {where}: the network plugin would fail on "
                    f"{'every node' if len(lacking) == len(have) else 'those nodes'}",
                    f"set cluster.cni_options.interface to an interface every node has (seen: {', '.join(seen)}), "
                    "or remove it")]


def _installed_plugin(profile: Profile, answered: Mapping[str, HostFacts]) -> list[Finding]:
    """A running cluster's network plugin cannot be swapped in place: refuse another one."""
    from kwizard.cni import catalogue as cni  # noqa: PLC0415

    wanted = profile.cluster.cni.value
    findings = []
    for name, facts in answered.items():
        found = cni.installed_plugins(facts.cni_config_files, facts.cluster_workloads)
        others = [p for p in found if p != wanted]
        if not others:
            continue
        names = " and ".join(cni.get_plugin(p).name for p in others)
        seen = ", ".join([*facts.cni_config_files, *(w for w in facts.cluster_workloads
                                                   if cni.installed_plugins((), (w,)))][:4])
        findings.append(host_finding(Level.ERROR, "cni.installed_differs", facts,
                                 f"{names} is already installed here ({seen}), but the profile asks for "
                                 f"{cni.get_plugin(wanted).name}: the network plugin cannot be changed in place "
                                 "(kwizard would install a second one beside the first)",
                                 f"run `kwizard reset` (with --remove-cni-config) and apply again, or set "
                                 f"cluster.cni back to {others[0]}"))
    return findings


def _calico_firewalld(profile: Profile, answered: Mapping[str, HostFacts]) -> list[Finding]:
    """Calico asks for firewalld disabled; kwizard does it only with the profile's consent."""
    if profile.cluster.cni.value != "calico":
        return []
    consent = profile.cluster.cni_options.disable_firewalld
    findings = []
    for facts in answered.values():
        if not facts.firewalld_active:
            continue
        if consent:
            findings.append(host_finding(Level.INFO, "firewalld.calico", facts,
                                     "firewalld is running; the firewall step disables it, as Calico requires "
                                     "(cluster.cni_options.disable_firewalld)"))
        else:
            findings.append(host_finding(Level.WARNING, "firewalld.calico", facts,
                                     "firewalld is running, and Calico's system requirements say it should be "
                                     "disabled (it may interfere with Calico's rules); kwizard only opens Calico's "
                                     "ports in it",
                                     "to let kwizard stop and disable firewalld, set "
                                     "cluster.cni_options.disable_firewalld: true"))
    return findings
