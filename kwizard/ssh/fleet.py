"""Connect to each host once, check its key, run scripts.

`Fleet` holds one connection per profile host, opened on first use and reused
by every step. Host keys are always checked against the profile's
known_hosts file: under `strict` an unknown key is refused; under
`accept-new` it is added only after the `decide_host_key` callback says yes
(the TUI shows the fingerprint, headless passes an explicit flag). A key that
differs from the recorded one is refused under every policy.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

from kwizard.ssh.loading import asyncssh  # asyncssh, without its slow library search (loading.py)

from kwizard.ssh import known_hosts
from kwizard.profile.model import HostKeyPolicy, Profile
from kwizard.ssh.session import SSHSession
from kwizard.ssh.errors import (
    AuthRefused,
    KeyFileProblem,
    ConnectionLost,
    HostKeyChanged,
    HostKeyUnknown,
    HostUnreachable,
    SSHError,
)

# (host name, address, key type, SHA256 fingerprint) -> trust it?
HostKeyDecision = Callable[[str, str, str, str], Awaitable[bool]]


async def refuse_new_keys(host: str, address: str, key_type: str, fingerprint: str) -> bool:
    return False


async def accept_new_keys(host: str, address: str, key_type: str, fingerprint: str) -> bool:
    """For headless runs given an explicit --accept-new-host-keys; never the default."""
    return True


def sudo_password_from_env(profile: Profile) -> str | None:
    """The run-time sudo password, when the profile names an environment variable for it."""
    name = profile.ssh.sudo_password_env
    return os.environ.get(name) or None if name else None


def _check_key_file(host: str, path: Path) -> None:
    """A missing or unreadable key is the workstation's problem, said before connecting (not "host unreachable")."""
    if not path.exists():
        raise KeyFileProblem(host, f"the SSH key file {path} (ssh.identity_file) does not exist",
                             "set ssh.identity_file to your private key's path (e.g. ~/.ssh/id_ed25519)")
    if not path.is_file() or not os.access(path, os.R_OK):
        raise KeyFileProblem(host, f"the SSH key file {path} (ssh.identity_file) is not a readable file",
                             "check its path and permissions (it should be yours, mode 0600)")


class _KeyRecorder(asyncssh.SSHClient):
    """Keeps the key a server offered when known_hosts did not trust it (to show its fingerprint)."""

    def __init__(self) -> None:
        self.offered: asyncssh.SSHKey | None = None

    def validate_host_public_key(self, host: str, addr: str, port: int, key: asyncssh.SSHKey) -> bool:
        self.offered = key
        return False


# SSH handshakes in flight at once to one sshd (one address and port), below OpenSSH's MaxStartups 10.
# MaxStartups counts a server's own unauthenticated connections (sshd_config(5)), so the bound is per
# server: different hosts handshake all at once, as parallel-ssh and ansible open them.
MAX_HANDSHAKES = 8


