"""Can this machine run a lab? Tests skip with the reason, or fail under CI (where it must work)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from functools import lru_cache

TOOLS = ("ip", "nsenter", "unshare", "mount", "sshd", "ssh-keygen", "sudo", "openssl", "runuser", "chpasswd")


@lru_cache(maxsize=1)
def lab_unavailable_reason() -> str | None:
    if not sys.platform.startswith("linux"):
        return "the lab needs Linux network/mount/UTS namespaces"
    if os.geteuid() != 0:
        return "the lab needs root (it creates network namespaces, a bridge and overlay mounts)"
    path = os.environ.get("PATH", "") + ":/usr/sbin:/sbin"
    missing = [tool for tool in TOOLS if not shutil.which(tool, path=path)]
    if missing:
        return f"the lab needs these programs: {', '.join(missing)} (Debian: openssh-server sudo iproute2 openssl)"
    if not os.path.exists("/proc/self/ns/net"):
        return "this kernel has no network namespaces"
    probe = subprocess.run(["/usr/bin/python3", "-c", "import yaml"], capture_output=True)
    if probe.returncode != 0:
        return "the lab's simulators need the system Python with PyYAML (Debian: python3-yaml)"
    return None


def require_lab() -> None:
    """Skip (or, with CI set, fail) the calling test when the lab cannot run here."""
    import pytest

    reason = lab_unavailable_reason()
    if reason is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"lab tests must run in CI, but: {reason}", pytrace=False)
    pytest.skip(reason)
