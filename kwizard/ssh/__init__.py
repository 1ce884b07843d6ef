"""The one package that speaks asyncssh: connections, host keys, sudo, running scripts, copying files.

Nothing outside kwizard.ssh imports asyncssh; everything else sees `Fleet`,
`SSHSession` (a plan.context.HostSession) and the typed errors of
`kwizard.ssh.errors`. The errors are plain Python and load at once; `Fleet`
and `SSHSession` load asyncssh (about 150 ms) only when first asked for, so
a pure module that names an SSH error does not pay for a connection library.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from kwizard.ssh.errors import (
    AuthRefused,
    CommandTimeout,
    ConnectionLost,
    HostKeyChanged,
    HostKeyUnknown,
    HostUnreachable,
    KeyFileProblem,
    SSHError,
    SudoRefused,
    TransferFailed,
)

if TYPE_CHECKING:
    from kwizard.ssh.fleet import Fleet, HostKeyDecision, accept_new_keys, refuse_new_keys, sudo_password_from_env
    from kwizard.ssh.session import SSHSession

_LAZY = {
    "Fleet": "kwizard.ssh.fleet",
    "HostKeyDecision": "kwizard.ssh.fleet",
    "accept_new_keys": "kwizard.ssh.fleet",
    "refuse_new_keys": "kwizard.ssh.fleet",
    "sudo_password_from_env": "kwizard.ssh.fleet",
    "SSHSession": "kwizard.ssh.session",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'kwizard.ssh' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = [
    "AuthRefused",
    "CommandTimeout",
    "ConnectionLost",
    "Fleet",
    "HostKeyChanged",
    "HostKeyDecision",
    "HostKeyUnknown",
    "HostUnreachable",
    "KeyFileProblem",
    "SSHError",
    "SSHSession",
    "SudoRefused",
    "TransferFailed",
    "accept_new_keys",
    "refuse_new_keys",
    "sudo_password_from_env",
]
