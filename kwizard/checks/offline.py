"""The checks that need no host: what `kwizard validate` can say about a profile before anything is contacted.

The pod and service CIDR rules that do not depend on the hosts' networks —
overlap with each other, room for the nodes, kube-apiserver's and
kube-controller-manager's size limits, Calico's block size, private address
space — are the same functions preflight runs, called with no host networks.
"""

from __future__ import annotations

import os
from pathlib import Path

from kwizard.checks.cidr import check_pod_cidr, check_service_cidr
from kwizard.cni import catalogue as cni
from kwizard.checks.findings import Finding, Level
from kwizard.profile.model import Profile


def profile_findings(profile: Profile) -> list[Finding]:
    """Errors and warnings about the profile alone (infos such as "kwizard will patch the manifest" left out)."""
    cluster = profile.cluster
    findings = check_pod_cidr(cluster.pod_cidr, cluster.service_cidr, [], len(profile.hosts), cluster.cni.value)
    findings += check_service_cidr(cluster.service_cidr, [])
    findings += workstation_input_findings(profile, at_run_time=False)
    return [f for f in findings if f.level is not Level.INFO]


def workstation_input_findings(profile: Profile, *, at_run_time: bool = True) -> list[Finding]:
    """The plugin inputs read on this machine: the Weave password variable and a local manifest_file.

    Found before anything changes, not when the CNI step runs after `kubeadm init`. `kwizard validate`
    (at_run_time False) only warns about an unset variable: it may be set just for the run.
    """
    options = profile.cluster.cni_options
    findings = []
    name = options.encryption_password_env
    if name and not os.environ.get(name):
        level = Level.ERROR if at_run_time else Level.WARNING
        findings.append(Finding(
            level, "cni_options.encryption_password_env_unset",
            f"cluster.cni_options.encryption_password_env names {name}, which is not set"
            + (" here" if at_run_time else " in this shell") + ": the Weave Net password would be missing",
            f"export {name} with the password before `kwizard apply` (or remove encryption_password_env)"))
    if options.manifest_file:
        findings += _manifest_file_findings(profile, options.manifest_file)
    return findings


def _manifest_file_findings(profile: Profile, manifest_file: str) -> list[Finding]:
    plugin = cni.get_plugin(profile.cluster.cni.value)
    source = Path(os.path.expanduser(manifest_file))
    wanted = ", ".join(m.filename for m in plugin.manifests)
    code = "cni_options.manifest_file_missing"
    if source.is_dir():
        missing = [m.filename for m in plugin.manifests if not (source / m.filename).is_file()]
        if missing:
            return [Finding(Level.ERROR, code, f"cluster.cni_options.manifest_file: the folder {source} lacks "
                            f"{', '.join(missing)}", f"put {plugin.name}'s files there ({wanted})")]
        return []
    if not source.exists():
        return [Finding(Level.ERROR, code, f"cluster.cni_options.manifest_file: {source} does not exist",
                        f"download {plugin.name} {plugin.version}'s {wanted} and point manifest_file at "
                        + ("it" if len(plugin.manifests) == 1 else "the folder holding them"))]
    if len(plugin.manifests) > 1:
        return [Finding(Level.ERROR, code, f"cluster.cni_options.manifest_file: {plugin.name} needs "
                        f"{len(plugin.manifests)} files ({wanted}); {source} is one file",
                        "name a folder holding them")]
    if not os.access(source, os.R_OK) or not source.is_file():
        return [Finding(Level.ERROR, code, f"cluster.cni_options.manifest_file: {source} cannot be read",
                        "make it a readable file")]
    return []


def field_of(finding: Finding) -> str:
    """The profile field a finding is about, from its code (`pod_cidr.too_large` -> cluster.pod_cidr)."""
    head, _, rest = finding.code.partition(".")
    if head == "cni_options":  # cni_options.manifest_file_missing -> cluster.cni_options.manifest_file
        for name in ("encryption_password_env", "manifest_file", "interface", "disable_firewalld"):
            if rest.startswith(name):
                return f"cluster.cni_options.{name}"
    return f"cluster.{head}"
