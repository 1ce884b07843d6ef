"""'Test connections': gather facts from every host at once and say, per host, what was found.

The engine (kwizard.service.gather_host_facts) does the work; this module only turns its answer
into what the Hosts screen shows: a short status for the table, the detail
lines for the highlighted host, and the host's network for the pod network
checks. The App is given a `Gatherer` so tests can stand in for the hosts.
"""

from __future__ import annotations

import re

from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from kwizard.facts.hostnet import HostNetwork
from kwizard.profile.model import Profile
from kwizard.service import HostKeyQuestion, gather_host_facts

if TYPE_CHECKING:
    from kwizard.facts.model import HostFacts


@dataclass(frozen=True)
class HostCheck:
    """What "Test connections" found on one host, ready to show."""

    host: str
    reachable: bool
    summary: str  # the table's status column: short
    details: tuple[str, ...] = ()  # OS, sudo, versions, swap, runtime: one line each
    problem: str = ""  # why the host failed, and the fix
    network: HostNetwork | None = None
    sudo_refused: bool = False  # sudo said no (often: it wants a password and none was given)


class Gatherer(Protocol):
    """(profile, host-key question, the session's sudo password) -> (checks by host, the engine's
    raw facts by host for preflight and the plan)."""

    def __call__(
        self, profile: Profile, ask: HostKeyQuestion, *, sudo_password: str | None = None
    ) -> Awaitable[tuple[dict[str, HostCheck], dict[str, Any]]]: ...


# Short words for the status column, from the ssh layer's error kinds.
_ERROR_WORDS = {
    "unreachable": "unreachable",
    "key file problem": "key file problem",
    "auth refused": "auth refused",
    "host key unknown": "host key unknown",
    "host key changed": "HOST KEY CHANGED",
    "sudo refused": "sudo refused",
    "timeout": "timeout",
    "connection lost": "connection lost",
}


def check_from_error(host: str, error: Exception) -> HostCheck:
    """A host that could not be reached or used: the reason in the column, the message and fix below."""
    kind = getattr(error, "kind", type(error).__name__)
    message = getattr(error, "message", str(error))
    fix = getattr(error, "fix", "")
    word = _ERROR_WORDS.get(kind, kind)
    if kind == "unreachable":
        word = _unreachable_word(message)
    elif kind == "key file problem" and "does not exist" in message:
        word = "key file missing"  # the workstation's file, not the host: never "unreachable"
    message, fix = in_wizard_words(message), in_wizard_words(fix)
    problem = f"{message}\nfix: {fix}" if fix else message
    return HostCheck(host, False, f"✗ {word}", problem=problem, sudo_refused=kind == "sudo refused")


# The engine names profile fields (what a YAML file says); the wizard names the screen and field.
WIZARD_FIELDS = {
    "set ssh.identity_file to": "set Private key in the SSH defaults (s on the Hosts step) to",
    "ssh.identity_file": "Private key, SSH defaults",
    "ssh.known_hosts": "known_hosts file, SSH defaults",
    "ssh.user": "User, SSH defaults",
    "ssh.jump_host": "Jump host, SSH defaults",
    "ssh.host_key_policy": "Host keys, SSH defaults",
    "ssh.sudo_password_env": "sudo password from env var, SSH defaults",
}
# cluster.* fields: (what the field or switch says, the step it is on)
CLUSTER_FIELDS = {
    "cluster.pod_cidr": ("Pod CIDR", "Pod network"),
    "cluster.service_cidr": ("Service CIDR", "Pod network"),
    "cluster.kubernetes_version": ("Kubernetes version", "Pod network"),
    "cluster.advertise_address": ("Advertise address", "Pod network"),
    "cluster.cni_options.interface": ("Node interface", "Pod network"),
    "cluster.cni_options.mtu": ("MTU", "Pod network"),
    "cluster.cni_options.encryption_password_env": ("Encryption password from env var", "Pod network"),
    "cluster.cni_options.disable_firewalld": ("Stop and disable firewalld", "Pod network"),
    "cluster.install_packages": ("Install containerd and kubeadm…", "Pod network"),
    "cluster.disable_swap": ("Turn swap off…", "Pod network"),
    "cluster.manage_etc_hosts": ("Write every node's name…", "Pod network"),
    "cluster.open_firewall_ports": ("Open the Kubernetes and plugin ports…", "Pod network"),
    "cluster.cni": ("the plugin", "Network plugin"),
}
_FIELD = r"`?(cluster\.[a-z_]+(?:\.[a-z_]+)?)`?"
_SWITCHED = re.compile(r"(?:set )?`?(cluster\.[a-z_]+(?:\.[a-z_]+)?): (true|false)`?")
_SET_TO = re.compile(r"set " + _FIELD + " (to|back to)")
_NAMED = re.compile(_FIELD)


