# kwizard lab simulator support -- NOT a real Kubernetes tool.
# kubeadm's preflight checks, reading the real state of the lab host where it
# matters (ports, /proc/sys/net/ipv4/ip_forward of this netns, /proc/swaps,
# files under /etc/kubernetes) and printing kubeadm's own format.
from __future__ import annotations

import os
import shutil
import socket
import sys
from pathlib import Path

import common

CONTROL_PLANE_PORTS = (6443, 10259, 10257, 10250, 2379, 2380)
MANIFESTS = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "etcd")


def _port_in_use(port: int) -> bool:
    # Go's net.Listen (checks.go PortOpenCheck) sets SO_REUSEADDR on Linux, so sockets left in
    # TIME_WAIT by a reset or a closed connection do not make a port "in use"; only a listener does.
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("0.0.0.0", port))
        except OSError:
            return True
    return False


def _swap_on() -> bool:
    try:
        return len(Path("/proc/swaps").read_text().strip().splitlines()) > 1
    except OSError:
        return False


def _mem_mb() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) // 1024
    return 0


def _minor(version: str) -> tuple[int, int, int]:
    parts = (version.lstrip("v").split("-")[0].split("+")[0].split(".") + ["0", "0"])[:3]
    return tuple(int(p) for p in parts)


def _has_binary(name: str) -> bool:
    """On a distribution host, what its packages installed (packages.py); else the machine's PATH."""
    import packages

    info = packages.distro()
    if info is None:
        return shutil.which(name) is not None
    return packages.has_package(distros_binary_package(info, name))


def distros_binary_package(info: dict, name: str) -> str:
    import distros

    return distros.BINARY_PACKAGE[info["family"]].get(name, name)


def _cri_error(cri_socket: str) -> str | None:
    path = cri_socket.removeprefix("unix://")
    prefix = f'could not connect to the container runtime: validate service connection: validate CRI v1 runtime API ' \
             f'for endpoint "{cri_socket}": rpc error: code = '
    if not Path(path).exists():
        return prefix + (f'Unavailable desc = connection error: desc = "transport: Error while dialing: dial unix {path}: '
                         'connect: no such file or directory"')
    try:
        config = Path("/etc/containerd/config.toml").read_text()
    except OSError:
        config = ""
    if "containerd" in path and 'disabled_plugins = ["cri"]' in config:
        # Docker's containerd.io config switches the CRI plugin off (see ../shared/KUBEADM.md)
        return prefix + "Unimplemented desc = unknown service runtime.v1.RuntimeService"
    return None