class Fleet:
    """One SSH connection per host of a profile, opened lazily, shared by every step."""

    def __init__(
        self,
        profile: Profile,
        *,
        decide_host_key: HostKeyDecision | None = None,
        sudo_password: str | None = None,
        ssh_config: Sequence[str] | tuple[()] = (),  # () reads ~/.ssh/config; [] reads none
        use_agent: bool = True,
        keepalive_interval: float = 15.0,
        sudo_timeout: float = 15.0,
    ):
        self.profile = profile
        self._decide = decide_host_key or refuse_new_keys
        self._sudo_password = sudo_password if sudo_password is not None else sudo_password_from_env(profile)
        self._ssh_config = ssh_config
        self._use_agent = use_agent
        self._keepalive = keepalive_interval
        self._sudo_timeout = sudo_timeout
        self._known_hosts = known_hosts.known_hosts_path(profile)
        self._sessions: dict[str, SSHSession] = {}
        self._opening: dict[str, asyncio.Task[SSHSession]] = {}
        self._jump: asyncssh.SSHClientConnection | None = None
        self._jump_lock = asyncio.Lock()
        self._decision_lock = asyncio.Lock()  # one fingerprint question on screen at a time
        # sshd's MaxStartups (10:30:100 by default) drops unauthenticated connections beyond ~10 at once
        self._handshakes: dict[tuple[str, int], asyncio.Semaphore] = {}

    @property
    def secrets(self) -> tuple[str, ...]:
        """Text the runner must mask everywhere (the sudo password, if one was given)."""
        return (self._sudo_password,) if self._sudo_password else ()

    async def session(self, name: str) -> SSHSession:
        """The open session to host `name`; opens it on first use, reopens it after a loss."""
        current = self._sessions.get(name)
        if current is not None and not current.closed:
            return current
        task = self._opening.get(name)
        if task is None:
            task = asyncio.ensure_future(self._open_session(name))
            self._opening[name] = task
        try:
            session = await asyncio.shield(task)
        finally:
            if task.done():
                self._opening.pop(name, None)
        self._sessions[name] = session
        return session

    async def open_all(self) -> dict[str, SSHSession | SSHError]:
        """Connect to every host at once; a host that fails gives its error, not an exception."""
        names = [h.name for h in self.profile.hosts]
        results = await asyncio.gather(*(self.session(n) for n in names), return_exceptions=True)
        return {name: _session_or_error(name, result) for name, result in zip(names, results)}

    async def close(self) -> None:
        for session in list(self._sessions.values()):
            await session.close()
        self._sessions.clear()
        if self._jump is not None:
            self._jump.close()
            await self._jump.wait_closed()
            self._jump = None

    async def __aenter__(self) -> Fleet:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # --- opening connections ---

    async def _open_session(self, name: str) -> SSHSession:
        host = next((h for h in self.profile.hosts if h.name == name), None)
        if host is None:
            raise KeyError(f"no host named {name!r} in profile {self.profile.name!r}")
        tunnel = await self._jump_connection() if self.profile.ssh.jump_host else None
        user = self.profile.user_for(host)
        conn = await self._connect(name, host.address, self.profile.port_for(host), user, tunnel)
        use_sudo = self.profile.ssh.sudo and user != "root"
        return SSHSession(
            name, conn, use_sudo=use_sudo, sudo_password=self._sudo_password, sudo_timeout=self._sudo_timeout
        )

    async def _jump_connection(self) -> asyncssh.SSHClientConnection:
        """The jump host, connected once and checked against the same known_hosts as the nodes."""
        async with self._jump_lock:
            if self._jump is None or self._jump.is_closed():
                spec = self.profile.ssh.jump_host or ""
                user, _, rest = spec.rpartition("@")
                address, _, port = rest.partition(":") if rest.count(":") == 1 else (rest, "", "")
                label = f"jump host {address}"
                self._jump = await self._connect(label, address, int(port or 22), user or self.profile.ssh.user, None)
            return self._jump

    async def _connect(
        self, name: str, address: str, port: int, user: str, tunnel: asyncssh.SSHClientConnection | None
    ) -> asyncssh.SSHClientConnection:
        if self.profile.ssh.identity_file:
            _check_key_file(name, Path(self.profile.ssh.identity_file).expanduser())
        known_hosts.ensure_file(self._known_hosts)
        for _attempt in range(2):  # the second try follows a key just accepted
            recorder = _KeyRecorder()
            try:
                slot = self._handshakes.setdefault((address, port), asyncio.Semaphore(MAX_HANDSHAKES))
                async with slot:  # held for the handshake only, never while a person is asked
                    return await self._attempt(address, port, user, tunnel, recorder)
            except asyncssh.HostKeyNotVerifiable:
                await self._settle_untrusted_key(name, address, port, recorder.offered)
            except asyncssh.KeyExchangeFailed as error:
                await self._explain_key_exchange(name, address, port, tunnel, error)
            except asyncssh.KeyImportError as error:
                raise KeyFileProblem(
                    name,
                    f"the key file {self.profile.ssh.identity_file} cannot be used: {_reason(error)}",
                    "kwizard cannot ask for a key's passphrase: load the key into ssh-agent (ssh-add), "
                    "or set ssh.identity_file to a key without one",
                ) from None
            except asyncssh.PermissionDenied as error:
                raise _auth_refused(name, user, address, self.profile.ssh.identity_file, error) from None
            except (TimeoutError, asyncio.TimeoutError):
                raise HostUnreachable(
                    name,
                    f"no SSH answer from {address}:{port} within {self.profile.ssh.connect_timeout:g}s",
                    "check the host is up and the address/port are right (ssh.connect_timeout sets the wait)",
                ) from None
            except (OSError, asyncssh.Error) as error:
                raise HostUnreachable(
                    name, f"cannot connect to {address}:{port}: {_reason(error)}", "check the host is up and sshd runs"
                ) from None
        raise HostKeyUnknown(name, f"{address}:{port} still offers an untrusted key after it was accepted")

    async def _attempt(
        self,
        address: str,
        port: int,
        user: str,
        tunnel: asyncssh.SSHClientConnection | None,
        recorder: _KeyRecorder,
    ) -> asyncssh.SSHClientConnection:
        identity = self.profile.ssh.identity_file
        options: dict = dict(
            port=port,
            username=user,
            known_hosts=str(self._known_hosts),  # never None: None would switch checking off
            config=self._ssh_config,
            connect_timeout=self.profile.ssh.connect_timeout,
            keepalive_interval=self._keepalive,
            keepalive_count_max=3,
            client_factory=lambda: recorder,
        )
        if identity:
            options["client_keys"] = [str(Path(identity).expanduser())]
        if not self._use_agent:
            options["agent_path"] = None
        if tunnel is not None:
            options["tunnel"] = tunnel
        return await asyncssh.connect(address, **options)

    def _trusted_keys(self, address: str, port: int) -> list[asyncssh.SSHKey]:
        matched = asyncssh.match_known_hosts(str(self._known_hosts), address, address, None if port == 22 else port)
        return list(dict.fromkeys(matched[0]))  # a key can match twice: by name and by address

    async def _settle_untrusted_key(
        self, name: str, address: str, port: int, offered: asyncssh.SSHKey | None
    ) -> None:
        """Raise for a changed or refused key; return once a new key is accepted and recorded."""
        key_type = offered.get_algorithm() if offered else "unknown"
        fingerprint = offered.get_fingerprint("sha256") if offered else "(not shown by the server)"
        known = self._trusted_keys(address, port)
        if known:
            raise self._changed(name, address, port, key_type, tuple(k.get_fingerprint("sha256") for k in known), fingerprint)
        if offered is None or self.profile.ssh.host_key_policy is not HostKeyPolicy.ACCEPT_NEW:
            raise self._unknown(name, address, port, key_type, fingerprint)
        async with self._decision_lock:
            if not await self._decide(name, address, key_type, fingerprint):
                raise self._unknown(name, address, port, key_type, fingerprint, declined=True)
            key_line = offered.export_public_key("openssh").decode("ascii")
            known_hosts.append_entry(self._known_hosts, address, port, key_line)

    async def _explain_key_exchange(
        self, name: str, address: str, port: int, tunnel: asyncssh.SSHClientConnection | None, error: Exception
    ) -> None:
        """A failed key exchange with recorded keys means the server no longer has that key type."""
        known = self._trusted_keys(address, port)
        if not known:
            raise HostUnreachable(name, f"SSH key exchange with {address}:{port} failed: {_reason(error)}") from None
        offered = await asyncssh.get_server_host_key(
            address, port, tunnel=tunnel or (), config=self._ssh_config, connect_timeout=self.profile.ssh.connect_timeout
        )
        fingerprint = offered.get_fingerprint("sha256") if offered else "(not shown by the server)"
        key_type = offered.get_algorithm() if offered else "unknown"
        raise self._changed(name, address, port, key_type, tuple(k.get_fingerprint("sha256") for k in known), fingerprint)

    def _unknown(
        self, name: str, address: str, port: int, key_type: str, fingerprint: str, declined: bool = False
    ) -> HostKeyUnknown:
        where = known_hosts.host_pattern(address, port)
        what = "was not accepted" if declined else f"is not in {self._known_hosts}"
        fix = (
            f"check the fingerprint on the host (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub), then accept it "
            f"(host_key_policy: accept-new and confirm it) or add it with "
            f"`ssh-keyscan -p {port} {address} >> {self._known_hosts}`"
        )
        return HostKeyUnknown(
            name,
            f"the host key of {where} ({key_type} {fingerprint}) {what}",
            fix,
            key_type=key_type,
            fingerprint=fingerprint,
        )

    def _changed(
        self, name: str, address: str, port: int, key_type: str, known: tuple[str, ...], offered: str
    ) -> HostKeyChanged:
        where = known_hosts.host_pattern(address, port)
        message = (
            f"HOST KEY CHANGED for {where}: known_hosts has {', '.join(known)} but the host now offers "
            f"{key_type} {offered}; this may be a reinstalled host or someone in the middle"
        )
        fix = (
            "confirm with the host's owner that it was reinstalled, then remove the old key with "
            f"`{known_hosts.removal_command(self._known_hosts, address, port)}` and connect again"
        )
        return HostKeyChanged(
            name, message, fix, key_type=key_type, known_fingerprints=known, offered_fingerprint=offered
        )


def _auth_refused(name: str, user: str, address: str, identity: str | None, error: Exception) -> AuthRefused:
    key = f"the key {identity}" if identity else "your agent's and default keys"
    return AuthRefused(
        name,
        f"{address} refused {user!r} with {key}: {_reason(error)}",
        f"install the public key for {user} on the host (ssh-copy-id {user}@{address}) or set ssh.identity_file",
    )


def _reason(error: BaseException) -> str:
    reason = getattr(error, "reason", None) or str(error) or type(error).__name__
    return str(reason)


def _session_or_error(name: str, result: SSHSession | BaseException) -> SSHSession | SSHError:
    if isinstance(result, SSHSession | SSHError):
        return result
    if isinstance(result, Exception):
        return ConnectionLost(name, f"unexpected error while connecting: {type(result).__name__}: {result}")
    raise result  # cancellation and interpreter exits are not per-host failures
