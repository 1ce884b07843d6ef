# kwizard lab simulator support -- NOT a real Kubernetes tool.
# Reads a kubeadm config file (InitConfiguration + ClusterConfiguration, v1beta3
# or v1beta4) into the few settings the simulated kubeadm acts on, rejecting what
# the real kubeadm rejects with its own words.
from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import common

DEFAULT_CRI = "unix:///var/run/containerd/containerd.sock"
SUPPORTED = ("kubeadm.k8s.io/v1beta3", "kubeadm.k8s.io/v1beta4")


class ConfigError(Exception):
    pass


def kubeadm_minor() -> int:
    return int(common.tool_version("kubeadm").lstrip("v").split(".")[1])


def klog_warning(source: str, message: str) -> None:
    """A klog warning on stderr, the way kubeadm prints them (W1201 21:40:00.123456    4242 common.go:101] ...)."""
    now = time.time()
    stamp = time.strftime("%m%d %H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1e6):06d}"
    sys.stderr.write(f"W{stamp}    {__import__('os').getpid()} {source}] {message}\n")


def check_api_version(api: str) -> None:
    """The config API gate of the kubeadm in use (cmd/kubeadm/app/util/config/common.go, validateSupportedVersion):
    v1beta4 is experimental from 1.28 to 1.30 ("experimental API spec ... is not allowed"); from 1.31 v1beta4 is
    the API and v1beta3 is deprecated (a klog warning, still read)."""
    minor = kubeadm_minor()
    if api == "kubeadm.k8s.io/v1beta4" and minor < 31:
        # common.go (v1.28-v1.30): experimentalAPIVersions["kubeadm.k8s.io/v1beta4"]; `kubeadm init` has no
        # --allow-experimental-api flag, so init and join refuse it outright.
        raise ConfigError(f'experimental API spec: "{api}" is not allowed. You can use the --allow-experimental-api '
                          "flag if the command supports it.")
    if api == "kubeadm.k8s.io/v1beta3" and minor >= 31:
        # common.go (v1.31+): deprecatedAPIVersions["kubeadm.k8s.io/v1beta3"] -> klog.Warningf
        klog_warning("common.go:101", f'your configuration file uses a deprecated API spec: "{api}". Please use '
                     "'kubeadm config migrate --old-config old.yaml --new-config new.yaml', which will write the new, "
                     "similar spec using a newer API version.")


# cmd/kubeadm/app/util/version.go: kubeReleaseRegex / kubeReleaseLabelRegex / kubeBucketPrefixes
_RELEASE = re.compile(r"^v?(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)([-0-9a-zA-Z_\.+]*)?$")
_LABEL = re.compile(r"^((latest|stable)+(-[1-9](\.[1-9]([0-9])?)?)?)$")
_BUCKET = re.compile(r"^((release|ci|ci-cross)/)?([-\w_\.+]+)$")


def resolve_kubernetes_version(value: str) -> str:
    """kubeadm's KubernetesReleaseVersion + NormalizeKubernetesVersion, without the internet:
    a full version is taken as is (with a v), a label falls back to the kubeadm's own version with
    kubeadm's two warnings (lab hosts cannot reach dl.k8s.io), anything else is refused."""
    if _RELEASE.match(value):
        version = value if value.startswith("v") else "v" + value
    else:
        bucket = _BUCKET.match(value)
        label = bucket.group(3) if bucket else ""
        if bucket and _RELEASE.match(label):
            version = label if label.startswith("v") else "v" + label
        elif bucket and _LABEL.match(label):
            url = f"https://dl.k8s.io/release/{label}.txt"
            klog_warning("version.go:104", f'could not fetch a Kubernetes version from the internet: unable to get URL '
                         f'"{url}": Get "{url}": dial tcp: lookup dl.k8s.io on 127.0.0.1:53: read udp '
                         "127.0.0.1:41872->127.0.0.1:53: read: connection refused")
            version = common.tool_version("kubeadm")
            klog_warning("version.go:105", f"falling back to the local client version: {version}")
        else:
            # version.go: the message kubeadm prints for e.g. "1.33"
            raise ConfigError(f'version "{value}" doesn\'t match patterns for neither semantic version nor labels '
                              "(stable, latest, ...)")
    minor = kubeadm_minor()
    wanted = tuple(int(x) for x in version.lstrip("v").split("-")[0].split("+")[0].split(".")[:2])
    if wanted < (1, minor - 1):
        # common.go NormalizeKubernetesVersion: constants.MinimumControlPlaneVersion is kubeadm's minor - 1
        raise ConfigError(f"this version of kubeadm only supports deploying clusters with the control plane version "
                          f">= 1.{minor - 1}.0. Current version: {version}")
    return version


# apimachinery validation.IsDNS1123Subdomain, as kubeadm's ValidateNodeRegistrationOptions reports it
# (cmd/kubeadm/app/apis/kubeadm/validation/validation.go)
_DNS1123 = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
DNS1123_MESSAGE = ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
                   "and must start and end with an alphanumeric character (e.g. 'example.com', regex used for "
                   "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")


def check_node_name(name: str, where: str = "nodeRegistration.name") -> None:
    if len(name) > 253 or not _DNS1123.match(name):
        raise ConfigError(f'{where}: Invalid value: "{name}": {DNS1123_MESSAGE}')


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
        if api in SUPPORTED:
            check_api_version(api)
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
        "node_name": _node_name(registration.get("name"), hostname),
        "cri_socket": registration.get("criSocket") or DEFAULT_CRI,
        "node_ip": kubelet_args.get("node-ip"),
        "advertise_address": address,
        "bind_port": int(endpoint.get("bindPort") or 6443),
        "pod_subnet": networking.get("podSubnet"),
        "service_subnet": networking.get("serviceSubnet") or "10.96.0.0/12",
        "dns_domain": networking.get("dnsDomain") or "cluster.local",
        "kubernetes_version": str(cluster.get("kubernetesVersion") or "stable-1"),
        "control_plane_endpoint": cluster.get("controlPlaneEndpoint"),
        "encryption_algorithm": cluster.get("encryptionAlgorithm") or "RSA-2048",
        "token": tokens[0] if tokens else None,
    }


def _node_name(explicit: str | None, hostname: str) -> str:
    """An explicit nodeRegistration.name is validated as given; the hostname is lowercased first
    (cmd/kubeadm/app/util/config/initconfiguration.go SetNodeRegistrationDynamicDefaults, nodeutil.GetHostname)."""
    if explicit:
        check_node_name(explicit)
        return explicit
    return hostname.lower()


def from_flags(flags: dict, hostname: str) -> dict:
    """`kubeadm init` without --config: the same settings from flags."""
    return {
        "api_version": SUPPORTED[-1],
        "node_name": _node_name(flags.get("node-name"), hostname),
        "cri_socket": flags.get("cri-socket") or DEFAULT_CRI,
        "node_ip": None,
        "advertise_address": flags.get("apiserver-advertise-address") or default_address(),
        "bind_port": int(flags.get("apiserver-bind-port") or 6443),
        "pod_subnet": flags.get("pod-network-cidr"),
        "service_subnet": flags.get("service-cidr") or "10.96.0.0/12",
        "dns_domain": flags.get("service-dns-domain") or "cluster.local",
        "kubernetes_version": flags.get("kubernetes-version") or "stable-1",
        "control_plane_endpoint": flags.get("control-plane-endpoint"),
        "encryption_algorithm": "RSA-2048",
        "token": flags.get("token"),
    }
