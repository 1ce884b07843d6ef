"""Hosts that answer without a network: HostCheck values shaped like the real facts give them."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from kwizard.facts.hostnet import HostNetwork, InterfaceAddress, Route
from kwizard.profile.model import Profile
from kwizard.screens.connections import HostCheck, HostKeyQuestion, check_from_error
from kwizard.screens.steps.welcome import ProfileFolder
from kwizard.ssh import AuthRefused, HostKeyChanged, HostUnreachable, KeyFileProblem

# Fixed details, so screenshots do not depend on anything real.
HEALTHY_DETAILS = (
    "OS        Ubuntu 24.04.2 LTS (kernel 6.8.0-60-generic)",
    "sudo      works",
    "kubeadm   v1.33.2",
    "kubelet   v1.33.2",
    "swap      off",
    "runtime   unix:///run/containerd/containerd.sock",
)


def host_network(host: str, address: str, lan: str | None = None, tun: bool = False) -> HostNetwork:
    """eth0 with `address`/24 and the default route; optionally a LAN interface ens4 and a VPN tun0."""
    addresses = [InterfaceAddress("eth0", ipaddress.ip_interface(f"{address}/24"))]
    routes = [Route(None, "tun0" if tun else "eth0", gateway=ipaddress.ip_address(address.rsplit(".", 1)[0] + ".1"))]
    if lan:
        addresses.append(InterfaceAddress("ens4", ipaddress.ip_interface(lan)))
    if tun:
        addresses.append(InterfaceAddress("tun0", ipaddress.ip_interface("10.8.0.2/24")))
    return HostNetwork(host, tuple(addresses), tuple(routes))


def healthy(host: str, address: str, lan: str | None = None, tun: bool = False) -> HostCheck:
    return HostCheck(host, True, "✓ Ubuntu 24.04.2 LTS", HEALTHY_DETAILS, network=host_network(host, address, lan, tun))


def sudo_refused(check: HostCheck) -> HostCheck:
    """A host that answered but whose sudo asked for a password it did not get."""
    details = tuple("sudo      REFUSED: sudo asked for a password" if d.startswith("sudo") else d for d in check.details)
    return replace(check, summary="! no sudo", details=details, sudo_refused=True)


FAILURES = {
    "refused": lambda h, a: HostUnreachable(h, f"cannot connect to {a}:22: Connection refused", "check the host is up and sshd runs"),
    "timeout": lambda h, a: HostUnreachable(h, f"no SSH answer from {a}:22 within 10s", "check the host is up"),
    "auth": lambda h, a: AuthRefused(h, f"{a} refused 'ubuntu' with your agent's and default keys: Permission denied", "install the public key (ssh-copy-id ubuntu@{a})"),
    "key file": lambda h, a: KeyFileProblem(h, "the SSH key file /home/me/.ssh/id_missing (ssh.identity_file) does not exist", "set ssh.identity_file to your private key's path (e.g. ~/.ssh/id_ed25519)"),
    "host key": lambda h, a: HostKeyChanged(h, f"HOST KEY CHANGED for {a}: known_hosts has SHA256:old but the host now offers ssh-ed25519 SHA256:new", "confirm the host was reinstalled, then remove the old key"),
}


@dataclass
class FakeFleet:
    """A Gatherer: per host a healthy answer, a failure, or a host-key question first."""

    lan: str | None = None  # the LAN every host also sits on, e.g. 192.168.122.0/24 (host n gets .10+n)
    failures: dict[str, str] = field(default_factory=dict)  # host name -> a FAILURES key
    ask_key_for: tuple[str, ...] = ()  # hosts whose key is new: the user is asked first
    sudo_password: str | None = None  # every host's sudo wants this password (None: passwordless sudo)
    calls: int = 0
    answers: dict[str, bool] = field(default_factory=dict)
    passwords_given: list[str | None] = field(default_factory=list)

    async def __call__(
        self, profile: Profile, ask: HostKeyQuestion, *, sudo_password: str | None = None
    ) -> tuple[dict[str, HostCheck], dict[str, Any]]:
        self.calls += 1
        self.passwords_given.append(sudo_password)
        checks = {}
        for index, host in enumerate(profile.hosts):
            if host.name in self.ask_key_for:
                self.answers[host.name] = await ask(
                    host.name, host.address, "ssh-ed25519", "SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8"
                )
                if not self.answers[host.name]:
                    checks[host.name] = check_from_error(host.name, HostUnreachable(host.name, "host key rejected"))
                    continue
            if host.name in self.failures:
                checks[host.name] = check_from_error(host.name, FAILURES[self.failures[host.name]](host.name, host.address))
                continue
            lan = f"{self.lan.rsplit('.', 1)[0]}.{11 + index}/24" if self.lan else None
            checks[host.name] = healthy(host.name, host.address, lan)
            if self.sudo_password is not None and sudo_password != self.sudo_password:
                checks[host.name] = sudo_refused(checks[host.name])
        return checks, {}


def profile_folder(tmp_path: Path) -> list[ProfileFolder]:
    """A relative 'saved' folder (paths in screenshots must not vary with tmp_path)."""
    return [ProfileFolder(Path("saved"), "saved"), ProfileFolder(Path("profiles"), "./profiles")]
