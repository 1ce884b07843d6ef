"""KubeVersion: the one parser for a Kubernetes version, as a profile writes it and as the tools print it."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from kwizard.checks.software import _minor
from kwizard.kube.config import kubeadm_config_api, kubernetes_version_for
from kwizard.kube.versions import KubeVersion
from kwizard.profile.model import ClusterSpec


@pytest.mark.parametrize(
    ("text", "parts", "minor_text", "shown"),
    [
        ("1.33", (1, 33, None, ""), "1.33", "1.33"),
        ("v1.33.2", (1, 33, 2, ""), "1.33", "1.33.2"),
        (" 1.30.0 ", (1, 30, 0, ""), "1.30", "1.30.0"),
        ("v1.34.0-rc.1", (1, 34, 0, "-rc.1"), "1.34", "1.34.0-rc.1"),
        ("v1.33.1+k3s1", (1, 33, 1, "+k3s1"), "1.33", "1.33.1+k3s1"),
    ],
)
def test_parse(text, parts, minor_text, shown):
    version = KubeVersion.parse(text)
    assert (version.major, version.minor, version.patch, version.suffix) == parts
    assert version.minor_text == minor_text and version.minor_pair == parts[:2] and str(version) == shown
    assert version.has_patch is (parts[2] is not None)


@pytest.mark.parametrize("text", ["latest", "", "1", "v1.", "1.33abc", "1.33.2 extra", "stable-1.33"])
def test_not_a_version(text):
    with pytest.raises(ValueError, match="is not a Kubernetes version"):
        KubeVersion.parse(text)
    assert KubeVersion.find(text) is None


def test_exact_refuses_what_only_tools_print():
    assert KubeVersion.parse("1.33.2", exact=True).patch == 2
    with pytest.raises(ValueError, match="not a Kubernetes version"):
        KubeVersion.parse("v1.34.0-rc.1", exact=True)
    with pytest.raises(ValidationError, match="not a Kubernetes version"):
        ClusterSpec(kubernetes_version="1.34.0-rc.1")


def test_find_reads_facts_that_may_be_missing():
    assert KubeVersion.find(None) is None
    assert KubeVersion.find("v1.33.1").minor_pair == (1, 33)
    assert _minor("v1.32.4") == (1, 32) and _minor(None) is None


def test_every_user_of_a_version_reads_it_alike():
    assert kubeadm_config_api("v1.31.0") == "kubeadm.k8s.io/v1beta4"
    assert kubeadm_config_api("v1.30.9") == "kubeadm.k8s.io/v1beta3"
    assert kubernetes_version_for("1.33", "v1.33.4") == "v1.33.4"
    assert kubernetes_version_for("1.33", "v1.32.4") == "v1.33.0"
    assert kubernetes_version_for("1.33.1", "v1.33.4") == "v1.33.1"
    assert ClusterSpec(kubernetes_version="v1.31.4").kubernetes_version == "1.31.4"
