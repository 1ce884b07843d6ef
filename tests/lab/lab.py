"""A running lab: N hosts on one bridge, their keys, and the way to take it all down again.

`start_lab` builds it; `Lab.down` (or leaving the `with` block) removes every
namespace, process, mount and link it made. `destroy` works from names alone,
so a later run can reap what a killed run left (see `reap_stale`).
"""

from __future__ import annotations

import atexit
import ipaddress
import json
import os
import shutil
import signal
import subprocess
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from . import faults, hostfs, naming, netns
from .hosts import LabHost, run_in, start_holder, start_sshd
from .scenario import HostOptions, Scenario
from .sim import common


# Labs this process started and has not taken down: removed at exit even if a
# caller forgot (a killed process is handled by reap_stale in the next run).
_RUNNING: dict[str, "Lab"] = {}


@atexit.register
def _down_leftovers() -> None:
    for lab in list(_RUNNING.values()):
        lab.down()


def _hostname(index: int, scenario: Scenario) -> str:
    options = scenario.for_host(index)
    if options.hostname:
        return options.hostname
    if index < scenario.control_planes:
        return f"kw-cp-{index + 1}"
    return f"kw-node-{index - scenario.control_planes + 1}"


def _process_start(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


class Lab:
    def __init__(self, lab_id: str, subnet: ipaddress.IPv4Network, scenario: Scenario, directory: Path):
        self.id, self.subnet, self.scenario, self.dir = lab_id, subnet, scenario, directory
        self.name = naming.lab_name(lab_id)
        self.hosts: list[LabHost] = []
        self.client_key = directory / "client_key"
        self.known_hosts = directory / "known_hosts"
        self.sim_dir = directory / "sim"
        self.started_seconds = 0.0

    # --- what tests use ---

    def host(self, which: int | str | LabHost) -> LabHost:
        if isinstance(which, LabHost):
            return which
        if isinstance(which, int):
            return self.hosts[which]
        return next(h for h in self.hosts if which in (h.name, h.address, h.netns))

    def exec(self, host, cmd: str, user: str = "root", input: str | None = None,
             timeout: float = 60.0) -> subprocess.CompletedProcess:
        """Run `cmd` with /bin/sh inside the host's namespaces, without SSH (for assertions)."""
        return run_in(self.host(host), cmd, user=user, input=input, timeout=timeout)

    def cluster_state(self) -> dict:
        return common.read_state(self.sim_dir / "state")

    def set_fault(self, host, kind: str, value=True, **args) -> None:
        """set_fault(h, "hang", "kubeadm init") or set_fault(h, "hang", hang="kubeadm init")."""
        faults.set_fault(self.host(host), kind, args.get(kind, value))

    def clear_fault(self, host, kind: str) -> None:
        faults.clear_fault(self.host(host), kind)

    def profile(self, cni: str = "flannel", pod_cidr: str | None = None, **cluster_overrides):
        from .profile import build_profile

        return build_profile(self, cni=cni, pod_cidr=pod_cidr, **cluster_overrides)

    def write_profile(self, path: str | os.PathLike | None = None, **profile_args) -> Path:
        from kwizard.profile import store as profiles

        return profiles.save(self.profile(**profile_args), path or self.dir / "profile.yaml")

    def ssh_command(self, host, user: str | None = None) -> str:
        h = self.host(host)
        return (f"ssh -i {self.client_key} -o UserKnownHostsFile={self.known_hosts} -o StrictHostKeyChecking=yes "
                f"{user or h.user}@{h.address}")

    # --- lifetime ---

    def save(self, persistent: bool = False) -> None:
        """lab.json: enough for `status`, `down` and the reaper to find this lab again."""
        record = {"id": self.id, "subnet": str(self.subnet), "scenario": self.scenario.name,
                  "owner_pid": os.getpid(), "owner_start": _process_start(os.getpid()), "persistent": persistent,
                  "hosts": [h.to_json() for h in self.hosts], "created": time.time()}
        (self.dir / "lab.json").write_text(json.dumps(record, indent=1))

    def down(self) -> None:
        _RUNNING.pop(self.id, None)
        destroy(self.id, [h._holder for h in self.hosts if h._holder])

    def __enter__(self) -> "Lab":
        return self

    def __exit__(self, *exc) -> None:
        self.down()


def _claim(lab_id: str, subnet) -> None:
    directory = naming.lab_root() / naming.lab_name(lab_id)
    directory.mkdir(mode=0o700)
    record = {"id": lab_id, "subnet": str(subnet), "owner_pid": os.getpid(),
              "owner_start": _process_start(os.getpid()), "persistent": False, "hosts": []}
    (directory / "lab.json").write_text(json.dumps(record))


def _start_host(lab: Lab, index: int, public_key: str, ids: tuple[int, int]) -> tuple[LabHost, str]:
    """Bring up one host; returns it and its known_hosts line (the key of first contact)."""
    options: HostOptions = lab.scenario.for_host(index)
    ns, address = netns.create_host_netns(lab.id, index, lab.subnet)
    host = LabHost(name=_hostname(index, lab.scenario), address=address, netns=ns, index=index,
                   dir=lab.dir / f"h{index}", options=options)
    host.dir.mkdir()
    hostfs.make_layers(host.dir)
    hostfs.write_identity(host.dir, host.name, options.machine_id or uuid.uuid4().hex,
                          options.product_uuid or str(uuid.uuid4()))
    password_hash = "*"
    if options.sudo_password:
        password_hash = subprocess.run(["openssl", "passwd", "-6", "-stdin"], input=options.sudo_password,
                                       capture_output=True, text=True, check=True).stdout.strip()
    hostfs.write_users(host.dir, *ids, password_hash=password_hash)
    hostfs.write_sudoers(host.dir, password_required=bool(options.sudo_password))
    hostfs.write_authorized_key(host.dir, public_key, *ids)
    hostfs.write_sshd(host.dir)
    first_key = hostfs.make_host_key(host.dir)
    shutil.copyfile(hostfs.upper(host.dir, hostfs.HOST_KEY), host.dir / "hostkey.orig")
    if options.host_key_changed:
        hostfs.make_host_key(host.dir)  # sshd starts with a key the client has never seen
    if not options.distro:  # a distribution host has no container runtime until one is installed and started
        hostfs.write_cri_socket(host.dir)
    hostfs.write_distro(host.dir, options.distro, options.fstab_swap)
    hostfs.write_sim_mountpoint(host.dir)
    faults.write_control(host, k8s_installed=options.k8s_installed)
    if options.firewalld_running:
        faults.set_fault(host, "firewalld_running")
    for kind in faults.TEXT_FAULTS:
        if getattr(options, kind):
            faults.set_fault(host, kind, getattr(options, kind))
    start_holder(host, lab.sim_dir)
    _extra_interfaces(host, options)
    if not options.ssh_down:
        start_sshd(host)
    key_type, key_data = first_key.split()[:2]
    return host, f"{address} {key_type} {key_data}\n"


def _extra_interfaces(host: LabHost, options: HostOptions) -> None:
    """Inside the namespace only: dummy/tun/tap/bridge devices that can never send a packet out."""
    if options.docker0:
        netns.ip_batch(["link add docker0 type bridge", "addr add 172.17.0.1/16 dev docker0", "link set docker0 up"],
                       netns=host.netns)
    if options.lan:
        address = f"addr add 192.168.122.{10 + host.index}/24 dev ens4"
        try:
            netns.ip_batch(["link add ens4 type dummy", address, "link set ens4 up"], netns=host.netns)
        except RuntimeError:  # kernels without the dummy module: a tap nobody reads (shown NO-CARRIER)
            netns.ip_batch(["tuntap add dev ens4 mode tap", address, "link set ens4 up"], netns=host.netns)
    if options.tun0:
        netns.ip_batch(["tuntap add dev tun0 mode tun", "addr add 10.8.0.2/24 dev tun0", "link set tun0 up",
                        "route replace default dev tun0"], netns=host.netns)


def start_lab(n_hosts: int = 3, scenario: Scenario | None = None, persistent: bool = False) -> Lab:
    """Bring up `n_hosts` hosts (in parallel). On any failure, what was made is removed again."""
    scenario = scenario or Scenario()
    begun = time.monotonic()
    lab_id, subnet = netns.claim_lab(_claim)
    lab = Lab(lab_id, subnet, scenario, naming.lab_root() / naming.lab_name(lab_id))
    try:
        hostfs.copy_simulators(lab.dir)
        hostfs.write_settings(lab.sim_dir, scenario.durations, scenario.time_scale)
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"kwizard-lab-{lab_id}",
                        "-f", str(lab.client_key)], check=True)
        public_key = lab.client_key.with_name("client_key.pub").read_text()
        ids = hostfs.lab_user_ids()
        with ThreadPoolExecutor(max_workers=min(n_hosts, 8)) as pool:
            futures = [pool.submit(_start_host, lab, i, public_key, ids) for i in range(n_hosts)]
            results = [f.result() for f in futures]
        lab.hosts = [host for host, _ in results]
        lab.known_hosts.write_text("".join(line for _, line in results))
        lab.save(persistent)
    except BaseException:
        destroy(lab_id)
        raise
    lab.started_seconds = time.monotonic() - begun
    if not persistent:
        _RUNNING[lab.id] = lab
    return lab


