"""The profile: every answer the wizard collects, as one typed, validated model.

A profile never holds a secret. Passwords are named by reference
(`sudo_password_env: VAR`) or asked for at run time; a key that looks like a
secret is refused with a message saying so (kwizard.profile.messages).
"""

from __future__ import annotations

import ipaddress
import re
from enum import Enum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    model_validator,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
)

from kwizard.cni.manifests import MAX_MTU, MIN_MTU
from kwizard.kube.versions import KubeVersion
from kwizard.profile.messages import looks_like_secret, shown
from kwizard.profile.cidr import POD_CIDR_FIELD, SERVICE_CIDR_FIELD, require_ipv4_cidr

SCHEMA_VERSION = 1

# The oldest Kubernetes minor kwizard writes commands for (KUBEADM.md: 1.30+).
MIN_KUBERNETES = (1, 30)

_DNS_LABEL = r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?"
_DNS_NAME = re.compile(rf"^{_DNS_LABEL}(\.{_DNS_LABEL})*$", re.IGNORECASE)
_PROFILE_NAME = re.compile(rf"^{_DNS_LABEL}$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_USER = re.compile(r"^[a-z_][a-z0-9_.-]*\$?$", re.IGNORECASE)
_CRI_SOCKET = re.compile(r"^unix:///\S+$")
_LABEL_KEY = re.compile(r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
_LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$")


class HostKeyPolicy(str, Enum):
    STRICT = "strict"
    ACCEPT_NEW = "accept-new"


class Role(str, Enum):
    CONTROL_PLANE = "control-plane"
    WORKER = "worker"


class CNI(str, Enum):
    FLANNEL = "flannel"
    CALICO = "calico"
    WEAVE = "weave"


# --- field validators: each raises ValueError with the fix in its message ---


def _address(value: str) -> str:
    """An IP address or a DNS name; what SSH connects to."""
    value = value.strip()
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        pass
    if re.fullmatch(r"[\d.]+", value):
        raise ValueError(f"{shown(value)} is not a valid IPv4 address (four numbers 0-255, e.g. 192.168.122.11)")
    if not _DNS_NAME.match(value) or len(value) > 253:
        raise ValueError(f"{shown(value)} is neither an IP address nor a DNS name (e.g. 10.0.0.5 or node1.example.lan)")
    return value.lower()


def _host_name(value: str) -> str:
    if not _DNS_NAME.match(value) or len(value) > 63 and "." not in value:
        raise ValueError(
            f"{shown(value)} is not a valid node name: use lowercase letters, digits and '-' (e.g. kubemaster-1)"
        )
    if value != value.lower():
        raise ValueError(f"{shown(value)}: Kubernetes node names are lowercase; use {shown(value.lower())}")
    return value


def _cidr(field: str):
    """The field's validator: an exact IPv4 network, refused in kwizard.profile.cidr's words otherwise."""

    def validate(value: str) -> str:
        return require_ipv4_cidr(field, value)

    return validate


def _kubernetes_version(value: str) -> str:
    version = KubeVersion.parse(value, exact=True)
    if version.minor_pair < MIN_KUBERNETES:
        floor = ".".join(map(str, MIN_KUBERNETES))
        raise ValueError(f"{shown(value)} is older than {floor}, the oldest release kwizard supports; use {floor} or later")
    return value.strip().removeprefix("v")


def _env_name(value: str) -> str:
    if not _ENV_NAME.match(value):
        raise ValueError(f"{shown(value)} is not an environment variable name (e.g. KWIZARD_SUDO_PASSWORD)")
    return value


def _user(value: str) -> str:
    if not _USER.match(value):
        raise ValueError(f"{shown(value)} is not a valid user name (e.g. ubuntu)")
    return value


def _advertise(value: str) -> str:
    if value == "auto":
        return value
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise ValueError(f"{shown(value)} must be 'auto' or an IP address of the control plane (e.g. 192.168.122.11)") from None


def _cri_socket(value: str) -> str:
    if value != "auto" and not _CRI_SOCKET.match(value):
        raise ValueError(
            f"{shown(value)} must be 'auto' or a socket URL like unix:///var/run/containerd/containerd.sock"
        )
    return value


def _jump_host(value: str) -> str:
    """[user@]host[:port], like ssh -J."""
    user, at, rest = value.rpartition("@")
    if at and not _USER.match(user):
        raise ValueError(f"{shown(value)}: {shown(user) if user else 'the part before @'} is not a user name (write it like admin@bastion:22)")
    host, _, port = rest.rpartition(":") if rest.count(":") == 1 else (rest, "", "")
    if port and not (port.isdigit() and 0 < int(port) < 65536):
        raise ValueError(f"{shown(value)}: port {shown(port)} is not 1-65535 (write it like admin@bastion:22)")
    _address(host)
    return value


Address = Annotated[str, AfterValidator(_address)]
NodeName = Annotated[str, AfterValidator(_host_name)]
PodCIDR = Annotated[str, AfterValidator(_cidr(POD_CIDR_FIELD))]
ServiceCIDR = Annotated[str, AfterValidator(_cidr(SERVICE_CIDR_FIELD))]
KubernetesVersion = Annotated[str, AfterValidator(_kubernetes_version)]
EnvName = Annotated[str, AfterValidator(_env_name)]
UserName = Annotated[str, AfterValidator(_user)]
def _not_a_bool(value: Any) -> Any:
    """YAML reads `yes`/`true` as a boolean, and Python takes True for 1: a number field refuses it instead."""
    if isinstance(value, bool):
        raise ValueError(f"{str(value).lower()} is a yes/no value, not a number: write the number (e.g. 22)")
    return value


Number = BeforeValidator(_not_a_bool)
Port = Annotated[int, Number, Field(ge=1, le=65535)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True, use_enum_values=False)


class SSHSettings(_Strict):
    user: UserName = "root"
    port: Port = 22
    identity_file: str | None = None
    known_hosts: str | None = None  # None: ~/.ssh/known_hosts
    host_key_policy: HostKeyPolicy = HostKeyPolicy.STRICT
    jump_host: Annotated[str, AfterValidator(_jump_host)] | None = None
    sudo: bool = True
    sudo_password_env: EnvName | None = None
    connect_timeout: Annotated[float, Number] = Field(default=10.0, gt=0, le=300)


class Host(_Strict):
    name: NodeName
    address: Address
    role: Role = Role.WORKER
    port: Port | None = None
    user: UserName | None = None
    labels: dict[str, str] = Field(default_factory=dict)

    @field_validator("labels")
    @classmethod
    def _labels(cls, labels: dict[str, str]) -> dict[str, str]:
        for key, value in labels.items():
            if looks_like_secret(key.rsplit("/", 1)[-1]):
                raise ValueError(
                    f"label key {shown(key)} looks like a secret, and profiles never hold secrets "
                    "(labels are readable by anyone who can list nodes): rename the label or leave it out"
                )
            if not _LABEL_KEY.match(key) or len(key) > 316:
                raise ValueError(f"label key {shown(key)} is not a valid Kubernetes label key (e.g. zone or example.com/rack)")
            if not _LABEL_VALUE.match(value) or len(value) > 63:
                raise ValueError(f"label {key}={shown(value)}: values are up to 63 letters, digits, '-', '_' or '.'")
        return labels


class CNIOptions(_Strict):
    """Plugin knobs a user may need: the VPN interface case, jumbo frames, Weave encryption."""

    interface: str | None = None  # pin the node interface (flannel --iface, calico interface=)
    mtu: Annotated[int, Number] | None = Field(default=None, ge=MIN_MTU, le=MAX_MTU)
    encryption_password_env: EnvName | None = None  # Weave Net only: WEAVE_PASSWORD, by reference
    manifest_file: str | None = None  # a local manifest for hosts without internet
    # Calico only: consent to `systemctl disable --now firewalld` (Calico's requirements say firewalld
    # should be disabled); without it kwizard opens Calico's ports in firewalld and preflight warns.
    disable_firewalld: bool = False


# Every step id of the setup and reset plans (`kwizard plan` shows them in brackets), for cluster.step_timeouts.
STEP_IDS = (
    "preflight", "hosts-file", "kernel", "swap", "firewall", "networkmanager", "packages", "node-images", "images", "init",
    "kubeconfig", "cni-fetch", "cni-apply", "ready", "untaint", "join-command", "join", "verify", "labels",
    "connect", "drain", "reset-workers", "reset-control-plane", "cleanup", "leftovers",
)
MAX_STEP_TIMEOUT = 86400


class ClusterSpec(_Strict):
    kubernetes_version: KubernetesVersion = "1.33"
    cni: CNI = CNI.FLANNEL
    pod_cidr: PodCIDR = "10.244.0.0/16"
    service_cidr: ServiceCIDR = "10.96.0.0/12"
    advertise_address: Annotated[str, AfterValidator(_advertise)] = "auto"
    cri_socket: Annotated[str, AfterValidator(_cri_socket)] = "auto"
    schedule_on_control_plane: bool | None = None  # None: yes for a one-host cluster
    manage_etc_hosts: bool = True
    open_firewall_ports: bool = True
    install_packages: bool = False
    disable_swap: bool = False
    wait_ready_seconds: Annotated[int, Number] = Field(default=600, ge=10, le=7200)  # how long nodes may take to become Ready
    cni_options: CNIOptions = Field(default_factory=CNIOptions)
    # step id -> seconds each host may take for that step, over kwizard's own limit (`--step-timeout` wins)
    step_timeouts: dict[str, Annotated[int, Number, Field(ge=10, le=MAX_STEP_TIMEOUT)]] = Field(default_factory=dict)

    @field_validator("step_timeouts")
    @classmethod
    def _known_steps(cls, value: dict[str, int]) -> dict[str, int]:
        unknown = sorted(set(value) - set(STEP_IDS))
        if unknown:
            raise ValueError(f"step_timeouts: no step {', '.join(map(repr, unknown))}; the steps are {', '.join(STEP_IDS)}")
        return value

    @model_validator(mode="after")
    def _options_fit_the_plugin(self) -> ClusterSpec:
        """An option the chosen plugin would ignore is a mistake worth saying, not silently dropping."""
        options, cni = self.cni_options, self.cni
        if options.encryption_password_env and cni is not CNI.WEAVE:
            raise ValueError(
                "cni_options.encryption_password_env is Weave Net's password; "
                + ("Calico encrypts with WireGuard, switched on after install" if cni is CNI.CALICO
                   else "Flannel encrypts with its wireguard backend")
                + ": remove it"
            )
        if options.mtu and cni is CNI.FLANNEL:
            raise ValueError("cni_options.mtu: Flannel takes its MTU from the node interface; remove it")
        if options.disable_firewalld and cni is not CNI.CALICO:
            raise ValueError(
                "cni_options.disable_firewalld is Calico's requirement; with this plugin kwizard opens its ports "
                "in firewalld instead: remove it"
            )
        if options.interface and cni is CNI.WEAVE:
            raise ValueError("cni_options.interface: Weave Net picks its interface itself; remove it")
        return self


class Profile(_Strict):
    version: Literal[1] = SCHEMA_VERSION
    name: str
    ssh: SSHSettings = Field(default_factory=SSHSettings)
    hosts: list[Host] = Field(min_length=1)
    cluster: ClusterSpec = Field(default_factory=ClusterSpec)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _PROFILE_NAME.match(value):
            raise ValueError(f"{shown(value)}: a profile name is lowercase letters, digits and '-' (e.g. lab-cluster)")
        return value

    @field_validator("hosts")
    @classmethod
    def _fleet(cls, hosts: list[Host]) -> list[Host]:
        problems = fleet_problems(hosts)
        if problems:
            raise ValueError("; ".join(problems))
        return hosts

    # --- derived views the plan and the screens share ---

    @property
    def control_plane(self) -> Host:
        return next(h for h in self.hosts if h.role is Role.CONTROL_PLANE)

    @property
    def workers(self) -> list[Host]:
        return [h for h in self.hosts if h.role is Role.WORKER]

    @property
    def untaint_control_plane(self) -> bool:
        wanted = self.cluster.schedule_on_control_plane
        return len(self.hosts) == 1 if wanted is None else wanted

    def user_for(self, host: Host) -> str:
        return host.user or self.ssh.user

    def port_for(self, host: Host) -> int:
        return host.port or self.ssh.port


def fleet_problems(hosts: list[Host]) -> list[str]:
    """Rules across hosts: one control plane, no repeated names or addresses."""
    problems = []
    control_planes = [h.name for h in hosts if h.role is Role.CONTROL_PLANE]
    if len(control_planes) == 0:
        problems.append("no host has role control-plane; mark exactly one host as control-plane")
    elif len(control_planes) > 1:
        problems.append(
            f"{len(control_planes)} hosts have role control-plane ({', '.join(control_planes)}); "
            "kwizard sets up exactly one: make the others workers"
        )
    for label, values in (("name", [h.name for h in hosts]), ("address", [h.address for h in hosts])):
        repeated = sorted({v for v in values if values.count(v) > 1})
        if repeated:
            problems.append(f"host {label} {', '.join(repeated)} appears more than once; each host needs its own")
    return problems


# Moved to kwizard.profile.messages; still importable from here for screens/draft.py until it imports them there.
_MOVED_TO_MESSAGES = ("error_message", "error_path", "problems_from_error", "looks_like_secret", "SECRET_REFERENCES")


def __getattr__(name: str) -> Any:
    if name in _MOVED_TO_MESSAGES:
        from kwizard.profile import messages  # noqa: PLC0415 - messages imports this module

        return getattr(messages, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
