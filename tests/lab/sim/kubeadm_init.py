# kwizard lab simulator support -- NOT a real Kubernetes tool.
# `kubeadm init` and `kubeadm join` for the lab: preflight against the host's real
# state, a real CA, the real end-of-init text, and the join checks kubeadm makes
# (token, CA pin) with kubeadm's messages. The cluster itself lives in common's state.
from __future__ import annotations

import ipaddress
import re
import secrets
import socket
import string
import time
from pathlib import Path

import common
import images
import kubeadm_certs
import kubeadm_config
import listener
import pki
import preflight

TOKEN_RE = re.compile(r"^([a-z0-9]{6})\.([a-z0-9]{16})$")
# Flags kubeadm accepts next to --config; any other (e.g. --pod-network-cidr) is refused.
MIXABLE_WITH_CONFIG = {"config", "ignore-preflight-errors", "upload-certs", "skip-token-print", "skip-phases",
                       "dry-run", "v", "certificate-key", "skip-certificate-key-print"}


def new_token() -> str:
    alphabet = string.ascii_lowercase + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(6)) + "." + "".join(secrets.choice(alphabet) for _ in range(16))


def join_command(cluster: dict, token: str, control_plane: bool = False, certificate_key: str | None = None,
                 one_line: bool = False) -> str:
    endpoint = cluster["endpoint"]
    parts = [f"kubeadm join {endpoint} --token {token}", f"--discovery-token-ca-cert-hash {cluster['ca_hash']}"]
    if control_plane:
        parts.append("--control-plane" + (f" --certificate-key {certificate_key}" if certificate_key else ""))
    if one_line:
        return " ".join(parts) + " "
    return " \\\n\t".join(parts) + " "


def _ignored(flags: dict) -> set[str]:
    return {name.strip().lower() for name in flags.get("ignore-preflight-errors", "").split(",") if name.strip()}


def _node_cidr(state: dict) -> str | None:
    subnet = (state["cluster"] or {}).get("pod_subnet")
    if not subnet:
        return None
    index = state["cluster"].setdefault("next_node_cidr", 0)
    state["cluster"]["next_node_cidr"] = index + 1
    return str(list(ipaddress.ip_network(subnet).subnets(new_prefix=24))[index])


