"""The local copy of the cluster's admin kubeconfig, and how to use it.

admin.conf is a root credential for the whole cluster. kwizard writes it to a
file of its own (never `~/.kube/config`, which may hold the user's other
clusters), readable by the user alone from the first byte, and tells the user
how to point kubectl at it or merge it in themselves.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import platformdirs
import yaml

from kwizard.files import make_private_dirs, write_private_atomically

_CLUSTER_NAME_RE = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_HOME_KUBECONFIG = '"$HOME/.kube/config"'


class KubeconfigError(ValueError):
    pass


def default_kubeconfig_dir() -> Path:
    return Path(platformdirs.user_config_dir("kwizard")) / "kubeconfigs"


def write_kubeconfig(
    admin_conf: bytes, cluster_name: str, dest_dir: Path | None = None, file_name: str | None = None
) -> Path:
    """Write admin.conf as `<dest_dir>/<cluster>.conf` (0600, atomic), its entries named after the cluster."""
    if not _CLUSTER_NAME_RE.match(cluster_name):
        raise KubeconfigError(f"{cluster_name!r} is not a cluster name (lowercase letters, digits and '-')")
    config = rename_entries(_load(admin_conf), cluster_name)
    folder = Path(dest_dir) if dest_dir is not None else default_kubeconfig_dir()
    make_private_dirs(folder)
    path = folder / (file_name or f"{cluster_name}.conf")
    write_private_atomically(path, yaml.safe_dump(config, sort_keys=False))
    return path


def _load(admin_conf: bytes) -> dict[str, Any]:
    try:
        config = yaml.safe_load(admin_conf)
    except yaml.YAMLError as error:
        raise KubeconfigError(f"admin.conf is not YAML ({error.__class__.__name__})") from None
    if not isinstance(config, dict) or config.get("kind") != "Config":
        raise KubeconfigError("admin.conf is not a kubeconfig (no 'kind: Config'); was it fetched whole?")
    for section in ("clusters", "contexts", "users"):
        entries = config.get(section)
        if not isinstance(entries, list) or len(entries) != 1:
            raise KubeconfigError(f"admin.conf should have exactly one entry under {section!r}")
    return config


def rename_entries(config: dict[str, Any], name: str) -> dict[str, Any]:
    """kubeadm names every cluster `kubernetes-admin@kubernetes`; give cluster, user and context this cluster's name.

    Distinct names are what let the file be merged with other clusters'
    kubeconfigs without one overwriting another.
    """
    (cluster,), (context,), (user,) = config["clusters"], config["contexts"], config["users"]
    cluster["name"] = user["name"] = context["name"] = name
    context.setdefault("context", {})
    context["context"]["cluster"] = context["context"]["user"] = name
    config["current-context"] = name
    return config


def kubeconfig_instructions(path: Path) -> list[str]:
    """Two ways to use the file: for this shell, or merged into ~/.kube/config (with a backup)."""
    quoted = shlex.quote(str(path))
    merged = '"$HOME/.kube/config.kwizard-merge"'
    # umask 077 in a subshell: the merged file holds credentials from the start.
    # It lives next to the target (not /tmp) so the final mv is an atomic rename,
    # and the old config is backed up before it is replaced.
    merge = (
        f"(umask 077 && mkdir -p \"$HOME/.kube\" && "
        f"KUBECONFIG={_HOME_KUBECONFIG}:{quoted} kubectl config view --flatten > {merged} && "
        f"{{ [ ! -e {_HOME_KUBECONFIG} ] || cp -p {_HOME_KUBECONFIG} \"$HOME/.kube/config.bak\"; }} && "
        f"mv {merged} {_HOME_KUBECONFIG})"
    )
    return [f"export KUBECONFIG={quoted}", merge]


def control_plane_setup_commands() -> list[str]:
    """What kubeadm itself tells a regular user to run on the control plane."""
    return [
        "mkdir -p $HOME/.kube",
        "sudo cp -i /etc/kubernetes/admin.conf $HOME/.kube/config",
        "sudo chown $(id -u):$(id -g) $HOME/.kube/config",
    ]
