"""Make an upstream CNI manifest match the cluster's pod CIDR (and a few VPN/MTU options).

Pure text-in, text-out functions. Each parses the multi-document YAML, edits
the one object that carries the pod network, and writes every document back
in its original order. Comments in the upstream file do not survive (PyYAML
drops them); the objects do, key order included.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Iterator
from typing import Any

import yaml

from kwizard.profile.cidr import POD_CIDR_FIELD, ipv6_refusal

WEAVE_PASSWORD_SECRET = "weave-passwd"
WEAVE_PASSWORD_SECRET_KEY = "weave-passwd"

# The pod MTU a profile may ask for. 576 is the smallest datagram every IPv4 host must accept;
# 9000 is the common jumbo-frame ceiling of the node NICs pod traffic leaves through (the
# plugins' own overhead comes off it), so a larger value could never get off the node:
# one range for the profile, the wizard and the manifest patchers.
MIN_MTU = 576
MAX_MTU = 9000

# Linux interface names: up to 15 bytes, no whitespace or slash.
_IFNAME = re.compile(r"^[^\s/:]{1,15}$")


class ManifestError(ValueError):
    """The manifest lacks the object or field kwizard needs to edit."""


# --- YAML in and out ---------------------------------------------------------


class _Dumper(yaml.SafeDumper):
    """Writes multi-line strings (ConfigMap JSON) as `|` blocks, as upstream does."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)


def _load(text: str) -> list[Any]:
    try:
        docs = list(yaml.safe_load_all(text))
    except yaml.YAMLError as exc:
        raise ManifestError(f"the manifest is not valid YAML: {exc}") from exc
    # Empty documents (a stray trailing `---`) carry nothing; dropping them is harmless.
    return [d for d in docs if d is not None]


def _dump(docs: list[Any]) -> str:
    return yaml.dump_all(
        docs, Dumper=_Dumper, sort_keys=False, explicit_start=True, default_flow_style=False, width=4096
    )


def _objects(docs: list[Any]) -> Iterator[dict]:
    """Every Kubernetes object, looking inside `kind: List` documents (Weave's shape)."""
    for doc in docs:
        if not isinstance(doc, dict):
            continue
        kind = str(doc.get("kind") or "")
        if kind.endswith("List") and isinstance(doc.get("items"), list):
            yield from (item for item in doc.get("items") or [] if isinstance(item, dict))
        else:
            yield doc


def _describe(obj: dict) -> str:
    return f"{obj.get('kind', '?')}/{(obj.get('metadata') or {}).get('name', '?')}"


def _find(docs: list[Any], kind: str, name: str | None = None) -> dict:
    for obj in _objects(docs):
        if obj.get("kind") == kind and (name is None or (obj.get("metadata") or {}).get("name") == name):
            return obj
    wanted = f"{kind} named {name}" if name else f"an object of kind {kind}"
    found = ", ".join(_describe(o) for o in _objects(docs)) or "no objects"
    raise ManifestError(f"the manifest has no {wanted} (found: {found})")


def _container(workload: dict, name: str) -> dict:
    spec = ((workload.get("spec") or {}).get("template") or {}).get("spec") or {}
    for container in spec.get("containers") or []:
        if container.get("name") == name:
            return container
    raise ManifestError(f"{_describe(workload)} has no container named {name}")


def _set_env(container: dict, name: str, entry: dict) -> None:
    """Replace the env var `name` in place, or append it. Copes with `env:` left empty (null)."""
    env = container.get("env") or []
    container["env"] = env
    for i, existing in enumerate(env):
        if existing.get("name") == name:
            env[i] = {"name": name, **entry}
            return
    env.append({"name": name, **entry})


