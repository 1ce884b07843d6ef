"""Property test: whatever YAML the loader is fed, it returns a profile or its own error."""

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kwizard.profile.model import Profile
from kwizard.profile.store import ProfileError, parse

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.sampled_from(["10.244.0.0/16", "192.168.0.0/16", "10.0.0.1", "control-plane", "worker", "flannel", "1.33"]),
)
values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)

FIELDS = {
    "version": values,
    "name": values,
    "ssh": st.fixed_dictionaries(
        {},
        optional={
            k: values
            for k in ("user", "port", "identity_file", "known_hosts", "host_key_policy", "jump_host", "sudo",
                      "sudo_password_env", "connect_timeout", "password")
        },
    ),
    "hosts": st.lists(
        st.fixed_dictionaries(
            {}, optional={k: values for k in ("name", "address", "role", "port", "user", "labels")}
        ),
        max_size=4,
    ),
    "cluster": st.fixed_dictionaries(
        {},
        optional={
            k: values
            for k in ("kubernetes_version", "cni", "pod_cidr", "service_cidr", "advertise_address", "cri_socket",
                      "schedule_on_control_plane", "manage_etc_hosts", "open_firewall_ports", "install_packages",
                      "disable_swap", "cni_options", "token")
        },
    ),
}
profiles_ish = st.fixed_dictionaries({}, optional=FIELDS)


def _only_profile_or_profile_error(text: str) -> None:
    try:
        result = parse(text)
    except ProfileError as exc:
        assert exc.problems and all(p.message for p in exc.problems)
        assert "Traceback" not in str(exc)
    else:
        assert isinstance(result, Profile)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(profiles_ish)
def test_random_field_values_never_escape_as_other_exceptions(document):
    _only_profile_or_profile_error(yaml.safe_dump(document, allow_unicode=True))


@settings(max_examples=300)
@given(values)
def test_random_yaml_documents_never_escape_as_other_exceptions(document):
    _only_profile_or_profile_error(yaml.safe_dump(document, allow_unicode=True))


@settings(max_examples=300)
@given(st.text(max_size=200))
def test_random_text_never_escapes_as_other_exceptions(text):
    _only_profile_or_profile_error(text)
