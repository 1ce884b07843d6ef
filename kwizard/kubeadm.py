"""What kwizard reads from and writes for kubeadm: join commands, the CA pin,
the init config, the version, and preflight failures. Pure: no SSH, no files.

Formats follow upstream kubeadm (KUBEADM.md has the exact text).
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from dataclasses import dataclass, field
from typing import Any

import yaml
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from kwizard.findings import Level
from kwizard.masking import BOOTSTRAP_TOKEN_RE, mask_known_secrets
from kwizard.model import Profile

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


# --- versions and the init config ---

_SHORT_VERSION_RE = re.compile(r"^\s*(v\d+\.\d+\.\d+\S*)\s*$", re.MULTILINE)
_GIT_VERSION_RE = re.compile(r"gitVersion\"?\s*:\s*\"(v\d+\.\d+\.\d+[^\"]*)\"", re.IGNORECASE)
_MINOR_RE = re.compile(r"^v?(\d+)\.(\d+)")
V1BETA4_FROM = (1, 31)  # kubeadm's config API moved to v1beta4 in 1.31


def read_kubeadm_version(output: str) -> str:
    """`v1.33.2` from `kubeadm version -o short`, the long `&version.Info{...}` form, or `-o json`."""
    match = _GIT_VERSION_RE.search(output) or _SHORT_VERSION_RE.search(output)
    if not match:
        raise ValueError(f"no kubeadm version found in {output.strip()[:80]!r}; is kubeadm installed?")
    return match[1]


def _minor(version: str) -> tuple[int, int]:
    match = _MINOR_RE.match(version.strip())
    if not match:
        raise ValueError(f"{version!r} is not a Kubernetes version (e.g. v1.33.2)")
    return int(match[1]), int(match[2])


def kubeadm_config_api(kubeadm_version: str) -> str:
    return "kubeadm.k8s.io/v1beta4" if _minor(kubeadm_version) >= V1BETA4_FROM else "kubeadm.k8s.io/v1beta3"


def kubernetes_version_for(wanted: str, kubeadm_version: str) -> str:
    """The exact `kubernetesVersion` to write.

    A full version ("1.33.2") is taken as given. A bare minor ("1.33") becomes
    the installed kubeadm's own version when it is that minor — its images are
    the ones `kubeadm config images pull` fetched — else `v1.33.0`. Labels
    like `stable-1.33` are not used: kubeadm resolves them over the internet,
    which lab and air-gapped hosts do not have.
    """
    wanted = wanted.strip().removeprefix("v")
    if wanted.count(".") >= 2:
        return f"v{wanted}"
    installed = kubeadm_version.strip().removeprefix("v")
    # Only a full x.y.z is usable: kubeadm takes a bare "1.33" for a release label to look up online.
    if _minor(installed) == _minor(wanted) and re.match(r"^\d+\.\d+\.\d+", installed):
        return f"v{installed}"
    return f"v{wanted}.0"


def render_init_config(
    profile: Profile,
    *,
    advertise_address: str,
    node_name: str,
    cri_socket: str,
    kubeadm_version: str,
    node_ip: str | None = None,
) -> str:
    """The file for `kubeadm init --config`: InitConfiguration + ClusterConfiguration, in the API kubeadm reads."""
    api = kubeadm_config_api(kubeadm_version)
    ipaddress.ip_address(advertise_address)  # ValueError names the bad address
    if not cri_socket.startswith("unix:///"):
        raise ValueError(
            f"CRI socket {cri_socket!r} must be a unix:/// URL (resolve 'auto' from the host's facts first)"
        )
    init = {
        "apiVersion": api,
        "kind": "InitConfiguration",
        "localAPIEndpoint": {"advertiseAddress": advertise_address, "bindPort": 6443},
        "nodeRegistration": _node_registration(api, node_name, cri_socket, node_ip),
    }
    cluster = {
        "apiVersion": api,
        "kind": "ClusterConfiguration",
        "clusterName": profile.name,
        "kubernetesVersion": kubernetes_version_for(profile.cluster.kubernetes_version, kubeadm_version),
        "networking": {
            "podSubnet": profile.cluster.pod_cidr,
            "serviceSubnet": profile.cluster.service_cidr,
            "dnsDomain": "cluster.local",
        },
        # No controlPlaneEndpoint: kwizard sets up one control plane.
    }
    header = f"# Written by kwizard for profile {profile.name!r}; kubeadm {kubeadm_version}\n"
    return header + yaml.safe_dump_all([init, cluster], sort_keys=False, explicit_start=True)


def _node_registration(api: str, node_name: str, cri_socket: str, node_ip: str | None) -> dict[str, Any]:
    registration: dict[str, Any] = {"name": node_name, "criSocket": cri_socket}
    if node_ip:
        ipaddress.ip_address(node_ip)
        # v1beta4 made extra args a list of {name, value}; v1beta3 has a map.
        registration["kubeletExtraArgs"] = (
            [{"name": "node-ip", "value": node_ip}] if api.endswith("v1beta4") else {"node-ip": node_ip}
        )
    return registration


def parse_init_config(text: str) -> dict[str, dict[str, Any]]:
    """The documents of a kubeadm config file by kind, e.g. result["ClusterConfiguration"]."""
    documents: dict[str, dict[str, Any]] = {}
    for document in yaml.safe_load_all(text):
        if document is None:
            continue
        kind = document.get("kind") if isinstance(document, dict) else None
        if not kind:
            raise ValueError("a kubeadm config document has no 'kind'")
        if kind in documents:
            raise ValueError(f"the kubeadm config has two {kind} documents")
        documents[kind] = document
    return documents


# --- preflight and other init failures ---


@dataclass(frozen=True)
class PreflightIssue:
    level: Level
    name: str  # what --ignore-preflight-errors takes, e.g. Port-6443
    message: str


_PREFLIGHT_LINE_RE = re.compile(r"^\s*\[(ERROR|WARNING) ([^\]]+)\]:\s?(.*)$")
_NOT_A_CONTINUATION_RE = re.compile(r"^\s*(\[|$|error execution phase|To see the stack trace)")


def parse_preflight_errors(output: str) -> list[PreflightIssue]:
    """`[ERROR X]: msg` / `[WARNING X]: msg` lines; a message wrapped onto following lines is kept whole."""
    issues: list[PreflightIssue] = []
    lines = output.splitlines()
    for index, line in enumerate(lines):
        match = _PREFLIGHT_LINE_RE.match(line)
        if not match:
            continue
        message = [match[3].strip()]
        for follower in lines[index + 1 :]:
            if _NOT_A_CONTINUATION_RE.match(follower):
                break
            message.append(follower.strip())
        level = Level.ERROR if match[1] == "ERROR" else Level.WARNING
        issues.append(PreflightIssue(level, match[2], " ".join(message)))
    return issues


_CONTAINERD_CRI_FIX = (
    "containerd runs with its CRI plugin disabled (the Docker repo's config.toml has disabled_plugins = [\"cri\"]) "
    "— fix: `containerd config default > /etc/containerd/config.toml`, set SystemdCgroup = true, "
    "`systemctl restart containerd`, then run kubeadm init again"
)


def _diagnose_issue(name: str) -> str | None:
    if name.startswith("Port-"):
        port = name.removeprefix("Port-")
        return (
            f"port {port} is already in use, usually by a control plane from an earlier run "
            f"— fix: `kubeadm reset -f` if it is an old cluster, or find the owner with `ss -ltnp 'sport = :{port}'`"
        )
    if name == "Swap":
        return (
            "swap is on and the kubelet will not start with it "
            "— fix: `swapoff -a` and comment out the swap line in /etc/fstab"
        )
    if name == "FileContent--proc-sys-net-ipv4-ip_forward":
        return (
            "IP forwarding is off — fix: `sysctl -w net.ipv4.ip_forward=1` and persist it in "
            "/etc/sysctl.d/k8s.conf (net.ipv4.ip_forward = 1)"
        )
    if name == "DirAvailable--var-lib-etcd":
        return (
            "/var/lib/etcd is not empty: an earlier cluster's etcd data is left "
            "— fix: `kubeadm reset -f` (it clears it)"
        )
    if name.startswith("FileAvailable--etc-kubernetes-"):
        return "files from an earlier cluster are in /etc/kubernetes — fix: `kubeadm reset -f` before init"
    if name == "NumCPU":
        return "the control plane has fewer than 2 CPUs — fix: give the machine 2 or more CPUs"
    if name == "Mem":
        return "the control plane has less than 1700 MB of memory — fix: give the machine at least 2 GB"
    if name == "CRI":
        return (
            "the container runtime does not answer on its socket "
            "— fix: `systemctl enable --now containerd` (or crio) and check its socket path"
        )
    return None


def diagnose_init_failure(output: str) -> str | None:
    """One line: the likely cause of a failed `kubeadm init` and the fix, or None when not recognised."""
    mixed = re.search(r"can not mix '--config' with arguments \[([^\]]*)\]", output)
    if mixed:
        return (
            f"kubeadm init got both --config and the flags [{mixed[1]}] "
            "— fix: put those settings in the config file and drop the flags"
        )
    if "unknown service runtime.v1.RuntimeService" in output:
        return _CONTAINERD_CRI_FIX
    issues = parse_preflight_errors(output)
    # Errors stop init; a warning (Swap) is the cause only when no error explains it.
    for wanted in (Level.ERROR, Level.WARNING):
        for issue in issues:
            diagnosis = _diagnose_issue(issue.name) if issue.level is wanted else None
            if diagnosis:
                return diagnosis
    return None