def _network(pod_cidr: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """The pod CIDR, exact: host bits set is the caller's bug, not something to round away."""
    return ipaddress.ip_network(pod_cidr, strict=True)


def _require_ipv4(net: ipaddress.IPv4Network | ipaddress.IPv6Network) -> None:
    if net.version != 4:
        raise ValueError(str(ipv6_refusal(POD_CIDR_FIELD, str(net))))


def _check_mtu(mtu: int | None) -> None:
    if mtu is not None and not MIN_MTU <= mtu <= MAX_MTU:
        raise ValueError(f"MTU {mtu} is out of range ({MIN_MTU}-{MAX_MTU})")


def _check_ifname(iface: str) -> None:
    if not _IFNAME.match(iface):
        raise ValueError(f"{iface!r} is not a network interface name")


# --- Flannel -----------------------------------------------------------------

FLANNEL_CONFIGMAP = "kube-flannel-cfg"
FLANNEL_DAEMONSET = "kube-flannel-ds"
FLANNEL_CONTAINER = "kube-flannel"


def _flannel_net_conf(docs: list[Any]) -> tuple[dict, dict]:
    configmap = _find(docs, "ConfigMap", FLANNEL_CONFIGMAP)
    raw = (configmap.get("data") or {}).get("net-conf.json")
    if raw is None:
        raise ManifestError(f"ConfigMap {FLANNEL_CONFIGMAP} has no data key net-conf.json")
    try:
        conf = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ManifestError(f"ConfigMap {FLANNEL_CONFIGMAP} net-conf.json is not JSON: {exc}") from exc
    return configmap, conf


def patch_flannel_manifest(
    text: str, pod_cidr: str, *, backend: str | None = None, iface: str | None = None
) -> str:
    """Set net-conf.json `Network` (and optionally `Backend.Type` and flanneld `--iface`)."""
    net = _network(pod_cidr)
    _require_ipv4(net)
    if iface is not None:
        _check_ifname(iface)
    docs = _load(text)
    configmap, conf = _flannel_net_conf(docs)
    conf["Network"] = str(net)
    if backend is not None:
        conf["Backend"] = {**(conf.get("Backend") or {}), "Type": backend}
    configmap["data"]["net-conf.json"] = json.dumps(conf, indent=2) + "\n"
    if iface is not None:
        _set_flannel_iface(docs, iface)
    return _dump(docs)


def _set_flannel_iface(docs: list[Any], iface: str) -> None:
    container = _container(_find(docs, "DaemonSet", FLANNEL_DAEMONSET), FLANNEL_CONTAINER)
    # Drop any earlier --iface so applying twice leaves one flag, not two.
    args = [a for a in container.get("args") or [] if not str(a).startswith("--iface=")]
    container["args"] = [*args, f"--iface={iface}"]


def _flannel_pod_cidr(docs: list[Any]) -> str | None:
    return _flannel_net_conf(docs)[1].get("Network")


# --- Weave Net ---------------------------------------------------------------

WEAVE_DAEMONSET = "weave-net"
WEAVE_CONTAINER = "weave"


def _weave_container(docs: list[Any]) -> dict:
    return _container(_find(docs, "DaemonSet", WEAVE_DAEMONSET), WEAVE_CONTAINER)


def patch_weave_manifest(
    text: str, pod_cidr: str, *, password_secret: bool = False, mtu: int | None = None
) -> str:
    """Set IPALLOC_RANGE on the weave container; optionally WEAVE_PASSWORD (from a Secret) and WEAVE_MTU.

    The password itself never enters the manifest: WEAVE_PASSWORD reads Secret
    `weave-passwd` key `weave-passwd` in kube-system, which the plan creates.
    """
    net = _network(pod_cidr)
    _require_ipv4(net)
    _check_mtu(mtu)
    docs = _load(text)
    container = _weave_container(docs)
    _set_env(container, "IPALLOC_RANGE", {"value": str(net)})
    if password_secret:
        secret_ref = {"name": WEAVE_PASSWORD_SECRET, "key": WEAVE_PASSWORD_SECRET_KEY}
        _set_env(container, "WEAVE_PASSWORD", {"valueFrom": {"secretKeyRef": secret_ref}})
    if mtu is not None:
        _set_env(container, "WEAVE_MTU", {"value": str(mtu)})
    return _dump(docs)


def _weave_pod_cidr(docs: list[Any]) -> str | None:
    for entry in _weave_container(docs).get("env") or []:
        if entry.get("name") == "IPALLOC_RANGE":
            return entry.get("value")
    return None


# --- Calico (operator Installation) ------------------------------------------

CALICO_DEFAULT_POOL = {
    "name": "default-ipv4-ippool",
    "blockSize": 26,
    "cidr": "192.168.0.0/16",
    "encapsulation": "VXLANCrossSubnet",
    "natOutgoing": "Enabled",
    "nodeSelector": "all()",
}
# Calico's default when the pool does not say: /26 blocks (IPv4; kwizard sets up no IPv6 pools).
_CALICO_BLOCK_SIZE = 26
_CALICO_MIN_BLOCK = 20


def _calico_network(docs: list[Any]) -> dict:
    installation = _find(docs, "Installation")
    spec = installation.get("spec") or {}
    installation["spec"] = spec
    network = spec.get("calicoNetwork") or {}
    spec["calicoNetwork"] = network
    return network


def _calico_block_size(pool: dict, net: ipaddress.IPv4Network | ipaddress.IPv6Network) -> int:
    """Keep the pool's blockSize unless it no longer fits this CIDR."""
    size = pool.get("blockSize", _CALICO_BLOCK_SIZE)
    if not _CALICO_MIN_BLOCK <= size <= net.max_prefixlen:
        size = _CALICO_BLOCK_SIZE
    return max(size, net.prefixlen)  # a block cannot be bigger than its pool


def patch_calico_manifest(
    text: str,
    pod_cidr: str,
    *,
    mtu: int | None = None,
    autodetect_interface: str | None = None,
    autodetect_can_reach: str | None = None,
) -> str:
    """Set the Installation's first IP pool to the pod CIDR; optionally MTU and node-address detection.

    `autodetect_interface` is an interface name (matched exactly); use it, or
    `autodetect_can_reach` (an address such as the control plane's), when a
    VPN interface would otherwise win Calico's `first-found` detection.
    """
    net = _network(pod_cidr)
    _require_ipv4(net)
    if autodetect_interface and autodetect_can_reach:
        raise ValueError("Calico takes one node-address detection method: interface or canReach, not both")
    if autodetect_interface is not None:
        _check_ifname(autodetect_interface)
    if autodetect_can_reach is not None:
        ipaddress.ip_address(autodetect_can_reach)  # raises ValueError on garbage
    _check_mtu(mtu)
    docs = _load(text)
    network = _calico_network(docs)
    pools = network.get("ipPools") or [dict(CALICO_DEFAULT_POOL)]
    network["ipPools"] = pools
    pools[0]["cidr"] = str(net)
    pools[0]["blockSize"] = _calico_block_size(pools[0], net)
    if mtu is not None:
        network["mtu"] = mtu
    detection_key = "nodeAddressAutodetectionV4"
    if autodetect_interface is not None:
        # Calico matches this as a regular expression; anchor it so eth0 does not match veth0.
        network[detection_key] = {"interface": f"^{re.escape(autodetect_interface)}$"}
    elif autodetect_can_reach is not None:
        network[detection_key] = {"canReach": autodetect_can_reach}
    return _dump(docs)


def _calico_pod_cidr(docs: list[Any]) -> str | None:
    pools = (((_find(docs, "Installation").get("spec") or {}).get("calicoNetwork") or {}).get("ipPools")) or []
    return pools[0].get("cidr") if pools else None


# --- By plugin id --------------------------------------------------------------

_PATCHERS = {"flannel": patch_flannel_manifest, "calico": patch_calico_manifest, "weave": patch_weave_manifest}
_READERS = {"flannel": _flannel_pod_cidr, "calico": _calico_pod_cidr, "weave": _weave_pod_cidr}


def patch_manifest(plugin_id: str, text: str, pod_cidr: str, **options: Any) -> str:
    """Dispatch to the plugin's patch function; `options` are its keyword options."""
    try:
        patcher = _PATCHERS[plugin_id]
    except KeyError:
        raise ValueError(f"no manifest patcher for plugin {plugin_id!r}") from None
    return patcher(text, pod_cidr, **options)


def manifest_pod_cidr(plugin_id: str, text: str) -> str | None:
    """The pod CIDR the manifest carries, or None when it sets none (Weave without IPALLOC_RANGE).

    Raises ManifestError when the object that would carry it is missing.
    """
    try:
        reader = _READERS[plugin_id]
    except KeyError:
        raise ValueError(f"no manifest reader for plugin {plugin_id!r}") from None
    return reader(_load(text))


def daemonset_images(text: str) -> list[str]:
    """The images a manifest's DaemonSets run (initContainers, then containers), each once, in order:
    what every node pulls before its network plugin pod starts."""
    found: list[str] = []
    for obj in _objects(_load(text)):
        if obj.get("kind") != "DaemonSet":
            continue
        pod = ((obj.get("spec") or {}).get("template") or {}).get("spec") or {}
        for container in [*(pod.get("initContainers") or []), *(pod.get("containers") or [])]:
            image = container.get("image") if isinstance(container, dict) else None
            if image and image not in found:
                found.append(str(image))
    return found
