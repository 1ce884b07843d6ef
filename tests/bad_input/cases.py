"""The bad-input corpus: profiles, files and flags a user's script could hand kwizard, each with what must happen.

Every case names the exit code and a text the message must contain (the
field or flag to fix). Cases are built from one good profile by changing one
thing, so each says exactly what is wrong. Nothing here contacts a host:
`validate` and `plan` read files only, and the cases that reach `check` are
refused before connecting.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import yaml

GOOD: dict[str, Any] = {
    "version": 1,
    "name": "corpus",
    "ssh": {"user": "root", "port": 22, "host_key_policy": "strict", "sudo": True},
    "hosts": [
        {"name": "cp", "address": "10.0.0.1", "role": "control-plane"},
        {"name": "w1", "address": "10.0.0.2", "role": "worker"},
    ],
    "cluster": {"kubernetes_version": "1.33", "cni": "flannel", "pod_cidr": "10.244.0.0/16", "service_cidr": "10.96.0.0/12"},
}


@dataclass(frozen=True)
class Case:
    id: str
    expect_exit: int
    must_say: str  # the field, flag or reason the message must name
    text: str | None = None  # the profile file's text (None: `file` or no file)
    file: str | None = None  # a special file kind: fifo, folder, missing, devnull, binary, empty, latin1
    argv: tuple[str, ...] = ("validate", "{profile}")
    extra: dict[str, Any] = field(default_factory=dict)


def _with(path: str, value: Any, base: dict | None = None) -> str:
    """The good profile with one field (dotted path, [i] for a list item) set to `value` (DELETE removes it)."""
    data = copy.deepcopy(base or GOOD)
    node: Any = data
    parts = path.replace("]", "").replace("[", ".").split(".")
    for part in parts[:-1]:
        node = node[int(part)] if part.isdigit() else node.setdefault(part, {})
    last = parts[-1]
    if value is DELETE:
        del node[int(last) if last.isdigit() else last]
    elif last.isdigit():
        node[int(last)] = value
    else:
        node[last] = value
    return yaml.safe_dump(data, sort_keys=False)


DELETE = object()


def _field_cases() -> list[Case]:
    bad_values: dict[str, list[Any]] = {
        "name": ["", "Has Upper", "with_underscore", "x" * 300, 123, None, ["a"], "-lead", "trail-", "a.b"],
        "version": [2, "1", 0, None, "latest"],
        "ssh.user": ["", "bad user", "x;rm -rf /", 5, ["root"]],
        "ssh.port": [0, 70000, -1, "twenty-two", True, 22.5, None, "0x16"],
        "ssh.host_key_policy": ["accept-all", "no", "", 1, None],
        "ssh.sudo": ["maybe", 2, [], "yes please"],
        "ssh.sudo_password_env": ["1BAD", "has space", "a-b", 7, ""],
        "ssh.connect_timeout": [0, -5, 1000, "soon", None],
        "ssh.jump_host": ["", "user@", "@host", "host:port", 5],
        "hosts[0].name": ["", "UPPER_case", "x" * 300, "a b", 5, None, "-x"],
        "hosts[0].address": ["", "999.1.1.1", "not an address!", "10.0.0.1/24", 5, None, "http://10.0.0.1"],
        "hosts[0].role": ["master", "", "Control-Plane", 1, None],
        "hosts[0].port": [0, 65536, True, "ssh", -22],
        "hosts[0].labels": ["zone=a", ["zone"], {"bad key!": "v"}, {"zone": "x" * 64}, {"zone": "bad value!"}],
        "cluster.kubernetes_version": ["1.29", "0.1", "abc", "", 1.33, "v2", "1.33.x", None],
        "cluster.cni": ["cilium", "", "Flannel!", 3, None],
        "cluster.pod_cidr": ["", "10.244.0.0", "10.244.0.1/16", "10.244.0.0/33", "not-a-cidr", 5, None, "300.0.0.0/16"],
        "cluster.service_cidr": ["", "10.96.0.0", "10.96.0.1/12", "10.96.0.0/40", "x", 5, None],
        "cluster.advertise_address": ["", "999.0.0.1", "somewhere", 5, "10.0.0.0/8"],
        "cluster.cri_socket": ["/run/containerd.sock", "tcp://x", "", 5],
        "cluster.wait_ready_seconds": [0, 5, 100000, "long", -1],
        "cluster.install_packages": ["sometimes", 3],
        "cluster.disable_swap": ["perhaps", [True]],
        "cluster.cni_options": ["none", ["mtu"]],
    }
    cases = []
    for path, values in bad_values.items():
        for index, value in enumerate(values):
            cases.append(Case(f"{path}={index}", 2, path.split(".")[-1].split("[")[0] if "[" not in path.split(".")[-1] else path.split(".")[-1], _with(path, value)))
    return cases


def _structure_cases() -> list[Case]:
    two_cp = _with("hosts[1].role", "control-plane")
    no_cp = _with("hosts[0].role", "worker")
    same_name = _with("hosts[1].name", "cp")
    same_address = _with("hosts[1].address", "10.0.0.1")
    return [
        Case("no-hosts", 2, "hosts", _with("hosts", [])),
        Case("hosts-not-a-list", 2, "hosts", _with("hosts", "cp,w1")),
        Case("hosts-missing", 2, "hosts", _with("hosts", DELETE)),
        Case("name-missing", 2, "name", _with("name", DELETE)),
        Case("two-control-planes", 2, "control-plane", two_cp),
        Case("no-control-plane", 2, "control-plane", no_cp),
        Case("same-host-name", 2, "cp", same_name),
        Case("same-address", 2, "10.0.0.1", same_address),
        Case("unknown-top-key", 2, "clustr", GOOD_TEXT + "clustr: {}\n"),
        Case("unknown-host-key", 2, "adress", _with("hosts[0].adress", "10.0.0.9")),
        Case("unknown-cluster-key", 2, "pod_cdir", _with("cluster.pod_cdir", "10.244.0.0/16")),
        Case("secret-in-ssh", 2, "sudo_password_env", _with("ssh.sudo_password", "hunter2")),
        Case("secret-in-cluster", 2, "password", _with("cluster.cni_options.encryption_password", "x")),
        Case("token-in-cluster", 2, "token", _with("cluster.token", "abcdef.0123456789abcdef")),
        Case("mtu-with-flannel", 2, "mtu", _with("cluster.cni_options", {"mtu": 1400})),
        Case("weave-password-with-flannel", 2, "encryption_password_env", _with("cluster.cni_options", {"encryption_password_env": "WEAVE_PW"})),
        Case("weave-interface", 2, "interface", _with("cluster.cni_options", {"interface": "eth1"}, yaml.safe_load(_with("cluster.cni", "weave")))),
        Case("calico-mtu-too-small", 2, "mtu", _with("cluster.cni_options", {"mtu": 100}, yaml.safe_load(_with("cluster.cni", "calico")))),
        Case("calico-mtu-too-big", 2, "mtu", _with("cluster.cni_options", {"mtu": 100000}, yaml.safe_load(_with("cluster.cni", "calico")))),
        Case("pod-overlaps-service", 2, "service", _with("cluster.service_cidr", "10.244.0.0/20")),
        Case("ipv6-pod-cidr", 2, "pod_cidr", _with("cluster.pod_cidr", "fd00::/48")),
        Case("ipv6-service-cidr", 2, "service_cidr", _with("cluster.service_cidr", "fd01::/108")),
        Case("yaml-list-top", 2, "mapping", "- a\n- b\n"),
        Case("yaml-scalar-top", 2, "mapping", "just a string\n"),
        Case("yaml-tab-indent", 2, "YAML", "name: x\nhosts:\n\t- name: cp\n"),
        Case("yaml-unclosed-quote", 2, "YAML", 'name: "corpus\nhosts: []\n'),
        Case("yaml-bad-indent", 2, "YAML", "name: corpus\n  hosts: []\n"),
        Case("yaml-duplicate-key", 2, "written twice", GOOD_TEXT + "name: again\n"),
        Case("yaml-duplicate-nested-key", 2, "written twice", GOOD_TEXT.replace("  port: 22\n", "  port: 22\n  port: 23\n")),
        Case("yaml-python-tag", 2, "YAML", "name: !!python/object/apply:os.system ['true']\n"),
        Case("yaml-unknown-tag", 2, "YAML", "name: !custom x\n"),
        Case("yaml-alias-bomb", 2, "", _alias_bomb()),
        Case("yaml-deep-nesting", 2, "", "name: " + "[" * 5000 + "]" * 5000 + "\n"),
        Case("yaml-bad-date", 2, "", "name: 2026-13-45\n"),
        Case("yaml-binary", 2, "", "name: !!binary AAAA\n"),
        Case("yaml-only-comment", 2, "empty", "# nothing\n"),
        Case("yaml-multi-doc", 2, "YAML", GOOD_TEXT + "---\nname: second\n"),
        Case("huge-value", 2, "bytes", "name: " + "x" * (2 * 1024 * 1024) + "\n"),
        Case("too-many-hosts", 2, "hosts", _many_hosts(1001)),
        Case("version-string", 2, "version", _with("version", "one")),
    ]


GOOD_TEXT = yaml.safe_dump(GOOD, sort_keys=False)


def _alias_bomb() -> str:
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    for i, name in enumerate("bcdefghi"):
        prev = "abcdefghi"[i]
        lines.append(f"{name}: &{name} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]")
    lines.append("name: corpus\nhosts: *i")
    return "\n".join(lines) + "\n"


def _many_hosts(count: int) -> str:
    hosts = [{"name": f"h{i}", "address": f"10.1.{i // 250}.{i % 250 + 1}", "role": "worker"} for i in range(count)]
    hosts[0]["role"] = "control-plane"
    return yaml.safe_dump({"name": "many", "hosts": hosts}, sort_keys=False)


def _file_cases() -> list[Case]:
    return [
        Case("file-fifo", 2, "FIFO", file="fifo"),
        Case("file-folder", 2, "folder", file="folder"),
        Case("file-missing", 2, "no such file", file="missing"),
        Case("file-devnull", 2, "character device", file="devnull"),
        Case("file-empty", 2, "empty", file="empty"),
        Case("file-binary", 2, "UTF-8", file="binary"),
        Case("file-latin1", 2, "UTF-8", file="latin1"),
        Case("plan-fifo", 2, "FIFO", file="fifo", argv=("plan", "{profile}")),
        Case("check-missing", 2, "no such file", file="missing", argv=("check", "{profile}")),
        Case("apply-folder", 2, "folder", file="folder", argv=("apply", "--yes", "{profile}")),
        Case("reset-devnull", 2, "character device", file="devnull", argv=("reset", "--yes", "{profile}")),
    ]


def _flag_cases() -> list[Case]:
    good = GOOD_TEXT
    return [
        Case("flag-unknown", 2, "--frobnicate", good, argv=("validate", "--frobnicate", "{profile}")),
        Case("flag-unknown-command", 2, "invalid choice", good, argv=("deploy", "{profile}")),
        Case("flag-validate-no-profile", 2, "profile", good, argv=("validate",)),
        Case("flag-plan-no-profile", 2, "profile", good, argv=("plan",)),
        Case("flag-plan-flush-without-reset", 2, "--reset", good, argv=("plan", "--flush-iptables", "{profile}")),
        Case("flag-plan-clear-ipvs-without-reset", 2, "--reset", good, argv=("plan", "--clear-ipvs", "{profile}")),
        Case("flag-plan-remove-cni-without-reset", 2, "--reset", good, argv=("plan", "--remove-cni-config", "{profile}")),
        Case("flag-output-bad", 2, "--output", good, argv=("apply", "--yes", "--output", "xml", "{profile}")),
        Case("flag-apply-no-yes-off-terminal", 2, "--yes", good, argv=("apply", "{profile}")),
        Case("flag-reset-no-yes-off-terminal", 2, "--yes", good, argv=("reset", "{profile}")),
        Case("flag-tui-missing-profile", 2, "no such file", None, file="missing", argv=("tui", "--profile", "{profile}")),
        Case("flag-tui-invalid-profile", 2, "pod_cidr", _with("cluster.pod_cidr", "nope"), argv=("tui", "--profile", "{profile}")),
        Case("flag-top-profile-missing", 2, "no such file", None, file="missing", argv=("--profile", "{profile}")),
        Case("flag-kubeconfig-device", 2, "not a regular file", good, argv=("kubeconfig", "-o", "/dev/full", "--force", "{profile}")),
        Case("flag-kubeconfig-folder", 2, "folder", good, argv=("kubeconfig", "-o", "/tmp", "--force", "{profile}")),
    ]


def all_cases() -> list[Case]:
    cases = _field_cases() + _structure_cases() + _file_cases() + _flag_cases()
    ids = [c.id for c in cases]
    assert len(ids) == len(set(ids)), "case ids must be unique"
    return cases
