"""The profile model: what a person typing a profile by hand is told."""

import pytest
from pydantic import ValidationError

from kwizard.profile.messages import looks_like_secret
from kwizard.profile.model import ClusterSpec, Host, Profile, Role, SSHSettings


def _hosts(*roles: str) -> list[dict]:
    return [{"name": f"node-{i}", "address": f"10.0.0.{i + 1}", "role": role} for i, role in enumerate(roles)]


def _messages(exc: ValidationError) -> str:
    return "\n".join(str(e["msg"]) for e in exc.errors())


def test_a_minimal_profile_gets_sensible_defaults():
    profile = Profile(name="lab", hosts=_hosts("control-plane", "worker"))
    assert profile.cluster.service_cidr == "10.96.0.0/12"
    assert profile.cluster.pod_cidr == "10.244.0.0/16"
    assert profile.ssh.host_key_policy.value == "strict"
    assert profile.control_plane.name == "node-0"
    assert [h.name for h in profile.workers] == ["node-1"]


def test_one_host_cluster_untaints_by_default_and_bigger_ones_do_not():
    assert Profile(name="solo", hosts=_hosts("control-plane")).untaint_control_plane
    assert not Profile(name="duo", hosts=_hosts("control-plane", "worker")).untaint_control_plane
    forced = Profile(name="duo", hosts=_hosts("control-plane", "worker"), cluster={"schedule_on_control_plane": True})
    assert forced.untaint_control_plane


@pytest.mark.parametrize(
    ("roles", "expected"),
    [
        (("worker", "worker"), "no host has role control-plane"),
        (("control-plane", "control-plane"), "2 hosts have role control-plane"),
    ],
)
def test_exactly_one_control_plane(roles, expected):
    with pytest.raises(ValidationError) as exc:
        Profile(name="lab", hosts=_hosts(*roles))
    assert expected in _messages(exc.value)


def test_repeated_names_and_addresses_are_refused():
    hosts = [
        {"name": "a", "address": "10.0.0.1", "role": "control-plane"},
        {"name": "a", "address": "10.0.0.1"},
    ]
    with pytest.raises(ValidationError) as exc:
        Profile(name="lab", hosts=hosts)
    text = _messages(exc.value)
    assert "host name a appears more than once" in text
    assert "host address 10.0.0.1 appears more than once" in text


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("10.244.0.1/16", "did you mean 10.244.0.0/16"),
        ("10.244.0.0", "no prefix length"),
        ("banana", "not a CIDR"),
        ("fd00::/64", "IPv6"),
    ],
)
def test_pod_cidr_messages_say_how_to_fix(value, expected):
    with pytest.raises(ValidationError) as exc:
        ClusterSpec(pod_cidr=value)
    assert expected in _messages(exc.value)


@pytest.mark.parametrize(
    ("address", "ok"),
    [("192.168.122.11", True), ("node1.example.lan", True), ("300.1.1.1", False), ("bad host", False), ("::1", True)],
)
def test_host_addresses_are_ips_or_dns_names(address, ok):
    if ok:
        Host(name="n", address=address)
    else:
        with pytest.raises(ValidationError, match="address"):
            Host(name="n", address=address)


@pytest.mark.parametrize("version", ["1.33", "v1.31.4", "1.30.0"])
def test_supported_versions(version):
    assert ClusterSpec(kubernetes_version=version).kubernetes_version == version.removeprefix("v")


@pytest.mark.parametrize(("version", "expected"), [("1.15", "older than 1.30"), ("latest", "not a Kubernetes version")])
def test_unsupported_versions(version, expected):
    with pytest.raises(ValidationError) as exc:
        ClusterSpec(kubernetes_version=version)
    assert expected in _messages(exc.value)


def test_ports_must_be_real_ports():
    with pytest.raises(ValidationError, match="less than or equal to 65535"):
        SSHSettings(port=70000)
    with pytest.raises(ValidationError):
        Host(name="n", address="10.0.0.1", port=0)


def test_node_names_must_be_lowercase_dns_labels():
    with pytest.raises(ValidationError, match="lowercase"):
        Host(name="KubeMaster", address="10.0.0.1")
    with pytest.raises(ValidationError, match="not a valid node name"):
        Host(name="under_score", address="10.0.0.1")


def test_secret_fields_are_recognised_but_references_are_not():
    assert looks_like_secret("sudo_password")
    assert looks_like_secret("token")
    assert looks_like_secret("WEAVE_PASSWORD")
    assert not looks_like_secret("sudo_password_env")
    assert not looks_like_secret("user")


def test_roles_parse_from_their_yaml_spelling():
    assert Host(name="n", address="10.0.0.1", role="control-plane").role is Role.CONTROL_PLANE


@pytest.mark.parametrize(
    ("cluster", "expected"),
    [
        ({"cni": "calico", "pod_cidr": "10.48.0.0/16", "cni_options": {"encryption_password_env": "P"}}, "Weave Net's password"),
        ({"cni": "flannel", "cni_options": {"mtu": 1450}}, "Flannel takes its MTU"),
        ({"cni": "weave", "pod_cidr": "10.32.0.0/12", "cni_options": {"interface": "eth1"}}, "Weave Net picks its interface"),
    ],
)
def test_an_option_the_chosen_plugin_would_ignore_is_refused(cluster, expected):
    with pytest.raises(ValidationError) as exc:
        ClusterSpec(**cluster)
    assert expected in _messages(exc.value)


def test_a_secret_outside_a_known_place_is_told_to_go_not_renamed():
    from kwizard.profile.store import ProfileError, parse

    with pytest.raises(ProfileError) as exc:
        parse("name: x\nhosts: [{name: a, address: 10.0.0.1, role: control-plane}]\napi_token: abc\n")
    (problem,) = exc.value.problems
    assert "remove it" in problem.message and "api_token_env" not in problem.message
    assert "abc" not in problem.message