def run_checks(role: str, cri_socket: str, kubernetes_version: str = "", node_name: str | None = None,
               control_plane_join: bool = False) -> tuple[list, list]:
    """(errors, warnings) as (name, message) pairs; role is 'init' or 'join'.
    The lists follow cmd/kubeadm/app/preflight/checks.go (InitNodeChecks, JoinNodeChecks, addCommonChecks)
    and checks_linux.go (addExecChecks)."""
    import packages

    errors, warnings = [], []
    strict = packages.distro() is not None
    if not common.is_root():
        return [("IsPrivilegedUser", "user is not running as root")], []
    kubeadm_version = common.tool_version("kubeadm")
    services = common.services()
    if role == "init":
        cpus = os.cpu_count() or 1
        if cpus < 2:
            errors.append(("NumCPU", f"the number of available CPUs {cpus} is less than the required 2"))
        if _mem_mb() < 1700:
            errors.append(("Mem", f"the system RAM ({_mem_mb()} MB) is less than the minimum 1700 MB"))
        # checks.go KubernetesVersionCheck: a control plane newer than the kubeadm is a warning
        k8s, kadm = _minor(kubernetes_version), _minor(kubeadm_version)
        if k8s[:2] > kadm[:2]:
            warnings.append(("KubernetesVersion", "Kubernetes version is greater than kubeadm version. Please consider "
                             f"to upgrade kubeadm. Kubernetes version: {kubernetes_version.lstrip('v')}. Kubeadm "
                             f"version: {kadm[0]}.{kadm[1]}.x"))
        # checks.go FirewalldCheck: init only (JoinNodeChecks has none), ports [bindPort kubeletPort]
        if services.get("firewalld", {}).get("active"):
            warnings.append(("Firewalld", "firewalld is active, please ensure ports [6443 10250] are open or your "
                                          "cluster may not function correctly"))
        for port in (6443, 10259, 10257):
            if _port_in_use(port):
                errors.append((f"Port-{port}", f"Port {port} is in use"))
        for name in MANIFESTS:
            manifest = f"/etc/kubernetes/manifests/{name}.yaml"
            if Path(manifest).exists():
                errors.append((f"FileAvailable-{manifest.replace('/', '-')}", f"{manifest} already exists"))
    else:
        # checks.go JoinNodeChecks: kubelet.conf and bootstrap-kubelet.conf, then the CA unless --control-plane
        for existing in ("/etc/kubernetes/kubelet.conf", "/etc/kubernetes/bootstrap-kubelet.conf"):
            if Path(existing).exists():
                errors.append((f"FileAvailable-{existing.replace('/', '-')}", f"{existing} already exists"))
    # addCommonChecks: CRI, swap, exec checks, hostname, kubelet version, kubelet service, port 10250
    problem = _cri_error(cri_socket)
    if problem:
        errors.append(("CRI", problem))
    if _swap_on():
        warnings.append(("Swap", "swap is supported for cgroup v2 only. The kubelet must be properly configured to use swap. "
                                 "Please refer to https://kubernetes.io/docs/concepts/architecture/nodes/#swap-memory, "
                                 "or disable swap on the node"))
    # checks_linux.go addExecChecks: conntrack is mandatory below 1.32 (join passes no version: not checked)
    if kubernetes_version and _minor(kubernetes_version) < (1, 32, 0) and not _has_binary("conntrack"):
        errors.append(("FileExisting-conntrack", "conntrack not found in system path"))
    for binary in ("ip", "iptables", "mount", "nsenter"):
        if not _has_binary(binary):
            # iptables: on the default lab host (the machine's own binaries) a warning, so a machine without
            # iptables still runs labs (tests/lab/README.md); on a distribution host an error, as upstream.
            (errors if strict or binary != "iptables" else warnings).append(
                (f"FileExisting-{binary}", f"{binary} not found in system path"))
    for binary in ("ebtables", "ethtool", "socat", "tc", "touch"):
        if not _has_binary(binary):
            warnings.append((f"FileExisting-{binary}", f"{binary} not found in system path"))
    # checks.go HostnameCheck on nodeRegistration.name: warnings only
    name = node_name or socket.gethostname()
    try:
        socket.gethostbyname(name)
    except OSError:
        warnings.append(("Hostname", f'hostname "{name}" could not be reached'))
        warnings.append(("Hostname", f'hostname "{name}": lookup {name} on 127.0.0.1:53: no such host'))
    # checks.go KubeletVersionCheck (init passes the control plane version; join passes none)
    kubelet = common.tool_version("kubelet")
    kadm = _minor(kubeadm_version)
    if _minor(kubelet)[:2] < (kadm[0], kadm[1] - 3):
        errors.append(("KubeletVersion", f'Kubelet version "{kubelet.lstrip("v")}" is lower than kubeadm can support. '
                                         "Please upgrade kubelet"))
    elif kubernetes_version and _minor(kubelet)[:2] > _minor(kubernetes_version)[:2]:
        errors.append(("KubeletVersion", "the kubelet version is higher than the control plane version. This is not a "
                       "supported version skew and may lead to a malfunctional cluster. Kubelet version: "
                       f'"{kubelet.lstrip("v")}" Control plane version: "{kubernetes_version.lstrip("v")}"'))
    if not services.get("kubelet", {}).get("enabled"):
        warnings.append(("Service-Kubelet", "kubelet service is not enabled, please run 'systemctl enable kubelet.service'"))
    if _port_in_use(10250):
        errors.append(("Port-10250", "Port 10250 is in use"))
    if role == "join" and not control_plane_join and Path("/etc/kubernetes/pki/ca.crt").exists():
        errors.append(("FileAvailable--etc-kubernetes-pki-ca.crt", "/etc/kubernetes/pki/ca.crt already exists"))
    try:
        if Path("/proc/sys/net/ipv4/ip_forward").read_text().strip() != "1":
            errors.append(("FileContent--proc-sys-net-ipv4-ip_forward",
                           "/proc/sys/net/ipv4/ip_forward contents are not set to 1"))
    except OSError:
        errors.append(("FileContent--proc-sys-net-ipv4-ip_forward", "/proc/sys/net/ipv4/ip_forward does not exist"))
    if role == "init":
        for port in (2379, 2380):
            if _port_in_use(port):
                errors.append((f"Port-{port}", f"Port {port} is in use"))
        etcd = Path("/var/lib/etcd")
        if etcd.is_dir() and any(etcd.iterdir()):
            errors.append(("DirAvailable--var-lib-etcd", "/var/lib/etcd is not empty"))
    return errors, warnings


def report(role: str, cri_socket: str, ignored: set[str], kubernetes_version: str = "", node_name: str | None = None,
           control_plane_join: bool = False) -> bool:
    """Print the checks the way kubeadm does; False when fatal errors remain."""
    print("[preflight] Running pre-flight checks", flush=True)
    errors, warnings = run_checks(role, cri_socket, kubernetes_version, node_name, control_plane_join)
    everything = "all" in ignored
    fatal = []
    for name, message in errors:
        if everything or name.lower() in ignored:
            warnings.append((name, message))
        else:
            fatal.append((name, message))
    for name, message in warnings:
        sys.stderr.write(f"\t[WARNING {name}]: {message}\n")
    if fatal:
        lines = "".join(f"\t[ERROR {name}]: {message}\n" for name, message in fatal)
        sys.stderr.write(
            "error execution phase preflight: [preflight] Some fatal errors occurred:\n" + lines
            + "[preflight] If you know what you are doing, you can make a check non-fatal with "
              "`--ignore-preflight-errors=...`\n"
            + "To see the stack trace of this error execute with --v=5 or higher\n"
        )
        return False
    return True
