"""The one rule for a pod or service CIDR as written: parsing, the exact-network check, the words.

The profile model refuses a bad CIDR with `cidr_problem`'s text, the checks
(kwizard.checks.cidr) report the same problem as a finding, the manifest
patchers refuse IPv6 with the same sentence, and the screens can ask
`cidr_problem` while the user types. kwizard sets up IPv4 clusters only:
an IPv6 range is refused for every plugin, always with `ipv6_refusal`'s words.
Pure: no pydantic, no I/O.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from ipaddress import IPv4Network, IPv6Network

IPNetwork = IPv4Network | IPv6Network

POD_CIDR_FIELD = "cluster.pod_cidr"
SERVICE_CIDR_FIELD = "cluster.service_cidr"
# What to write instead, per field (kubeadm's and the default plugin's defaults).
EXAMPLES = {POD_CIDR_FIELD: "10.244.0.0/16", SERVICE_CIDR_FIELD: "10.96.0.0/12"}


@dataclass(frozen=True)
class CIDRProblem:
    """What is wrong with a CIDR as written; `str()` is the whole sentence, fix included."""

    kind: str  # syntax | no_prefix | host_bits | ipv6
    message: str
    fix: str
    network: IPNetwork | None = None  # what it reads as, leniently (host bits cleared), when it reads at all

    def __str__(self) -> str:
        return f"{self.message}: {self.fix}"


def parse_cidr(text: str) -> IPNetwork | None:
    """The network `text` names, leniently: host bits cleared, a bare address as /32 (/128); None if it is none."""
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except (ValueError, AttributeError):
        return None


def exact_network(text: str) -> IPNetwork | None:
    """The network only when written as one: address/prefix, no host bits."""
    try:
        return ipaddress.ip_network(text.strip(), strict=True) if "/" in text else None
    except (ValueError, AttributeError):
        return None


def ipv6_refusal(field: str, text: str) -> CIDRProblem:
    """The one refusal of an IPv6 range, wherever kwizard meets one."""
    example = EXAMPLES.get(field, EXAMPLES[POD_CIDR_FIELD])
    return CIDRProblem(
        "ipv6",
        f"{field} {text.strip()} is IPv6; kwizard sets up IPv4 pod and service networks only "
        "(dual-stack and IPv6-only are not supported yet)",
        f"use an IPv4 range such as {example}",
        parse_cidr(text),
    )


def cidr_problem(field: str, text: str) -> CIDRProblem | None:
    """None when `text` is an exact IPv4 network, else the first thing wrong with it."""
    example = EXAMPLES.get(field, EXAMPLES[POD_CIDR_FIELD])
    lenient = parse_cidr(text) if isinstance(text, str) else None
    if lenient is None:
        return CIDRProblem("syntax", f"{field} {text!r} is not a CIDR", f"write it as address/prefix, e.g. {example}")
    if "/" not in text:
        prefix = example.rpartition("/")[2]
        return CIDRProblem(
            "no_prefix",
            f"{field} {text.strip()!r} has no prefix length",
            f"write it as address/prefix, e.g. {lenient.network_address}/{prefix}",
            lenient,
        )
    if lenient.version != 4:
        return ipv6_refusal(field, text)
    if exact_network(text) is None or str(lenient) != text.strip():
        return CIDRProblem("host_bits", f"{field} {text.strip()} has host bits set", f"did you mean {lenient}?", lenient)
    return None


def require_ipv4_cidr(field: str, text: str) -> str:
    """`text`, stripped, when it is an exact IPv4 network; else ValueError with `cidr_problem`'s sentence."""
    problem = cidr_problem(field, text)
    if problem is not None:
        raise ValueError(str(problem))
    return text.strip()
