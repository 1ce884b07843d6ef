"""Join commands: parsed from what kubeadm prints, checked for kubeadm's exact shape, and pinned to the CA.

Pure: no SSH, no files. `parse_join_command` reads `kubeadm init` and `kubeadm
token create --print-join-command` output; `ca_cert_hash` is kubeadm's pin
(SHA-256 of the CA's DER SubjectPublicKeyInfo) and `verify_join_command`
refuses a command pinned to another CA. Formats: KUBEADM.md.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from kwizard.run.masking import BOOTSTRAP_TOKEN_RE, mask_known_secrets

FRESH_JOIN_COMMAND = "kubeadm token create --print-join-command"
_WITHHELD = "<value withheld>"  # what kubeadm prints instead of a secret under --skip-token-print

_ENDPOINT_RE = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?):\d{1,5}$")
_CA_HASH_RE = re.compile(r"^sha256:[0-9a-f]{64}$")
_CERTIFICATE_KEY_VALUE_RE = re.compile(r"^[0-9a-f]{64}$")


# --- join commands ---


class JoinCommandError(ValueError):
    """The text holds no usable `kubeadm join` command; the message says why and what to do."""


class TokenWithheldError(JoinCommandError):
    pass


class CAHashMismatch(JoinCommandError):
    def __init__(self, expected: tuple[str, ...], actual: str):
        self.expected, self.actual = expected, actual
        super().__init__(
            f"the join command pins the CA as {', '.join(expected)}, but the control plane's CA "
            f"(/etc/kubernetes/pki/ca.crt) hashes to {actual}: the command belongs to another cluster "
            f"or the CA was regenerated; get a fresh one with `{FRESH_JOIN_COMMAND}`"
        )


@dataclass(frozen=True)
class JoinCommand:
    endpoint: str  # host:port of the API server
    token: str = field(repr=False)
    ca_cert_hashes: tuple[str, ...]
    control_plane: bool = False
    certificate_key: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        # The command is run as root on every worker: refuse anything that is
        # not exactly kubeadm's shape, so tampered text cannot smuggle shell in.
        if not _ENDPOINT_RE.match(self.endpoint):
            raise JoinCommandError(f"API endpoint {self.endpoint!r} is not host:port (e.g. 10.0.0.1:6443)")
        if not BOOTSTRAP_TOKEN_RE.fullmatch(self.token):
            raise JoinCommandError("the --token value is not a bootstrap token (6 + 16 lowercase letters/digits)")
        if not self.ca_cert_hashes:
            raise JoinCommandError(
                "the join command has no --discovery-token-ca-cert-hash; kwizard joins only after "
                f"verifying the control plane's CA: get a complete command with `{FRESH_JOIN_COMMAND}`"
            )
        for pin in self.ca_cert_hashes:
            if not _CA_HASH_RE.match(pin):
                raise JoinCommandError(f"CA hash {pin!r} is not sha256:<64 lowercase hex>")
        if self.certificate_key is not None:
            if not self.control_plane:
                raise JoinCommandError("--certificate-key belongs only to a --control-plane join")
            if not _CERTIFICATE_KEY_VALUE_RE.match(self.certificate_key):
                raise JoinCommandError("the --certificate-key value is not 64 hex digits")

    def command(self) -> str:
        """The one-line shell command, e.g. for a worker to run as root."""
        parts = ["kubeadm", "join", self.endpoint, "--token", self.token]
        for pin in self.ca_cert_hashes:
            parts += ["--discovery-token-ca-cert-hash", pin]
        if self.control_plane:
            parts.append("--control-plane")
        if self.certificate_key:
            parts += ["--certificate-key", self.certificate_key]
        return " ".join(parts)

    @property
    def secrets(self) -> tuple[str, ...]:
        """Strings the runner must mask wherever they show up.

        The token's id (before the dot) is left out on purpose: it is not
        secret, and keeping it readable says which token was used.
        """
        found = [self.token.partition(".")[2]]
        if self.certificate_key:
            found.append(self.certificate_key)
        return tuple(found)

    def masked(self) -> str:
        """The command as safe to show or log: token id kept, its secret and any certificate key hidden."""
        return mask_known_secrets(self.command(), self.secrets)

    def __str__(self) -> str:  # never print the token by accident
        return self.masked()


def parse_join_commands(text: str) -> list[JoinCommand]:
    """Every `kubeadm join` command in `kubeadm init` or `token create --print-join-command` output, in order."""
    commands = [_parse_join_args(args) for args in _join_argument_lists(text)]
    if not commands:
        raise JoinCommandError(
            "no `kubeadm join` command found in the output; on the control plane, "
            f"`{FRESH_JOIN_COMMAND}` prints a fresh one"
        )
    return commands


def parse_join_command(text: str, *, control_plane: bool = False) -> JoinCommand:
    """The worker join command (or the control-plane one when asked) from kubeadm's output."""
    commands = parse_join_commands(text)
    for command in commands:
        if command.control_plane == control_plane:
            return command
    wanted, found = ("control-plane", "worker") if control_plane else ("worker", "control-plane")
    raise JoinCommandError(
        f"the output has only a {found} join command, no {wanted} one"
        + ("" if control_plane else "; drop --control-plane and --certificate-key to join a worker")
    )