def register_node(state: dict, name: str, address: str, control_plane: bool) -> None:
    labels = {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64"}
    taints = []
    if control_plane:
        labels.update({"node-role.kubernetes.io/control-plane": "",
                       "node.kubernetes.io/exclude-from-external-load-balancers": ""})
        taints.append({"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"})
    state["nodes"][name] = {"name": name, "address": address, "control_plane": control_plane, "labels": labels,
                            "taints": taints, "created": time.time(), "kubelet": True, "unschedulable": False,
                            "pod_cidr": _node_cidr(state), "host": common.host_info()["netns"]}


def set_kubelet(active: bool) -> None:
    with common.host_file("services.json") as services:
        services["kubelet"] = {"enabled": True, "active": active}


def _print_phases(cfg: dict, token_shown: str, upload_certs: str | None) -> None:
    name, address = cfg["node_name"], cfg["advertise_address"]
    service_ip = ipaddress.ip_network(cfg["service_subnet"]).network_address + 1
    lines = [
        "[preflight] Pulling images required for setting up a Kubernetes cluster",
        "[preflight] This might take a minute or two, depending on the speed of your internet connection",
        "[preflight] You can also perform this action beforehand using 'kubeadm config images pull'",
        '[certs] Using certificateDir folder "/etc/kubernetes/pki"',
        '[certs] Generating "ca" certificate and key',
        '[certs] Generating "apiserver" certificate and key',
        f"[certs] apiserver serving cert is signed for DNS names [kubernetes kubernetes.default kubernetes.default.svc "
        f"kubernetes.default.svc.{cfg['dns_domain']} {name}] and IPs [{service_ip} {address}]",
        '[certs] Generating "apiserver-kubelet-client" certificate and key',
        '[certs] Generating "front-proxy-ca" certificate and key',
        '[certs] Generating "front-proxy-client" certificate and key',
        '[certs] Generating "etcd/ca" certificate and key',
        '[certs] Generating "sa" key and public key',
        '[kubeconfig] Using kubeconfig folder "/etc/kubernetes"',
        '[kubeconfig] Writing "admin.conf" kubeconfig file',
        '[kubeconfig] Writing "super-admin.conf" kubeconfig file',
        '[kubeconfig] Writing "kubelet.conf" kubeconfig file',
        '[kubeconfig] Writing "controller-manager.conf" kubeconfig file',
        '[kubeconfig] Writing "scheduler.conf" kubeconfig file',
        '[etcd] Creating static Pod manifest for local etcd in "/etc/kubernetes/manifests"',
        '[control-plane] Using manifest folder "/etc/kubernetes/manifests"',
        '[control-plane] Creating static Pod manifest for "kube-apiserver"',
        '[control-plane] Creating static Pod manifest for "kube-controller-manager"',
        '[control-plane] Creating static Pod manifest for "kube-scheduler"',
        '[kubelet-start] Writing kubelet environment file with flags to file "/var/lib/kubelet/kubeadm-flags.env"',
        '[kubelet-start] Writing kubelet configuration to file "/var/lib/kubelet/config.yaml"',
        "[kubelet-start] Starting the kubelet",
        '[wait-control-plane] Waiting for the kubelet to boot up the control plane as static Pods from directory '
        '"/etc/kubernetes/manifests"',
        "[kubelet-check] Waiting for a healthy kubelet at http://127.0.0.1:10248/healthz. This can take up to 4m0s",
        "[kubelet-check] The kubelet is healthy after 501.337ms",
        "[control-plane-check] Waiting for healthy control plane components. This can take up to 4m0s",
        f"[control-plane-check] Checking kube-apiserver at https://{address}:{cfg['bind_port']}/livez",
        "[control-plane-check] kube-apiserver is healthy after 2.002s",
        '[upload-config] Storing the configuration used in ConfigMap "kubeadm-config" in the "kube-system" Namespace',
        '[kubelet] Creating a ConfigMap "kubelet-config" in namespace kube-system with the configuration for the '
        "kubelets in the cluster",
        "[upload-certs] Storing the certificates in Secret \"kubeadm-certs\" in the \"kube-system\" Namespace\n"
        f"[upload-certs] Using certificate key:\n{upload_certs}"
        if upload_certs else "[upload-certs] Skipping phase. Please see --upload-certs",
        f"[mark-control-plane] Marking the node {name} as control-plane by adding the labels: "
        "[node-role.kubernetes.io/control-plane node.kubernetes.io/exclude-from-external-load-balancers]",
        f"[mark-control-plane] Marking the node {name} as control-plane by adding the taints "
        "[node-role.kubernetes.io/control-plane:NoSchedule]",
        f"[bootstrap-token] Using token: {token_shown}",
        "[bootstrap-token] Configuring bootstrap tokens, cluster-info ConfigMap, RBAC Roles",
        '[bootstrap-token] Creating the "cluster-info" ConfigMap in the "kube-public" namespace',
        '[kubelet-finalize] Updating "/etc/kubernetes/kubelet.conf" to point to a rotatable kubelet client '
        "certificate and key",
        "[addons] Applied essential addon: CoreDNS",
        "[addons] Applied essential addon: kube-proxy",
    ]
    print("\n".join(lines))


def _print_success(cluster: dict, token: str, certificate_key: str | None) -> None:
    text = """
Your Kubernetes control-plane has initialized successfully!

To start using your cluster, you need to run the following as a regular user:

  mkdir -p $HOME/.kube
  sudo cp -i /etc/kubernetes/admin.conf $HOME/.kube/config
  sudo chown $(id -u):$(id -g) $HOME/.kube/config

Alternatively, if you are the root user, you can run:

  export KUBECONFIG=/etc/kubernetes/admin.conf

You should now deploy a pod network to the cluster.
Run "kubectl apply -f [podnetwork].yaml" with one of the options listed at:
  https://kubernetes.io/docs/concepts/cluster-administration/addons/
"""
    if cluster.get("control_plane_endpoint"):
        text += ("\nYou can now join any number of control-plane nodes by copying certificate authorities\n"
                 "and service account keys on each node and then running the following as root:\n\n  "
                 + join_command(cluster, token, True, certificate_key).replace("\n\t", "\n\t") + "\n")
    text += ("\nThen you can join any number of worker nodes by running the following on each as root:\n\n"
             + join_command(cluster, token) + "\n")
    print(text, end="")


def init(argv: list[str]) -> int:
    _, flags = common.parse_args(argv, {"upload-certs", "skip-token-print", "dry-run", "skip-certificate-key-print"})
    hostname = socket.gethostname()
    try:
        if "config" in flags:
            mixed = sorted(set(flags) - MIXABLE_WITH_CONFIG)
            if mixed:
                common.fail(f"can not mix '--config' with arguments [{' '.join(mixed)}]\n"
                            "To see the stack trace of this error execute with --v=5 or higher")
            cfg = kubeadm_config.read(flags["config"], hostname)
        else:
            cfg = kubeadm_config.from_flags(flags, hostname)
        # cmd/kubeadm/app/util/version.go + util/config/common.go: a bare "1.33" is refused, a label resolves
        version = kubeadm_config.resolve_kubernetes_version(cfg["kubernetes_version"])
    except kubeadm_config.ConfigError as error:
        common.fail(f"{error}\nTo see the stack trace of this error execute with --v=5 or higher")
    print(f"[init] Using Kubernetes version: {version}", flush=True)
    if not preflight.report("init", cfg["cri_socket"], _ignored(flags), kubernetes_version=version,
                            node_name=cfg["node_name"]):
        return 1
    common.apply_command_faults("kubeadm init " + " ".join(argv))
    for name in images.kubeadm_images(version):  # preflight pulls what `kubeadm config images pull` did not
        if not images.has_image(name):
            common.take_time("image-pull", 1)
        images.record_pull(name)
    work_started = time.time()  # the certificates and files below are part of init's realistic duration
    pki.make_ca(cfg["encryption_algorithm"])
    ca_pem = (pki.PKI / "ca.crt").read_bytes()
    address, port = cfg["advertise_address"], cfg["bind_port"]
    endpoint = cfg["control_plane_endpoint"] or f"{address}:{port}"
    if ":" not in endpoint:
        endpoint += f":{port}"
    server = f"https://{endpoint}"
    cert, key = pki.client_cert("admin", cfg["encryption_algorithm"], "/O=kubeadm:cluster-admins/CN=kubernetes-admin")
    admin = pki.kubeconfig(server, ca_pem, "kubernetes-admin", cert, key)
    etc = Path("/etc/kubernetes")
    pki.write_private(etc / "admin.conf", admin)
    pki.write_private(etc / "super-admin.conf", admin.replace("kubernetes-admin", "kubernetes-super-admin"))
    for name, user in (("kubelet.conf", f"system:node:{cfg['node_name']}"),
                       ("controller-manager.conf", "system:kube-controller-manager"),
                       ("scheduler.conf", "system:kube-scheduler")):
        pki.write_private(etc / name, pki.kubeconfig(server, ca_pem, user,
                                                     cert_file="/var/lib/kubelet/pki/kubelet-client-current.pem"))
    for manifest in preflight.MANIFESTS:
        pki.write_private(etc / "manifests" / f"{manifest}.yaml", _static_pod(manifest, cfg))
    pki.make_etcd_pki(cfg["encryption_algorithm"])
    pki.write_private(Path("/var/lib/etcd/member/snap/db"), "kwizard lab: etcd placeholder\n")
    pki.write_private(Path("/var/lib/kubelet/config.yaml"), "# kwizard lab placeholder\nkind: KubeletConfiguration\n")
    common.take_time("init", since=work_started)  # then the API server answers: ports held, the cluster exists
    listener.start(listener.CONTROL_PLANE_PORTS)
    set_kubelet(True)
    token = cfg["token"] or new_token()
    certificate_key = secrets.token_hex(32) if "upload-certs" in flags else None
    with common.locked_state() as state:
        state.update(common.empty_state(), images=state.get("images", {}))  # containerd's images outlive a cluster
        state["cluster"] = {
            "endpoint": endpoint, "advertise_address": address, "bind_port": port, "control_plane": cfg["node_name"],
            "control_plane_endpoint": cfg["control_plane_endpoint"], "pod_subnet": cfg["pod_subnet"],
            "service_subnet": cfg["service_subnet"], "kubernetes_version": version, "ca_pem": ca_pem.decode(),
            "ca_hash": pki.ca_hash(ca_pem), "tokens": [{"token": token, "expires": time.time() + 86400}],
            "created": time.time(), "init_config": cfg, "certs": kubeadm_certs.initial(time.time()),
        }
        register_node(state, cfg["node_name"], cfg["node_ip"] or address, control_plane=True)
        cluster = state["cluster"]
    shown = "<value withheld>" if "skip-token-print" in flags else token
    _print_phases(cfg, shown, certificate_key)
    _print_success(cluster, shown, certificate_key)
    return 0


def _static_pod(manifest: str, cfg: dict) -> str:
    """A placeholder static Pod (nothing runs it), with the flags kubeadm writes that others read back."""
    text = f"# kwizard lab: placeholder for the {manifest} static Pod (nothing runs it)\n"
    if manifest != "kube-controller-manager":
        return text
    flags = [f"--service-cluster-ip-range={cfg.get('service_subnet') or '10.96.0.0/12'}"]
    if cfg.get("pod_subnet"):  # like kubeadm: node CIDRs are allocated only when a podSubnet was given
        flags += ["--allocate-node-cidrs=true", f"--cluster-cidr={cfg['pod_subnet']}"]
    return text + "spec:\n  containers:\n  - command:\n    - kube-controller-manager\n" + "".join(
        f"    - {flag}\n" for flag in flags)
