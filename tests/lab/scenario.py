"""What a lab looks like: per-host options (extra interfaces, faults) and named presets.

A `Scenario` holds one `HostOptions` per host index that differs from the default;
hosts not named get `default`. Faults set here are the same ones `Lab.set_fault`
switches on while a lab runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace


@dataclass(frozen=True)
class HostOptions:
    # Extra interfaces, inside the host's namespace only (dummy/tun devices: they never send anywhere).
    tun0: bool = False  # a VPN-like tun0 (10.8.0.2/24) holding the default route
    docker0: bool = False  # a docker0-like bridge 172.17.0.1/16
    lan: bool = False  # ens4 with 192.168.122.(10+n)/24, the seed's KVM LAN
    # Machine identity; None means "unique per host".
    hostname: str | None = None
    product_uuid: str | None = None
    machine_id: str | None = None
    # Faults (see faults.py for what each does).
    swap_on: bool = False
    firewalld_running: bool = False
    sudo_password: str | None = None  # sudo asks for this password (NOPASSWD otherwise)
    ssh_down: bool = False
    host_key_changed: bool = False  # known_hosts holds the key from "first contact"; sshd now has another
    cut_during: str | None = None  # drop the SSH connection while a command containing this runs
    hang: str | None = None  # a command containing this never finishes
    k8s_installed: bool = True  # False: no kubeadm/kubectl/kubelet on PATH until apt-get/dnf install


@dataclass(frozen=True)
class Scenario:
    name: str = "default"
    default: HostOptions = HostOptions()
    hosts: dict[int, HostOptions] = field(default_factory=dict)
    control_planes: int = 1  # the first N hosts are control planes in the profile

    def for_host(self, index: int) -> HostOptions:
        return self.hosts.get(index, self.default)

    def with_host(self, index: int, **changes) -> "Scenario":
        hosts = dict(self.hosts)
        hosts[index] = replace(self.for_host(index), **changes)
        return replace(self, hosts=hosts)


# Presets for `python -m tests.lab up --scenario NAME` and for tests that want a
# well-known broken fleet. Host 0 is the control plane.
_DUP_UUID = "4c4c4544-0042-3510-8052-b4c04f4b4c31"
NAMED: dict[str, Scenario] = {
    "default": Scenario(),
    "vpn": Scenario("vpn").with_host(0, tun0=True),
    "docker": Scenario("docker", default=HostOptions(docker0=True)),
    "seed-lan": Scenario("seed-lan", default=HostOptions(lan=True)),
    "swap": Scenario("swap", default=HostOptions(swap_on=True)),
    "firewalld": Scenario("firewalld", default=HostOptions(firewalld_running=True)),
    "sudo-password": Scenario("sudo-password", default=HostOptions(sudo_password="lab-sudo-pw")),
    "ssh-down": Scenario("ssh-down").with_host(1, ssh_down=True),
    "host-key-changed": Scenario("host-key-changed").with_host(0, host_key_changed=True),
    "cut-init": Scenario("cut-init").with_host(0, cut_during="kubeadm init"),
    "hang-pull": Scenario("hang-pull").with_host(0, hang="kubeadm config images pull"),
    "duplicate-uuid": Scenario("duplicate-uuid").with_host(0, product_uuid=_DUP_UUID).with_host(1, product_uuid=_DUP_UUID),
    "duplicate-hostname": Scenario("duplicate-hostname").with_host(1, hostname="kw-node-1").with_host(2, hostname="kw-node-1"),
    "no-packages": Scenario("no-packages", default=HostOptions(k8s_installed=False)),
}


def named(name: str) -> Scenario:
    try:
        return NAMED[name]
    except KeyError:
        raise ValueError(f"unknown scenario {name!r}; known: {', '.join(sorted(NAMED))}") from None
