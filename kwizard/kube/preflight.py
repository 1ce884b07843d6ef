"""kubeadm's own preflight failures, read from its output, and the likely cause and fix of a failed init.

Pure: no SSH, no files. `parse_preflight_errors` reads the `[ERROR name]:` and
`[WARNING name]:` lines (cmd/kubeadm/app/preflight/checks.go prints them);
`diagnose_init_failure` names the fix for the ones a first-time user meets.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


from kwizard.checks.findings import Level


# --- preflight and other init failures ---


@dataclass(frozen=True)
class PreflightIssue:
    level: Level
    name: str  # what --ignore-preflight-errors takes, e.g. Port-6443
    message: str


_PREFLIGHT_LINE_RE = re.compile(r"^\s*\[(ERROR|WARNING) ([^\]]+)\]:\s?(.*)$")
_NOT_A_CONTINUATION_RE = re.compile(r"^\s*(\[|$|error execution phase|To see the stack trace)")


def parse_preflight_errors(output: str) -> list[PreflightIssue]:
    """`[ERROR X]: msg` / `[WARNING X]: msg` lines; a message wrapped onto following lines is kept whole."""
    issues: list[PreflightIssue] = []
    lines = output.splitlines()
    for index, line in enumerate(lines):
        match = _PREFLIGHT_LINE_RE.match(line)
        if not match:
            continue
        message = [match[3].strip()]
        for follower in lines[index + 1 :]:
            if _NOT_A_CONTINUATION_RE.match(follower):
                break
            message.append(follower.strip())
        level = Level.ERROR if match[1] == "ERROR" else Level.WARNING
        issues.append(PreflightIssue(level, match[2], " ".join(message)))
    return issues


_CONTAINERD_CRI_FIX = (
    "containerd runs with its CRI plugin disabled (the Docker repo's config.toml has disabled_plugins = [\"cri\"]) "
    "— fix: `containerd config default > /etc/containerd/config.toml`, set SystemdCgroup = true, "
    "`systemctl restart containerd`, then run kubeadm init again"
)


def _diagnose_issue(name: str) -> str | None:
    if name.startswith("Port-"):
        port = name.removeprefix("Port-")
        return (
            f"port {port} is already in use, usually by a control plane from an earlier run "
            f"— fix: `kubeadm reset -f` if it is an old cluster, or find the owner with `ss -ltnp 'sport = :{port}'`"
        )
    if name == "Swap":
        return (
            "swap is on and the kubelet will not start with it "
            "— fix: `swapoff -a` and comment out the swap line in /etc/fstab"
        )
    if name == "FileContent--proc-sys-net-ipv4-ip_forward":
        return (
            "IP forwarding is off — fix: `sysctl -w net.ipv4.ip_forward=1` and persist it in "
            "/etc/sysctl.d/k8s.conf (net.ipv4.ip_forward = 1)"
        )
    if name == "DirAvailable--var-lib-etcd":
        return (
            "/var/lib/etcd is not empty: an earlier cluster's etcd data is left "
            "— fix: `kubeadm reset -f` (it clears it)"
        )
    if name.startswith("FileAvailable--etc-kubernetes-"):
        return "files from an earlier cluster are in /etc/kubernetes — fix: `kubeadm reset -f` before init"
    if name == "NumCPU":
        return "the control plane has fewer than 2 CPUs — fix: give the machine 2 or more CPUs"
    if name == "Mem":
        return "the control plane has less than 1700 MB of memory — fix: give the machine at least 2 GB"
    if name == "CRI":
        return (
            "the container runtime does not answer on its socket "
            "— fix: `systemctl enable --now containerd` (or crio) and check its socket path"
        )
    return None


def diagnose_init_failure(output: str) -> str | None:
    """One line: the likely cause of a failed `kubeadm init` and the fix, or None when not recognised."""
    mixed = re.search(r"can not mix '--config' with arguments \[([^\]]*)\]", output)
    if mixed:
        return (
            f"kubeadm init got both --config and the flags [{mixed[1]}] "
            "— fix: put those settings in the config file and drop the flags"
        )
    if "unknown service runtime.v1.RuntimeService" in output:
        return _CONTAINERD_CRI_FIX
    issues = parse_preflight_errors(output)
    # Errors stop init; a warning (Swap) is the cause only when no error explains it.
    for wanted in (Level.ERROR, Level.WARNING):
        for issue in issues:
            diagnosis = _diagnose_issue(issue.name) if issue.level is wanted else None
            if diagnosis:
                return diagnosis
    return None
