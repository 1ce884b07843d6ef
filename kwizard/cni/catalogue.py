"""The CNI catalogue: Flannel, Calico and Weave Net, said so a first-time user can choose.

The seed guide (kubeadm 1.15) compared the three from a 2019 benchmark:
Flannel for small, simple clusters; Weave Net when traffic must be encrypted;
Calico for everything else. That advice mostly holds; what changed is in the
guidance text below (Weave Net is archived, Calico installs through an
operator, the seed's firewall range was far wider than Flannel needs).

Editing a manifest to match the pod CIDR lives in kwizard.cni.manifests and
is re-exported here so callers need one import.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from kwizard.cni.manifests import MAX_MTU, MIN_MTU, WEAVE_PASSWORD_SECRET, WEAVE_PASSWORD_SECRET_KEY, ManifestError, daemonset_images, manifest_pod_cidr, patch_calico_manifest, patch_flannel_manifest, patch_manifest, patch_weave_manifest
from kwizard.kube.ports import CONTROL_PLANE_PORTS, WORKER_PORTS, Port

__all__ = [
    "CATALOGUE",
    "MAX_MTU",
    "MIN_MTU",
    "CONTROL_PLANE_PORTS",
    "WORKER_PORTS",
    "WEAVE_PASSWORD_SECRET",
    "WEAVE_PASSWORD_SECRET_KEY",
    "CNIPlugin",
    "Maintenance",
    "ManifestError",
    "daemonset_images",
    "ManifestSource",
    "Port",
    "UnknownPluginError",
    "get_plugin",
    "installed_plugins",
    "manifest_pod_cidr",
    "patch_calico_manifest",
    "patch_flannel_manifest",
    "patch_manifest",
    "patch_weave_manifest",
]


class Maintenance(str, Enum):
    MAINTAINED = "maintained"
    ARCHIVED = "archived"


@dataclass(frozen=True)
class ManifestSource:
    """One pinned file to fetch and how it goes onto the cluster.

    `verb` is "apply" (client-side) or "apply --server-side". Calico's
    `installations.operator.tigera.io` CRD is too big for the 262,144-byte
    last-applied annotation a client-side `kubectl apply` writes; upstream says
    `kubectl create`, which fails with AlreadyExists when a cut step is retried.
    Server-side apply keeps no annotation and is idempotent; `--force-conflicts`
    takes over fields an earlier `kubectl create` (another field manager) set, as
    Calico's upgrade page does (docs.tigera.io calico/latest/operations/upgrading/
    kubernetes-upgrade: `kubectl apply --server-side --force-conflicts -f operator-crds.yaml`).
    `patched` marks the file kwizard edits to match the pod CIDR before use.
    """

    url: str
    filename: str
    verb: str
    purpose: str
    patched: bool = False

    @property
    def flags(self) -> tuple[str, ...]:
        return ("--server-side", "--force-conflicts") if self.verb == SERVER_SIDE else ()

    def command(self, path: str | None = None) -> list[str]:
        """The kubectl argv that applies it (`path` = local copy, else the URL)."""
        return ["kubectl", "apply", *self.flags, "-f", path or self.url]


SERVER_SIDE = "apply --server-side"


@dataclass(frozen=True)
class CNIPlugin:
    id: str
    name: str
    version: str
    summary: str
    guidance: str  # Markdown, for the guidance panel and `kwizard plan`
    recommendation: str
    default_pod_cidr: str
    default_backend: str
    backends: tuple[str, ...]
    ports: tuple[Port, ...]
    network_policy: bool
    encryption: str
    mtu: str
    maintenance: Maintenance
    maintenance_note: str
    manifests: tuple[ManifestSource, ...]  # in the order they are applied
    # What the pinned manifests' DaemonSets run on every node (tests compare them with the
    # published files); workers pull them while the control plane inits. Calico's are chosen
    # by its operator when it runs, so none are known beforehand.
    node_images: tuple[str, ...] = ()

    @property
    def is_archived(self) -> bool:
        return self.maintenance is Maintenance.ARCHIVED

    def ports_for(self, backend: str | None = None, encryption: bool = False) -> tuple[Port, ...]:
        """The ports every node must accept with this backend (default: the plugin's)."""
        chosen = backend or self.default_backend
        if chosen not in self.backends:
            raise ValueError(f"{self.name} has no backend {chosen!r} (one of {', '.join(self.backends)})")
        return tuple(p for p in self.ports if p.is_needed(chosen, encryption))

    @property
    def patched_manifest(self) -> ManifestSource:
        """The manifest that carries the pod CIDR."""
        return next(m for m in self.manifests if m.patched)


class UnknownPluginError(KeyError):
    def __str__(self) -> str:
        return f"unknown network plugin {self.args[0]!r}; choose one of {', '.join(CATALOGUE)}"


FLANNEL_VERSION = "v0.28.9"
CALICO_VERSION = "v3.32.1"
WEAVE_VERSION = "v2.8.1"

_CALICO_BASE = f"https://raw.githubusercontent.com/projectcalico/calico/{CALICO_VERSION}/manifests"

_FLANNEL_GUIDANCE = """\
**Flannel** is the simplest and lightest choice: one small agent per node, no
settings to learn. It builds a VXLAN overlay (UDP port 8472) between the nodes
and works out the MTU by itself.

- **Good for:** a first lab, small clusters, low-powered hardware (x86 and ARM).
- **Not included:** NetworkPolicy. Flannel does not enforce it; policies you
  create are silently ignored.
- **Pod network:** 10.244.0.0/16 by default. kwizard writes your pod CIDR into
  the manifest (`net-conf.json`), so it always matches kubeadm's `podSubnet`.
  A cluster initialised without a pod CIDR is the classic failure: flannel
  crash-loops with *pod cidr not assigned*.
- **Firewall:** 8472/udp between nodes. (Older guides open 8285-8472/udp; only
  8472 is needed for the default VXLAN backend.)
- **VPN on the host?** Flannel uses the default-route interface; if that is a
  VPN, tell it the real one (`--iface`).
"""

_CALICO_GUIDANCE = """\
**Calico** is the balanced default of most installers (kubespray, kops,
Rancher and others): good performance, modest resource use, and full
**NetworkPolicy** support, plus its own richer policies.

- **Good for:** clusters where you want to restrict which pods may talk to
  which, or route pods natively with **BGP** on your own network.
- **Install:** through the Tigera operator: the CRDs, the operator, then an
  `Installation` resource that kwizard fills in with your pod CIDR. kwizard
  uses `kubectl apply --server-side` (not upstream's `kubectl create`), so a
  cut connection can simply be resumed.
- **Pod network:** Calico's own default is 192.168.0.0/16, which clashes with
  most home and lab LANs (a KVM host's 192.168.122.0/24, a router's
  192.168.1.0/24). kwizard checks this and proposes a free range.
- **MTU:** detected automatically; VXLAN costs 50 bytes, WireGuard 60. On
  jumbo-frame networks set the MTU explicitly.
- **VPN on the host?** Calico's address detection (`first-found`) can pick a
  tun/wg interface. Name the real interface in the plugin options and kwizard
  pins Calico's node address to it.
- **Firewall:** 179/tcp (BGP), 4789/udp (VXLAN), 5473/tcp (Typha); IP-in-IP
  (IP protocol 4, `ipencap` in /etc/protocols — not `ipip`, which is 94) if you
  choose IPIP; 51820-51821/udp with WireGuard encryption.
- **firewalld and NetworkManager:** Calico's system requirements say firewalld
  (or any other iptables manager) *should be disabled*, and that NetworkManager
  must not manage Calico's interfaces (`cali*`, `tunl*`, `vxlan.calico`,
  `vxlan-v6.calico`, `wireguard.cali`, `wg-v6.cali`). kwizard writes
  `/etc/NetworkManager/conf.d/calico.conf` on hosts that have NetworkManager.
  It disables firewalld only with your consent
  (`cluster.cni_options.disable_firewalld: true`); without it, kwizard opens
  Calico's ports in firewalld and preflight warns.
"""

_WEAVE_GUIDANCE = """\
**Weave Net is no longer maintained.** Weaveworks closed in 2024 and the
project is archived upstream: its last release is v2.8.1 and it will get no
security fixes. Several installers have dropped it. kwizard still offers it
for existing setups and experiments; for a new cluster choose Flannel or
Calico.

- **What it was chosen for:** built-in encryption between nodes, switched on
  with a password (`WEAVE_PASSWORD`). kwizard keeps the password in a
  Kubernetes Secret, never in the manifest or the profile.
- **Cost:** encryption lowers throughput noticeably, and the encrypted
  overlay needs a smaller MTU (`WEAVE_MTU`, 1376 by default).
- **NetworkPolicy:** supported (weave-npc).
- **Pod network:** 10.32.0.0/12 by default (`IPALLOC_RANGE`); kwizard sets
  it to your pod CIDR.
- **Firewall:** 6783/tcp, 6783-6784/udp, and ESP (IP protocol 50) with
  encryption.
- If you need encryption on a maintained plugin: Calico with WireGuard.
"""

FLANNEL = CNIPlugin(
    id="flannel",
    name="Flannel",
    version=FLANNEL_VERSION,
    summary="Simplest and lightest: a VXLAN overlay, no NetworkPolicy.",
    guidance=_FLANNEL_GUIDANCE,
    recommendation="Don't know which to pick? Flannel, for a first lab cluster.",
    default_pod_cidr="10.244.0.0/16",
    default_backend="vxlan",
    backends=("vxlan", "host-gw", "wireguard", "udp"),
    ports=(
        Port(8472, "udp", "Flannel VXLAN overlay", needed_for=("vxlan",)),
        Port(8285, "udp", "Flannel udp backend (legacy, debugging only)", needed_for=("udp",)),
        Port(51820, "udp", "Flannel WireGuard (IPv4)", needed_for=("wireguard",)),
        Port(51821, "udp", "Flannel WireGuard (IPv6)", needed_for=("wireguard",)),
    ),
    network_policy=False,
    encryption="None by default; the wireguard backend encrypts node-to-node traffic.",
    mtu="Detected from the chosen interface; VXLAN takes 50 bytes off it.",
    maintenance=Maintenance.MAINTAINED,
    maintenance_note="Actively maintained (flannel-io).",
    manifests=(
        ManifestSource(
            url=f"https://github.com/flannel-io/flannel/releases/download/{FLANNEL_VERSION}/kube-flannel.yml",
            filename="kube-flannel.yml",
            verb="apply",
            purpose="namespace, RBAC, ConfigMap kube-flannel-cfg and DaemonSet kube-flannel-ds",
            patched=True,
        ),
    ),
    # kube-flannel.yml v0.28.9: initContainers install-cni-plugin and install-cni, container kube-flannel
    node_images=("ghcr.io/flannel-io/flannel-cni-plugin:v1.9.1-flannel3", f"ghcr.io/flannel-io/flannel:{FLANNEL_VERSION}"),
)

CALICO = CNIPlugin(
    id="calico",
    name="Calico",
    version=CALICO_VERSION,
    summary="The balanced default: NetworkPolicy, BGP or VXLAN, optional WireGuard.",
    guidance=_CALICO_GUIDANCE,
    recommendation="Pick Calico if you need NetworkPolicy (or BGP); otherwise Flannel is simpler.",
    default_pod_cidr="192.168.0.0/16",
    default_backend="VXLANCrossSubnet",
    backends=("VXLANCrossSubnet", "VXLAN", "IPIPCrossSubnet", "IPIP", "None"),
    ports=(
        # CrossSubnet and unencapsulated modes route with BGP; pure VXLAN does not.
        Port(179, "tcp", "Calico BGP", needed_for=("VXLANCrossSubnet", "IPIPCrossSubnet", "IPIP", "None")),
        # IP-in-IP is IP protocol 4 (`ipencap` in /etc/protocols; `ipip` there is 94).
        Port(None, "ipencap", "Calico IP-in-IP", needed_for=("IPIPCrossSubnet", "IPIP")),
        Port(4789, "udp", "Calico VXLAN", needed_for=("VXLANCrossSubnet", "VXLAN")),
        Port(5473, "tcp", "Calico Typha (the operator always runs it)"),
        Port(51820, "udp", "Calico WireGuard", end=51821, needed_for=("encryption",)),
    ),
    network_policy=True,
    encryption="Optional WireGuard between nodes (51820-51821/udp), switched on after install.",
    mtu="Detected automatically; VXLAN costs 50 bytes, WireGuard 60. Set it for jumbo frames.",
    maintenance=Maintenance.MAINTAINED,
    maintenance_note="Actively maintained (Tigera / projectcalico).",
    manifests=(
        # docs.tigera.io calico/latest/getting-started/kubernetes/self-managed-onprem/onpremises (operator
        # install: operator-crds.yaml, tigera-operator.yaml, custom-resources.yaml), applied server-side
        # instead of `kubectl create` so that a retry is safe (see ManifestSource).
        ManifestSource(f"{_CALICO_BASE}/operator-crds.yaml", "operator-crds.yaml", SERVER_SIDE, "Calico and operator CRDs"),
        ManifestSource(f"{_CALICO_BASE}/tigera-operator.yaml", "tigera-operator.yaml", SERVER_SIDE, "the Tigera operator"),
        ManifestSource(
            f"{_CALICO_BASE}/custom-resources.yaml",
            "custom-resources.yaml",
            SERVER_SIDE,
            "the Installation (pod CIDR, MTU, node address) and friends",
            patched=True,
        ),
    ),
)

WEAVE = CNIPlugin(
    id="weave",
    name="Weave Net",
    version=WEAVE_VERSION,
    summary="Encrypts pod traffic with a password, at a throughput cost. Archived upstream: unmaintained.",
    guidance=_WEAVE_GUIDANCE,
    recommendation="Not for new clusters: Weave Net is unmaintained. Use Flannel, or Calico with WireGuard for encryption.",
    default_pod_cidr="10.32.0.0/12",
    default_backend="fastdp",
    backends=("fastdp", "sleeve"),
    ports=(
        Port(6783, "tcp", "Weave Net control"),
        Port(6783, "udp", "Weave Net data (fastdp and sleeve)", end=6784),
        Port(None, "esp", "Weave Net encrypted fastdp (IPsec ESP)", needed_for=("encryption",)),
    ),
    network_policy=True,
    encryption=(
        f"WEAVE_PASSWORD, read from the Secret {WEAVE_PASSWORD_SECRET} (key {WEAVE_PASSWORD_SECRET_KEY}) "
        "in kube-system; costs throughput."
    ),
    mtu="WEAVE_MTU, 1376 by default; lower it for encryption over an already-encapsulated network.",
    maintenance=Maintenance.ARCHIVED,
    maintenance_note="Archived: Weaveworks closed in 2024; last release v2.8.1, no further fixes. A community fork exists (rajch/weave).",
    manifests=(
        ManifestSource(
            url=f"https://github.com/weaveworks/weave/releases/download/{WEAVE_VERSION}/weave-daemonset-k8s.yaml",
            filename="weave-daemonset-k8s.yaml",
            verb="apply",
            purpose="RBAC and DaemonSet weave-net in kube-system",
            patched=True,
        ),
    ),
    # weave-daemonset-k8s.yaml v2.8.1 as published: initContainer weave-init and container weave run
    # weave-kube, container weave-npc its own image; the release's file names the `latest` tags
    node_images=("weaveworks/weave-kube:latest", "weaveworks/weave-npc:latest"),
)

CATALOGUE: dict[str, CNIPlugin] = {p.id: p for p in (FLANNEL, CALICO, WEAVE)}


# What an installed plugin leaves behind, to recognise it on a running cluster: the CNI config
# file it writes into /etc/cni/net.d on every node, and its workloads (`kubectl get ds,deploy -A`).
# Flannel: kube-flannel.yml (DaemonSet kube-flannel-ds, 10-flannel.conflist); Calico: the operator
# (Deployment tigera-operator) and calico-node (10-calico.conflist); Weave: weave-net (10-weave.conflist).
INSTALLED_MARKERS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "flannel": (("flannel",), ("kube-flannel-ds",)),
    "calico": (("calico",), ("calico-node", "tigera-operator", "calico-kube-controllers")),
    "weave": (("weave",), ("weave-net",)),
}


def installed_plugins(cni_config_files: tuple[str, ...] = (), workloads: tuple[str, ...] = ()) -> tuple[str, ...]:
    """Which plugins a node's /etc/cni/net.d file names and the cluster's workload names show, in catalogue order.

    `workloads` are `kubectl get -o name` lines (`daemonset.apps/kube-flannel-ds`) or bare names.
    """
    names = {w.rsplit("/", 1)[-1] for w in workloads}
    found = []
    for plugin_id, (file_words, workload_names) in INSTALLED_MARKERS.items():
        in_files = any(word in f.rsplit("/", 1)[-1] for f in cni_config_files for word in file_words)
        if in_files or names & set(workload_names):
            found.append(plugin_id)
    return tuple(found)


def get_plugin(plugin_id: str) -> CNIPlugin:
    try:
        return CATALOGUE[plugin_id]
    except KeyError:
        raise UnknownPluginError(plugin_id) from None
