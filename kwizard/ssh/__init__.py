"""The one package that speaks asyncssh: connections, host keys, sudo, running scripts, copying files.

Nothing outside kwizard.ssh imports asyncssh; everything else sees `Fleet`,
`SSHSession` (a steps.HostSession) and the typed errors below.
"""

from kwizard.ssh.errors import (
    AuthRefused,
    CommandTimeout,
    ConnectionLost,
    HostKeyChanged,
    HostKeyUnknown,
    HostUnreachable,
    SSHError,
    SudoRefused,
    TransferFailed,
)
from kwizard.ssh.fleet import Fleet, HostKeyDecision, accept_new_keys, refuse_new_keys, sudo_password_from_env
from kwizard.ssh.session import SSHSession

__all__ = [
    "AuthRefused",
    "CommandTimeout",
    "ConnectionLost",
    "Fleet",
    "HostKeyChanged",
    "HostKeyDecision",
    "HostKeyUnknown",
    "HostUnreachable",
    "SSHError",
    "SSHSession",
    "SudoRefused",
    "TransferFailed",
    "accept_new_keys",
    "refuse_new_keys",
    "sudo_password_from_env",
]
