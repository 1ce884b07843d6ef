"""Kubernetes versions: the one parser every part of kwizard reads a version with.

`KubeVersion.parse` reads what a person writes in a profile ("1.33", "v1.33.2")
and what the tools print ("v1.33.2", "v1.34.0-rc.1"); `read_kubeadm_version`
finds the version in kubeadm's own output. Pure: no SSH, no files.

Formats follow upstream kubeadm (KUBEADM.md has the exact text).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SHORT_VERSION_RE = re.compile(r"^\s*(v\d+\.\d+\.\d+\S*)\s*$", re.MULTILINE)
_GIT_VERSION_RE = re.compile(r"gitVersion\"?\s*:\s*\"(v\d+\.\d+\.\d+[^\"]*)\"", re.IGNORECASE)
_VERSION_RE = re.compile(r"^v?(\d+)\.(\d+)(?:\.(\d+))?(\S*)$")


@dataclass(frozen=True)
class KubeVersion:
    """major.minor[.patch][suffix]; `patch` is None for a bare minor such as "1.33"."""

    major: int
    minor: int
    patch: int | None = None
    suffix: str = ""  # what follows the numbers in a tool's version, e.g. "-rc.1" or "+k3s1"

    @classmethod
    def parse(cls, text: str, *, exact: bool = False) -> KubeVersion:
        """The version in `text`; `exact` (the profile's rule) refuses anything after major.minor.patch."""
        match = _VERSION_RE.match(text.strip()) if isinstance(text, str) else None
        if not match or (exact and match[4]):
            raise ValueError(f"{text!r} is not a Kubernetes version (write it like 1.33 or 1.33.2)")
        patch = int(match[3]) if match[3] is not None else None
        suffix = match[4]
        if suffix and patch is None and not suffix.startswith(("-", "+")):
            raise ValueError(f"{text!r} is not a Kubernetes version (write it like 1.33 or 1.33.2)")
        return cls(int(match[1]), int(match[2]), patch, suffix)

    @classmethod
    def find(cls, text: str | None) -> KubeVersion | None:
        """The version, or None when `text` is empty or is not one (a fact a host could not tell)."""
        try:
            return cls.parse(text or "")
        except ValueError:
            return None

    @property
    def minor_pair(self) -> tuple[int, int]:
        """(major, minor): what compatibility rules compare."""
        return self.major, self.minor

    @property
    def minor_text(self) -> str:
        """"1.33": the pkgs.k8s.io repository and the packages' version."""
        return f"{self.major}.{self.minor}"

    @property
    def has_patch(self) -> bool:
        return self.patch is not None

    def __str__(self) -> str:
        patch = "" if self.patch is None else f".{self.patch}"
        return f"{self.major}.{self.minor}{patch}{self.suffix}"


def read_kubeadm_version(output: str) -> str:
    """`v1.33.2` from `kubeadm version -o short`, the long `&version.Info{...}` form, or `-o json`."""
    match = _GIT_VERSION_RE.search(output) or _SHORT_VERSION_RE.search(output)
    if not match:
        raise ValueError(f"no kubeadm version found in {output.strip()[:80]!r}; is kubeadm installed?")
    return match[1]