def in_wizard_words(text: str) -> str:
    """`text` with the profile-file field names a wizard user never sees replaced by screen and field."""
    for path, words in WIZARD_FIELDS.items():
        text = text.replace(path, words)

    def switched(match: re.Match[str]) -> str:
        label, step = CLUSTER_FIELDS.get(match[1], (match[1], ""))
        where = f" on the {step} step" if step else ""
        return f"turn {'on' if match[2] == 'true' else 'off'} “{label}”{where}"

    def set_to(match: re.Match[str]) -> str:
        label, step = CLUSTER_FIELDS.get(match[1], (match[1], ""))
        return f"set {label} on the {step} step {match[2]}" if step else match[0]

    def named(match: re.Match[str]) -> str:
        label, step = CLUSTER_FIELDS.get(match[1], (match[1], ""))
        return f"“{label}” on the {step} step" if step else match[0]

    text = _SWITCHED.sub(switched, text)
    text = _SET_TO.sub(set_to, text)
    return _NAMED.sub(named, text)


def _unreachable_word(message: str) -> str:
    lowered = message.lower()
    if "refused" in lowered:
        return "refused"
    if "within" in lowered or "timed out" in lowered or "timeout" in lowered:
        return "timeout"
    if "name or service" in lowered or "resolve" in lowered:
        return "unknown name"
    return "unreachable"


def check_from_facts(facts: HostFacts) -> HostCheck:
    """A host that answered: what it runs and what it still needs."""
    os_name = facts.os_pretty or f"{facts.os_id} {facts.os_version}".strip() or "unknown OS"
    sudo = "works" if facts.sudo_ok else f"REFUSED: {facts.sudo_problem}"
    swap = "ON: kubelet will not start (turn on 'swap off' on the Pod network step)" if facts.swap_on else "off"
    details = (
        f"OS        {os_name} (kernel {facts.kernel})",
        f"sudo      {sudo}",
        f"kubeadm   {facts.kubeadm_version or 'not installed'}",
        f"kubelet   {facts.kubelet_version or 'not installed'}",
        f"swap      {swap}",
        f"runtime   {', '.join(facts.cri_sockets) if facts.cri_sockets else 'no container runtime socket found'}",
    )
    warnings = [
        word
        for word, bad in (
            ("no sudo", not facts.sudo_ok),
            ("swap on", facts.swap_on),
            ("no kubeadm", not facts.kubeadm_version),
            ("no runtime", not facts.cri_sockets),
        )
        if bad
    ]
    summary = f"! {', '.join(warnings)}" if warnings else f"✓ {os_name}"
    return HostCheck(facts.host, True, summary, details, network=facts.network, sudo_refused=not facts.sudo_ok)


async def gather_host_checks(
    profile: Profile,
    ask: HostKeyQuestion,
    ssh_config: Sequence[str] | tuple[()] = (),
    *,
    sudo_password: str | None = None,
) -> tuple[dict[str, HostCheck], dict[str, Any]]:
    """The real thing: the hosts' facts over SSH, every host at once (asyncssh loads only now)."""
    results = await gather_host_facts(profile, decide_host_key=ask, ssh_config=ssh_config, sudo_password=sudo_password)
    checks: dict[str, HostCheck] = {}
    facts: dict[str, Any] = {}
    for host, result in results.items():
        if isinstance(result, Exception):
            checks[host] = check_from_error(host, result)
        else:
            checks[host] = check_from_facts(result)
            facts[host] = result
    return checks, facts
