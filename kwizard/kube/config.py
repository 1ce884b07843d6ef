"""The kubeadm config kwizard writes: InitConfiguration + ClusterConfiguration, in the API the installed kubeadm reads.

Pure: no SSH, no files. The config API follows kubeadm's version (v1beta4
from 1.31, v1beta3 before: cmd/kubeadm/app/util/config/common.go), and
`kubernetesVersion` is always a full version, never a label kubeadm would have
to look up online.
"""

from __future__ import annotations

import ipaddress
from typing import Any

import yaml

from kwizard.profile.model import Profile
from kwizard.kube.versions import KubeVersion


V1BETA4_FROM = (1, 31)  # kubeadm's config API moved to v1beta4 in 1.31


def kubeadm_config_api(kubeadm_version: str) -> str:
    return "kubeadm.k8s.io/v1beta4" if KubeVersion.parse(kubeadm_version).minor_pair >= V1BETA4_FROM else "kubeadm.k8s.io/v1beta3"


def kubernetes_version_for(wanted: str, kubeadm_version: str) -> str:
    """The exact `kubernetesVersion` to write.

    A full version ("1.33.2") is taken as given. A bare minor ("1.33") becomes
    the installed kubeadm's own version when it is that minor — its images are
    the ones `kubeadm config images pull` fetched — else `v1.33.0`. Labels
    like `stable-1.33` are not used: kubeadm resolves them over the internet,
    which lab and air-gapped hosts do not have.
    """
    wanted = wanted.strip().removeprefix("v")
    if KubeVersion.parse(wanted).has_patch:
        return f"v{wanted}"
    installed = kubeadm_version.strip().removeprefix("v")
    found = KubeVersion.find(installed)
    # Only a full x.y.z is usable: kubeadm takes a bare "1.33" for a release label to look up online.
    if found is not None and found.has_patch and found.minor_pair == KubeVersion.parse(wanted).minor_pair:
        return f"v{installed}"
    return f"v{wanted}.0"


def render_init_config(
    profile: Profile,
    *,
    advertise_address: str,
    node_name: str,
    cri_socket: str,
    kubeadm_version: str,
    node_ip: str | None = None,
) -> str:
    """The file for `kubeadm init --config`: InitConfiguration + ClusterConfiguration, in the API kubeadm reads."""
    api = kubeadm_config_api(kubeadm_version)
    ipaddress.ip_address(advertise_address)  # ValueError names the bad address
    if not cri_socket.startswith("unix:///"):
        raise ValueError(
            f"CRI socket {cri_socket!r} must be a unix:/// URL (resolve 'auto' from the host's facts first)"
        )
    init = {
        "apiVersion": api,
        "kind": "InitConfiguration",
        "localAPIEndpoint": {"advertiseAddress": advertise_address, "bindPort": 6443},
        "nodeRegistration": _node_registration(api, node_name, cri_socket, node_ip),
    }
    cluster = {
        "apiVersion": api,
        "kind": "ClusterConfiguration",
        "clusterName": profile.name,
        "kubernetesVersion": kubernetes_version_for(profile.cluster.kubernetes_version, kubeadm_version),
        "networking": {
            "podSubnet": profile.cluster.pod_cidr,
            "serviceSubnet": profile.cluster.service_cidr,
            "dnsDomain": "cluster.local",
        },
        # No controlPlaneEndpoint: kwizard sets up one control plane.
    }
    header = f"# Written by kwizard for profile {profile.name!r}; kubeadm {kubeadm_version}\n"
    return header + yaml.safe_dump_all([init, cluster], sort_keys=False, explicit_start=True)


def _node_registration(api: str, node_name: str, cri_socket: str, node_ip: str | None) -> dict[str, Any]:
    registration: dict[str, Any] = {"name": node_name, "criSocket": cri_socket}
    if node_ip:
        ipaddress.ip_address(node_ip)
        # v1beta4 made extra args a list of {name, value}; v1beta3 has a map.
        registration["kubeletExtraArgs"] = (
            [{"name": "node-ip", "value": node_ip}] if api.endswith("v1beta4") else {"node-ip": node_ip}
        )
    return registration


def parse_init_config(text: str) -> dict[str, dict[str, Any]]:
    """The documents of a kubeadm config file by kind, e.g. result["ClusterConfiguration"]."""
    documents: dict[str, dict[str, Any]] = {}
    for document in yaml.safe_load_all(text):
        if document is None:
            continue
        kind = document.get("kind") if isinstance(document, dict) else None
        if not kind:
            raise ValueError("a kubeadm config document has no 'kind'")
        if kind in documents:
            raise ValueError(f"the kubeadm config has two {kind} documents")
        documents[kind] = document
    return documents