def _comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def _kill_all(ns: str) -> None:
    """SIGKILL everything in the namespace except `unshare`, which exits by itself once the
    host's PID 1 is gone and is then reaped by whoever started it (no zombie left)."""
    for _ in range(100):
        pids = netns.netns_pids(ns)
        if not pids:
            return
        for pid in pids:
            if _comm(pid) != "unshare":
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        time.sleep(0.02)


def destroy(lab_id: str, holders: list | None = None) -> None:
    """Remove a lab by name: kill everything in its namespaces, delete them, the links and the folder."""
    prefix = naming.netns_name(lab_id, 0)[:-1]
    for ns in [n for n in netns.lab_netns_names() if n.startswith(prefix)]:
        _kill_all(ns)
        netns.delete_netns(ns)
    for proc in holders or []:
        proc.wait()  # reap our own children so no zombie is left behind
    for link in netns.lab_links():
        if link.startswith(naming.bridge_name(lab_id)):
            netns.delete_link(link)
    shutil.rmtree(naming.lab_root() / naming.lab_name(lab_id), ignore_errors=True)


def known_labs() -> list[dict]:
    labs = []
    for record in sorted(naming.lab_root().glob(f"{naming.PREFIX}*/lab.json")):
        try:
            labs.append(json.loads(record.read_text()))
        except (OSError, ValueError):
            labs.append({"id": record.parent.name[len(naming.PREFIX):], "broken": True})
    return labs


def _owner_alive(record: dict) -> bool:
    pid = record.get("owner_pid")
    return bool(pid) and _process_start(pid) == record.get("owner_start")


def reap_stale() -> list[str]:
    """Remove labs whose owner died (a killed test run) and lab namespaces/links with no lab folder."""
    reaped = []
    with netns.allocation_lock():
        live = set()
        for record in known_labs():
            if record.get("persistent") or _owner_alive(record):
                live.add(record["id"])
            else:
                destroy(record["id"])
                reaped.append(record["id"])
        orphans = {n[len(naming.PREFIX):len(naming.PREFIX) + 4] for n in netns.lab_netns_names() + netns.lab_links()}
        for lab_id in orphans - live:
            destroy(lab_id)
            reaped.append(lab_id)
    return sorted(set(reaped))
