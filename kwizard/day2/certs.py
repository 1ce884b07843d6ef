"""Certificates: what `kubeadm certs check-expiration` says, the 30-day warning, and the renew plan.

Renewal is kubeadm's documented manual renewal (tasks/administer-cluster/kubeadm/kubeadm-certs):
`kubeadm certs renew all`, then restart the control-plane static Pods by moving their manifests
out of /etc/kubernetes/manifests for longer than the kubelet's fileCheckFrequency (20 s) and back,
then copy the renewed admin.conf to the profile user's ~/.kube/config.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from kwizard.checks.findings import Finding, Level
from kwizard.plan import scripts
from kwizard.plan import cluster_scripts
from kwizard.plan.context import HostSession, RemoteScript
from kwizard.plan.steps import LocalWork, Plan, Step, same_script
from kwizard.profile.model import Profile

CHECK_EXPIRATION = "kubeadm certs check-expiration"
WARN_DAYS = 30
MANIFESTS = "/etc/kubernetes/manifests"
PARKED = "/etc/kubernetes/kwizard/manifests-parked"
STATIC_POD_WAIT = 20  # the kubelet's fileCheckFrequency
_ROW = re.compile(r"^(\S+)\s+([A-Z][a-z]{2} \d{2}, \d{4} \d{2}:\d{2} UTC)\s+(\S+)\s+(.*?)\s*$")


@dataclass(frozen=True)
class CertExpiry:
    name: str
    expires: datetime  # UTC
    residual: str  # as kubeadm prints it: 364d, 9y, <invalid>
    authority: str | None  # the CA that signed it; None for a CA
    externally_managed: bool = False

    @property
    def is_ca(self) -> bool:
        return self.authority is None

    def days_left(self, now: datetime | None = None) -> float:
        return (self.expires - (now or datetime.now(timezone.utc))) / timedelta(days=1)

    def to_json(self) -> dict:
        return {"name": self.name, "expires": self.expires.isoformat(), "residual": self.residual,
                "authority": self.authority, "ca": self.is_ca, "externally_managed": self.externally_managed}


class CertsError(ValueError):
    """kubeadm's output could not be read."""


def parse_check_expiration(text: str) -> list[CertExpiry]:
    """Both tables of `kubeadm certs check-expiration`: the certificates, then the CAs."""
    found: list[CertExpiry] = []
    in_cas: bool | None = None
    for line in text.splitlines():
        if line.startswith("CERTIFICATE AUTHORITY"):
            in_cas = True
            continue
        if line.startswith("CERTIFICATE "):
            in_cas = False
            continue
        match = _ROW.match(line.rstrip())
        if in_cas is None or not match:
            continue
        name, when, residual, rest = match.groups()
        cells = rest.split()
        expires = datetime.strptime(when, "%b %d, %Y %H:%M UTC").replace(tzinfo=timezone.utc)
        authority = None if in_cas else (cells[0] if cells else None)
        managed = (cells[-1] if cells else "no") in ("yes", "true")
        found.append(CertExpiry(name, expires, residual, authority, managed))
    if not found:
        raise CertsError("no certificate table in kubeadm's output")
    return found


def expiry_findings(certs: list[CertExpiry], host: str, now: datetime | None = None,
                    within_days: int = WARN_DAYS) -> list[Finding]:
    """A warning per certificate that expires within `within_days` (an error once expired)."""
    findings = []
    for cert in certs:
        days = cert.days_left(now)
        if days >= within_days:
            continue
        what = "CA" if cert.is_ca else "certificate"
        when = cert.expires.strftime("%Y-%m-%d %H:%M UTC")
        if days < 0:
            level, message = Level.ERROR, f"the {what} {cert.name} expired on {when}"
        else:
            level, message = Level.WARNING, f"the {what} {cert.name} expires on {when}, in {int(days)} day(s)"
        fix = ("a CA is not renewed by kubeadm: see kubeadm's manual CA rotation" if cert.is_ca
               else "renew with: kwizard certs --renew PROFILE")
        findings.append(Finding(level, "certs.expiring", message, fix, host))
    return findings


async def read_certs(session: HostSession) -> list[CertExpiry]:
    """Ask kubeadm on the control plane (under sudo: it reads /etc/kubernetes/pki)."""
    status, out, err = await session.capture(RemoteScript(CHECK_EXPIRATION + "\n"), timeout=60)
    if status != 0:
        detail = (err.strip().splitlines() or out.strip().splitlines() or ["no output"])[-1]
        raise CertsError(f"{CHECK_EXPIRATION} failed: {detail}")
    return parse_check_expiration(out)


def restart_static_pods(wait: int = STATIC_POD_WAIT) -> str:
    """Move the control plane's manifests out long enough for the kubelet to stop the Pods, then back."""
    return f"""\
install -d -m 0700 {PARKED}
if ls {PARKED}/*.yaml >/dev/null 2>&1; then echo "putting back manifests parked by an earlier run"; else
  mv {MANIFESTS}/*.yaml {PARKED}/
  echo "manifests moved out of {MANIFESTS}; waiting {wait}s for the kubelet to stop the static Pods"
  sleep {wait}
fi
mv {PARKED}/*.yaml {MANIFESTS}/
echo "manifests back in {MANIFESTS}: the kubelet starts the control plane with the renewed certificates"
for i in $(seq 1 60); do
  if {scripts.KUBECTL} get nodes >/dev/null 2>&1; then echo "API server answers"; exit 0; fi
  sleep 2
done
echo "the API server did not answer within 120 s after the restart" >&2
exit 1
"""


def build_renew_plan(profile: Profile, connect: LocalWork | None = None, wait: int = STATIC_POD_WAIT) -> Plan:
    cp = profile.control_plane.name
    user = profile.user_for(profile.control_plane)
    steps = [
        Step(id="connect", title="Connect to the control plane", hosts=(cp,), after=connect, rerun_on_resume=True,
             describe="nothing is renewed unless the control plane answers", timeout=120),
        Step(id="renew", title="Renew the certificates (kubeadm certs renew all)", hosts=(cp,),
             script=same_script(f"test -s {scripts.ADMIN_CONF}\nkubeadm certs renew all\n"),
             describe="every certificate kubeadm manages, for another year; the CAs are kept", timeout=180),
        Step(id="restart-control-plane", title="Restart the control-plane static Pods", hosts=(cp,),
             script=same_script(restart_static_pods(wait)),
             describe=f"move the manifests out of {MANIFESTS}, wait {wait}s (the kubelet's fileCheckFrequency), "
                      "move them back, wait for the API server", timeout=wait + 180),
        Step(id="user-kubeconfig", title=f"Copy the renewed admin.conf to {user}'s ~/.kube/config", hosts=(cp,),
             script=same_script(cluster_scripts.user_kubeconfig(user)), probe=same_script(cluster_scripts.user_kubeconfig_probe(user)),
             describe="admin.conf holds a renewed client certificate", timeout=60),
    ]
    return Plan(name="certs-renew", steps=steps, hosts=(cp,))
