"""What can go wrong talking to a host, as typed errors that carry their own fix.

Each error names the host, says what happened in words a person can act on,
and (in `fix`) what to do about it. `kind` is a short stable label the
facts and checks modules report per host.
"""

from __future__ import annotations


class SSHError(Exception):
    kind = "ssh error"

    def __init__(self, host: str, message: str, fix: str = ""):
        super().__init__(message)
        self.host = host
        self.message = message
        self.fix = fix

    def __str__(self) -> str:
        text = f"{self.host}: {self.message}"
        return f"{text} (fix: {self.fix})" if self.fix else text


class HostUnreachable(SSHError):
    kind = "unreachable"


class KeyFileProblem(SSHError):
    """The private key the profile names is missing or unreadable: nothing to do with the host."""

    kind = "key file problem"


class AuthRefused(SSHError):
    kind = "auth refused"


class HostKeyUnknown(SSHError):
    kind = "host key unknown"

    def __init__(self, host: str, message: str, fix: str = "", *, key_type: str = "", fingerprint: str = ""):
        super().__init__(host, message, fix)
        self.key_type = key_type
        self.fingerprint = fingerprint


class HostKeyChanged(SSHError):
    kind = "host key changed"

    def __init__(
        self,
        host: str,
        message: str,
        fix: str = "",
        *,
        key_type: str = "",
        known_fingerprints: tuple[str, ...] = (),
        offered_fingerprint: str = "",
    ):
        super().__init__(host, message, fix)
        self.key_type = key_type
        self.known_fingerprints = known_fingerprints
        self.offered_fingerprint = offered_fingerprint


class SudoRefused(SSHError):
    kind = "sudo refused"


class CommandTimeout(SSHError):
    kind = "timeout"


class ConnectionLost(SSHError):
    kind = "connection lost"


class TransferFailed(SSHError):
    kind = "transfer failed"
