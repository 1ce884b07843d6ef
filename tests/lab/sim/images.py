# kwizard lab simulator support -- NOT a container registry or image store.
# Which images the lab's "registry" holds, which images each host has pulled
# (kept in the shared cluster state, so the control plane's kubectl can tell
# when a node's pods can start), and which images a node needs before the
# network plugin makes it Ready. Nothing is downloaded. Standard library only.
from __future__ import annotations

import re

import common

# What `kubeadm config images list` prints for a version, in kubeadm's order
# (cmd/kubeadm/app/images/images.go GetControlPlaneImages; pause and etcd tags
# as kubeadm 1.33 pins them in cmd/kubeadm/app/constants/constants.go).
KUBEADM_IMAGES = ("kube-apiserver:{v}", "kube-controller-manager:{v}", "kube-scheduler:{v}", "kube-proxy:{v}",
                  "coredns/coredns:v1.12.0", "pause:3.10", "etcd:3.5.21-0")
KUBEADM_REGISTRY = "registry.k8s.io"
_KUBE_COMPONENT = re.compile(r"registry\.k8s\.io/kube-(apiserver|controller-manager|scheduler|proxy):v1\.(\d+)\.(\d+)")
_KUBE_MINORS = range(28, 36)  # the Kubernetes releases the lab's registry has tags for

# The images a network plugin's pods run on every node: the DaemonSets' containers and
# initContainers of the manifests the lab serves (sim/manifests.py). Calico's node images are
# picked by its operator at run time; these stand in for what it would pull.
CALICO_NODE_IMAGES = ("quay.io/calico/cni:v3.32.1", "quay.io/calico/node:v3.32.1")


def kubeadm_images(version: str) -> list[str]:
    return [f"{KUBEADM_REGISTRY}/{image.format(v=version)}" for image in KUBEADM_IMAGES]


def normalize(ref: str) -> str:
    """containerd's reading of a reference (distribution/reference ParseDockerRef):
    docker.io when no registry is named, library/ for a bare name, :latest when no tag."""
    name, at, digest = ref.partition("@")
    first = name.split("/", 1)[0]
    if "/" not in name or not ("." in first or ":" in first or first == "localhost"):
        name = "docker.io/" + (name if "/" in name else "library/" + name)
    if not at and ":" not in name.rsplit("/", 1)[-1]:
        name += ":latest"
    return name + at + digest


def _manifest_images() -> set[str]:
    import manifests

    # the manifests that name images (the CRDs name none, and build with PyYAML, which `python3 -S` lacks)
    return {ref for text in (manifests.FLANNEL, manifests.TIGERA_OPERATOR, manifests.WEAVE) for ref in _images_in(text)}


def _images_in(text: str) -> list[str]:
    return list(dict.fromkeys(normalize(m.strip("'\"")) for m in re.findall(r"^\s*image:\s*(\S+)", text, re.M)))


def plugin_node_images(plugin: str) -> list[str]:
    """The images `plugin`'s pods need on a node before it reports Ready."""
    if plugin == "calico":
        return list(CALICO_NODE_IMAGES)
    import manifests

    return _images_in(manifests.FLANNEL if plugin == "flannel" else manifests.WEAVE)


def in_registry(ref: str) -> bool:
    """Whether the lab's registry has `ref` (normalized): kubeadm's images for the releases it knows,
    and every image of the manifests it serves."""
    match = _KUBE_COMPONENT.fullmatch(ref)
    if match:
        return int(match.group(2)) in _KUBE_MINORS
    if ref.startswith(KUBEADM_REGISTRY + "/"):
        return ref in {f"{KUBEADM_REGISTRY}/{i}" for i in KUBEADM_IMAGES[4:]}
    return ref in _manifest_images() or ref in CALICO_NODE_IMAGES


def image_id(ref: str) -> str:
    import hashlib  # here: every kubectl call reads this module, few name an image id (OpenSSL's load is ~4 ms)

    return "sha256:" + hashlib.sha256(ref.encode()).hexdigest()


def host_key() -> str:
    return common.host_info()["netns"]


def pulled(state: dict, host: str) -> dict[str, float]:
    """{reference: when it was pulled} on `host` (a lab host's netns)."""
    return state.setdefault("images", {}).setdefault(host, {})


def record_pull(ref: str) -> bool:
    """Remember that this host has `ref`; False when it already had it."""
    import time

    with common.locked_state() as state:
        have = pulled(state, host_key())
        if ref in have:
            return False
        have[ref] = time.time()
        return True


def has_image(ref: str) -> bool:
    return ref in pulled(common.read_state(), host_key())


def node_needs(state: dict, plugin: str) -> list[str]:
    """What a node pulls before its network plugin pod runs: pause (every pod's sandbox), kube-proxy
    (the plugin reaches the API server through the service IP it programs), then the plugin's own."""
    version = (state.get("cluster") or {}).get("kubernetes_version") or common.K8S_VERSION
    pause, proxy = f"{KUBEADM_REGISTRY}/pause:3.10", f"{KUBEADM_REGISTRY}/kube-proxy:{version}"
    return [pause, proxy, *plugin_node_images(plugin)]


def missing_by(state: dict, host: str, needed: list[str], moment: float) -> int:
    """How many of `needed` the host had not pulled by `moment`: the kubelet pulls those one by one."""
    have = pulled(state, host)
    return sum(1 for ref in needed if have.get(ref, moment + 1) > moment)
