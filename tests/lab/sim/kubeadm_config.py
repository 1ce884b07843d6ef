# kwizard lab simulator support -- NOT a real Kubernetes tool.
# Reads a kubeadm config file (InitConfiguration + ClusterConfiguration, v1beta3
# or v1beta4) into the few settings the simulated kubeadm acts on, rejecting what
# the real kubeadm rejects with its own words.
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import common

DEFAULT_CRI = "unix:///var/run/containerd/containerd.sock"
SUPPORTED = ("kubeadm.k8s.io/v1beta3", "kubeadm.k8s.io/v1beta4")


class ConfigError(Exception):
    pass


def default_address() -> str:
    """kubeadm's choice without advertiseAddress: the IPv4 of the default-route interface."""
    routes = json.loads(subprocess.run(["ip", "-j", "-4", "route", "show", "default"], capture_output=True,
                                       text=True).stdout or "[]")
    if not routes:
        raise ConfigError("unable to select an IP from default routes.")
    dev = routes[0]["dev"]
    links = json.loads(subprocess.run(["ip", "-j", "-4", "addr", "show", "dev", dev], capture_output=True,
                                      text=True).stdout or "[]")
    for link in links:
        for info in link.get("addr_info", []):
            return info["local"]
    raise ConfigError(f"unable to select an IP from {dev} network interface")


def _args_list(value, where: str, version: str) -> dict:
    """extraArgs: a list of {name, value} in v1beta4, a map in v1beta3."""
    if value is None:
        return {}
    if version.endswith("v1beta4"):
        if isinstance(value, dict):
            raise ConfigError(f"json: cannot unmarshal object into Go struct field {where} of type []v1beta4.Arg")
        return {item["name"]: item.get("value", "") for item in value}
    if isinstance(value, list):
        raise ConfigError(f"json: cannot unmarshal array into Go struct field {where} of type map[string]string")
    return dict(value)


def read(path: str, hostname: str) -> dict:
    try:
        text = Path(path).read_text()
    except OSError as error:
        raise ConfigError(f"unable to read config from \"{path}\" : open {path}: {error.strerror.lower()}") from None
    try:
        documents = common.load_yaml_documents(text)
    except Exception as error:  # yaml's own message is what a user would need
        raise ConfigError(f"error converting YAML to JSON: {error}") from None
    init, cluster = {}, {}
    for doc in documents:
        api, kind = doc.get("apiVersion", ""), doc.get("kind", "")
        if api.startswith("kubeadm.k8s.io/") and api not in SUPPORTED:
            raise ConfigError(
                f'your configuration file uses an old API spec: "{api}". Please use kubeadm v1.22 instead and run '
                "'kubeadm config migrate --old-config old.yaml --new-config new.yaml', which will write the new, "
                "similar spec using a newer API version."
            )
        if kind == "InitConfiguration":
            init = doc
        elif kind == "ClusterConfiguration":
            cluster = doc
        elif kind == "JoinConfiguration":
            raise ConfigError("no InitConfiguration or ClusterConfiguration kind was found in the YAML file")
    if not init and not cluster:
        raise ConfigError("no InitConfiguration or ClusterConfiguration kind was found in the YAML file")
    version = (init or cluster).get("apiVersion", SUPPORTED[-1])
    registration = init.get("nodeRegistration") or {}
    kubelet_args = _args_list(registration.get("kubeletExtraArgs"),
                              "NodeRegistrationOptions.nodeRegistration.kubeletExtraArgs", version)
    endpoint = init.get("localAPIEndpoint") or {}
    networking = cluster.get("networking") or {}
    address = endpoint.get("advertiseAddress") or default_address()
    tokens = [t.get("token") for t in init.get("bootstrapTokens") or [] if t.get("token")]
    return {
        "api_version": version,
        "node_name": (registration.get("name") or hostname).lower(),
        "cri_socket": registration.get("criSocket") or DEFAULT_CRI,
        "node_ip": kubelet_args.get("node-ip"),
        "advertise_address": address,
        "bind_port": int(endpoint.get("bindPort") or 6443),
        "pod_subnet": networking.get("podSubnet"),
        "service_subnet": networking.get("serviceSubnet") or "10.96.0.0/12",
        "dns_domain": networking.get("dnsDomain") or "cluster.local",
        "kubernetes_version": str(cluster.get("kubernetesVersion") or common.K8S_VERSION),
        "control_plane_endpoint": cluster.get("controlPlaneEndpoint"),
        "encryption_algorithm": cluster.get("encryptionAlgorithm") or "RSA-2048",
        "token": tokens[0] if tokens else None,
    }


def from_flags(flags: dict, hostname: str) -> dict:
    """`kubeadm init` without --config: the same settings from flags."""
    return {
        "api_version": SUPPORTED[-1],
        "node_name": (flags.get("node-name") or hostname).lower(),
        "cri_socket": flags.get("cri-socket") or DEFAULT_CRI,
        "node_ip": None,
        "advertise_address": flags.get("apiserver-advertise-address") or default_address(),
        "bind_port": int(flags.get("apiserver-bind-port") or 6443),
        "pod_subnet": flags.get("pod-network-cidr"),
        "service_subnet": flags.get("service-cidr") or "10.96.0.0/12",
        "dns_domain": flags.get("service-dns-domain") or "cluster.local",
        "kubernetes_version": flags.get("kubernetes-version") or common.K8S_VERSION,
        "control_plane_endpoint": flags.get("control-plane-endpoint"),
        "encryption_algorithm": "RSA-2048",
        "token": flags.get("token"),
    }
