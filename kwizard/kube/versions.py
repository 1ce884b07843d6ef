"""What kwizard reads from and writes for kubeadm: join commands, the CA pin,
the init config, the version, and preflight failures. Pure: no SSH, no files.

Formats follow upstream kubeadm (KUBEADM.md has the exact text).
"""

from __future__ import annotations

import re




# --- versions and the init config ---

_SHORT_VERSION_RE = re.compile(r"^\s*(v\d+\.\d+\.\d+\S*)\s*$", re.MULTILINE)
_GIT_VERSION_RE = re.compile(r"gitVersion\"?\s*:\s*\"(v\d+\.\d+\.\d+[^\"]*)\"", re.IGNORECASE)
_MINOR_RE = re.compile(r"^v?(\d+)\.(\d+)")


def read_kubeadm_version(output: str) -> str:
    """`v1.33.2` from `kubeadm version -o short`, the long `&version.Info{...}` form, or `-o json`."""
    match = _GIT_VERSION_RE.search(output) or _SHORT_VERSION_RE.search(output)
    if not match:
        raise ValueError(f"no kubeadm version found in {output.strip()[:80]!r}; is kubeadm installed?")
    return match[1]


def minor_of(version: str) -> tuple[int, int]:
    match = _MINOR_RE.match(version.strip())
    if not match:
        raise ValueError(f"{version!r} is not a Kubernetes version (e.g. v1.33.2)")
    return int(match[1]), int(match[2])
