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
    cut_after: str | None = None  # a command containing this runs to the end, then the connection drops before its exit status
    reboot_after: str | None = None  # a command containing this finishes, then the host reboots (connection drops)
    # A distribution (sim/distros.py: debian-12, ubuntu-24.04, rocky-9, fedora-41): /etc/os-release, its
    # package manager and repositories, SELinux, firewalld, swap as that system has them. None: the lab's
    # default host (the machine's own /etc, both apt-get and dnf, lenient package managers).
    distro: str | None = None
    fstab_swap: bool = False  # /etc/fstab lists the swap, so it comes back after a reboot unless commented out


@dataclass(frozen=True)
class Scenario:
    name: str = "default"
    default: HostOptions = HostOptions()
    hosts: dict[int, HostOptions] = field(default_factory=dict)
    control_planes: int = 1  # the first N hosts are control planes in the profile
    # Opt-in realistic durations (sim/common.py DURATIONS, table in README.md); None: the environment's
    # KWIZARD_LAB_DURATIONS=realistic / KWIZARD_LAB_TIME_SCALE decide, else off.
    durations: str | None = None
    time_scale: float | None = None

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
    # Faults after the work: the command completed on the host, then the connection dropped / the host rebooted.
    "cut-after-init": Scenario("cut-after-init").with_host(0, cut_after="kubeadm init"),
    "reboot-after-init": Scenario("reboot-after-init").with_host(0, reboot_after="kubeadm init", swap_on=True,
                                                               fstab_swap=True),
    "realistic": Scenario("realistic", durations="realistic", time_scale=0.01),
}


def _distro(name: str, **extra) -> Scenario:
    """A fresh install of that distribution: swap on, no Kubernetes packages, no container runtime."""
    return Scenario(name, default=HostOptions(distro=name, k8s_installed=False, swap_on=True, **extra))


NAMED.update({
    "debian-12": _distro("debian-12", fstab_swap=True),
    "ubuntu-24.04": _distro("ubuntu-24.04", fstab_swap=True),
    "rocky-9": _distro("rocky-9", fstab_swap=True, firewalld_running=True),
    "fedora-41": _distro("fedora-41", firewalld_running=True),  # swap on zram, not in /etc/fstab
})


def named(name: str) -> Scenario:
    try:
        return NAMED[name]
    except KeyError:
        raise ValueError(f"unknown scenario {name!r}; known: {', '.join(sorted(NAMED))}") from None
