"""One rule for a CIDR as written: the model, the checks, `kwizard validate` and the patchers say the same."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from kwizard.checks.cidr import check_pod_cidr, check_service_cidr
from kwizard.cni.catalogue import CATALOGUE
from kwizard.profile.cidr import cidr_problem, exact_network, ipv6_refusal, parse_cidr, require_ipv4_cidr
from kwizard.profile.messages import problems_from_error
from kwizard.profile.model import ClusterSpec

REPO = Path(__file__).resolve().parents[1]
POD_MESSAGE = (
    "cluster.pod_cidr fd00::/48 is IPv6; kwizard sets up IPv4 pod and service networks only "
    "(dual-stack and IPv6-only are not supported yet): use an IPv4 range such as 10.244.0.0/16"
)


def model_message(**fields: str) -> str:
    with pytest.raises(ValidationError) as refused:
        ClusterSpec(**fields)
    ((_loc, message),) = problems_from_error(refused.value)
    return message


def test_the_ipv6_refusal_names_the_field_the_value_and_the_fix():
    assert str(ipv6_refusal("cluster.pod_cidr", "fd00::/48")) == POD_MESSAGE
    assert str(ipv6_refusal("cluster.service_cidr", "fd00:96::/108")).endswith("such as 10.96.0.0/12")


@pytest.mark.parametrize("plugin_id", sorted(CATALOGUE))
def test_model_and_checks_refuse_an_ipv6_pod_cidr_alike_for_every_plugin(plugin_id):
    assert model_message(cni=plugin_id, pod_cidr="fd00::/48") == POD_MESSAGE
    (finding,) = [f for f in check_pod_cidr("fd00::/48", "10.96.0.0/12", [], 2, plugin_id) if f.code.endswith("ipv6_unsupported")]
    assert finding.is_error and f"{finding.message}: {finding.fix}" == POD_MESSAGE


def test_model_and_checks_refuse_an_ipv6_service_cidr_alike():
    expected = str(ipv6_refusal("cluster.service_cidr", "fd00:96::/108"))
    assert model_message(service_cidr="fd00:96::/108") == expected
    (finding,) = [f for f in check_service_cidr("fd00:96::/108", []) if f.code == "service_cidr.ipv6_unsupported"]
    assert f"{finding.message}: {finding.fix}" == expected


def test_validate_prints_the_same_ipv6_message(tmp_path):
    profile = tmp_path / "six.yaml"
    profile.write_text(
        "version: 1\nname: six\nhosts:\n  - {name: cp, address: 10.0.0.1, role: control-plane}\n"
        "cluster:\n  cni: calico\n  pod_cidr: fd00::/48\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "kwizard", "validate", str(profile)], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line == f"{profile}:7: {POD_MESSAGE}"  # the field path once: the message starts with it


@pytest.mark.parametrize(
    ("text", "kind", "model_code"),
    [
        ("banana", "syntax", "pod_cidr.syntax"),
        ("10.244.0.0", "no_prefix", "pod_cidr.syntax"),
        ("10.244.0.1/16", "host_bits", "pod_cidr.host_bits"),
        ("fd00::/48", "ipv6", "pod_cidr.ipv6_unsupported"),
    ],
)
def test_every_syntax_problem_reads_the_same_in_the_model_and_the_checks(text, kind, model_code):
    problem = cidr_problem("cluster.pod_cidr", text)
    assert problem is not None and problem.kind == kind
    assert model_message(pod_cidr=text) == str(problem)
    (finding,) = [f for f in check_pod_cidr(text, "10.96.0.0/12", [], 1, "flannel") if f.code == model_code]
    assert (finding.message, finding.fix) == (problem.message, problem.fix)


def test_parse_and_exact_network():
    assert str(parse_cidr(" 10.244.0.1/16 ")) == "10.244.0.0/16"
    assert str(parse_cidr("10.244.0.1")) == "10.244.0.1/32"
    assert parse_cidr("banana") is None
    assert str(exact_network("10.244.0.0/16")) == "10.244.0.0/16"
    assert exact_network("10.244.0.1/16") is None and exact_network("10.244.0.0") is None
    assert cidr_problem("cluster.pod_cidr", "10.244.0.0/16") is None
    assert require_ipv4_cidr("cluster.pod_cidr", " 10.244.0.0/16 ") == "10.244.0.0/16"
    with pytest.raises(ValueError, match="did you mean 10.244.0.0/16"):
        require_ipv4_cidr("cluster.pod_cidr", "10.244.0.1/16")
