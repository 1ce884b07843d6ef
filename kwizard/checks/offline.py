"""The checks that need no host: what `kwizard validate` can say about a profile before anything is contacted.

The pod and service CIDR rules that do not depend on the hosts' networks —
overlap with each other, room for the nodes, kube-apiserver's and
kube-controller-manager's size limits, Calico's block size, private address
space — are the same functions preflight runs, called with no host networks.
"""

from __future__ import annotations

from kwizard.checks.cidr import check_pod_cidr, check_service_cidr
from kwizard.checks.findings import Finding, Level
from kwizard.profile.model import Profile


def profile_findings(profile: Profile) -> list[Finding]:
    """Errors and warnings about the profile alone (infos such as "kwizard will patch the manifest" left out)."""
    cluster = profile.cluster
    findings = check_pod_cidr(cluster.pod_cidr, cluster.service_cidr, [], len(profile.hosts), cluster.cni.value)
    findings += check_service_cidr(cluster.service_cidr, [])
    return [f for f in findings if f.level is not Level.INFO]


def field_of(finding: Finding) -> str:
    """The profile field a finding is about, from its code (`pod_cidr.too_large` -> cluster.pod_cidr)."""
    return f"cluster.{finding.code.split('.', 1)[0]}"
