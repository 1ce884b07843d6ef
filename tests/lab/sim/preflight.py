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
    with socket.socket() as sock:
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


def run_checks(role: str, cri_socket: str) -> tuple[list, list]:
    """(errors, warnings) as (name, message) pairs; role is 'init' or 'join'."""
    errors, warnings = [], []
    if not common.is_root():
        return [("IsPrivilegedUser", "user is not running as root")], []
    if role == "init":
        cpus = os.cpu_count() or 1
        if cpus < 2:
            errors.append(("NumCPU", f"the number of available CPUs {cpus} is less than the required 2"))
        if _mem_mb() < 1700:
            errors.append(("Mem", f"the system RAM ({_mem_mb()} MB) is less than the minimum 1700 MB"))
    services = common.services()
    if services.get("firewalld", {}).get("active"):
        ports = "[6443 10250]" if role == "init" else "[10250]"
        warnings.append(("Firewalld", f"firewalld is active, please ensure ports {ports} are open or your cluster may not function correctly"))
    if _swap_on():
        warnings.append(("Swap", "swap is supported for cgroup v2 only. The kubelet must be properly configured to use swap. "
                                 "Please refer to https://kubernetes.io/docs/concepts/architecture/nodes/#swap-memory, "
                                 "or disable swap on the node"))
    path = cri_socket.removeprefix("unix://")
    if not Path(path).exists():
        errors.append(("CRI", f'could not connect to the container runtime: validate service connection: validate CRI v1 runtime API '
                              f'for endpoint "{cri_socket}": rpc error: code = Unavailable desc = connection error: desc = '
                              f'"transport: Error while dialing: dial unix {path}: connect: no such file or directory"'))
    if not services.get("kubelet", {}).get("enabled"):
        warnings.append(("Service-Kubelet", "kubelet service is not enabled, please run 'systemctl enable kubelet.service'"))
    ports = CONTROL_PLANE_PORTS if role == "init" else (10250,)
    for port in ports:
        if _port_in_use(port):
            errors.append((f"Port-{port}", f"Port {port} is in use"))
    if role == "init":
        for name in MANIFESTS:
            manifest = f"/etc/kubernetes/manifests/{name}.yaml"
            if Path(manifest).exists():
                errors.append((f"FileAvailable-{manifest.replace('/', '-')}", f"{manifest} already exists"))
        etcd = Path("/var/lib/etcd")
        if etcd.is_dir() and any(etcd.iterdir()):
            errors.append(("DirAvailable--var-lib-etcd", "/var/lib/etcd is not empty"))
    else:
        for existing in ("/etc/kubernetes/kubelet.conf", "/etc/kubernetes/pki/ca.crt"):
            if Path(existing).exists():
                errors.append((f"FileAvailable-{existing.replace('/', '-')}", f"{existing} already exists"))
    for binary in ("ip", "mount", "nsenter"):
        if not shutil.which(binary):
            errors.append((f"FileExisting-{binary}", f"{binary} not found in system path"))
    # iptables is an error for the real kubeadm; the lab reports it as a warning so a
    # machine without iptables can still run labs (documented in tests/lab/README.md).
    for binary in ("iptables", "ethtool", "socat", "tc", "touch"):
        if not shutil.which(binary):
            warnings.append((f"FileExisting-{binary}", f"{binary} not found in system path"))
    try:
        if Path("/proc/sys/net/ipv4/ip_forward").read_text().strip() != "1":
            errors.append(("FileContent--proc-sys-net-ipv4-ip_forward",
                           "/proc/sys/net/ipv4/ip_forward contents are not set to 1"))
    except OSError:
        errors.append(("FileContent--proc-sys-net-ipv4-ip_forward", "/proc/sys/net/ipv4/ip_forward does not exist"))
    try:
        socket.gethostbyname(socket.gethostname())
    except OSError:
        warnings.append(("Hostname", f'hostname "{socket.gethostname()}" could not be reached'))
    return errors, warnings


def report(role: str, cri_socket: str, ignored: set[str]) -> bool:
    """Print the checks the way kubeadm does; False when fatal errors remain."""
    print("[preflight] Running pre-flight checks", flush=True)
    errors, warnings = run_checks(role, cri_socket)
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