def _join_argument_lists(text: str) -> list[list[str]]:
    """Arguments after each `kubeadm join`, with kubeadm's `\\`-newline-indent continuations undone."""
    text = text.replace("\r\n", "\n")
    text = re.sub(r"\\[ \t]*\n[ \t]*", " ", text)
    text = text.replace(_WITHHELD, "<value-withheld>")  # one word, so splitting keeps it whole
    return [match[1].split() for match in re.finditer(r"\bkubeadm\s+join\b([^\n]*)", text)]


def _parse_join_args(args: list[str]) -> JoinCommand:
    endpoint, token, key, pins, control_plane = None, None, None, [], False
    words = iter(_split_equals(args))
    for word in words:
        if word == "--token":
            token = next(words, None)
        elif word == "--discovery-token-ca-cert-hash":
            pins.append(next(words, "").lower())
        elif word == "--certificate-key":
            key = next(words, None)
        elif word == "--control-plane":
            control_plane = True
        elif word.startswith("-"):
            continue  # a flag kwizard does not use (e.g. --v=5 in a pasted command)
        elif endpoint is None:
            endpoint = word
        else:
            break  # prose or another command follows on the same line
    _refuse_withheld(token, key)
    if endpoint is None or token is None:
        missing = "API endpoint (host:port)" if endpoint is None else "--token"
        raise JoinCommandError(
            f"the `kubeadm join` command has no {missing}; run `{FRESH_JOIN_COMMAND}` for a complete one"
        )
    return JoinCommand(endpoint, token, tuple(pins), control_plane, key)


def _split_equals(args: list[str]) -> list[str]:
    """`--token=x` -> `--token`, `x`."""
    split: list[str] = []
    for arg in args:
        split.extend(arg.split("=", 1) if arg.startswith("--") and "=" in arg else [arg])
    return split


def _refuse_withheld(token: str | None, key: str | None) -> None:
    if "<value-withheld>" in (token, key):
        what = "token" if token == "<value-withheld>" else "certificate key"
        raise TokenWithheldError(
            f"kubeadm withheld the {what} (it ran with --skip-token-print), so this join command cannot be used; "
            f"on the control plane run `{FRESH_JOIN_COMMAND}` for one with the token"
        )


# --- the CA pin ---


def ca_cert_hash(pem: bytes | str) -> str:
    """kubeadm's CA pin: sha256 of the DER SubjectPublicKeyInfo (any key type, not just RSA)."""
    data = pem.encode() if isinstance(pem, str) else pem
    try:
        cert = x509.load_pem_x509_certificate(data) if b"-----BEGIN" in data else x509.load_der_x509_certificate(data)
    except ValueError as error:
        raise ValueError(
            f"the CA certificate could not be read ({error}); expected /etc/kubernetes/pki/ca.crt"
        ) from None
    spki = cert.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return "sha256:" + hashlib.sha256(spki).hexdigest()


def verify_join_command(join: JoinCommand, ca_pem: bytes | str) -> None:
    """Raise CAHashMismatch unless one of the join command's pins matches this CA."""
    actual = ca_cert_hash(ca_pem)
    if actual not in join.ca_cert_hashes:
        raise CAHashMismatch(join.ca_cert_hashes, actual)
