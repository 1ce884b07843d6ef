"""A fresh join command is used only when its CA pin matches the control plane's own CA.

The lab's simulated `kubeadm join` checks the pin as well, so a kwizard that
stopped checking would still pass the lab; these tests fail on their own if
`fresh_join_command` ever hands out a command it did not verify.
"""

from __future__ import annotations

import asyncio

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from kwizard.kube.join import CA_CERT, fresh_join_command
from kwizard.kube.joincmd import ca_cert_hash
from kwizard.plan.steps import StepFailed
from tests.test_kubeadm import make_ca

TOKEN = "abcdef.0123456789abcdef"


class FakeControlPlane:
    """Answers `kubeadm token create --print-join-command` and serves its CA."""

    host = "cp"

    def __init__(self, join_text: str, ca_pem: bytes, cluster: bool = True):
        self.cluster = cluster
        self.join_text = join_text
        self.ca_pem = ca_pem
        self.downloaded: list[str] = []

    async def capture(self, script, timeout=None):
        if "admin.conf" in script.script:
            return 0, "present\n" if self.cluster else "absent\n", ""
        assert "kubeadm token create --print-join-command" in script.script
        return 0, self.join_text, ""

    async def download(self, path, sudo=True):
        self.downloaded.append(path)
        return self.ca_pem


class Context:
    def __init__(self, session):
        self._session = session
        self.secrets: list[str] = []

    async def session(self, host):
        return self._session

    def add_secret(self, text):
        self.secrets.append(text)

    def note(self, host, line):
        pass


@pytest.fixture(scope="module")
def cluster_ca() -> bytes:
    return make_ca(rsa.generate_private_key(public_exponent=65537, key_size=2048))


@pytest.fixture(scope="module")
def other_ca() -> bytes:
    return make_ca(ec.generate_private_key(ec.SECP256R1()))


def join_text(pin: str) -> str:
    return f"kubeadm join 10.0.0.1:6443 --token {TOKEN} --discovery-token-ca-cert-hash {pin} \n"


def test_a_join_command_pinned_to_the_clusters_ca_is_accepted_and_its_token_masked(cluster_ca):
    session = FakeControlPlane(join_text(ca_cert_hash(cluster_ca)), cluster_ca)
    ctx = Context(session)
    join = asyncio.run(fresh_join_command(ctx, "cp"))
    assert join.token == TOKEN
    assert session.downloaded == [CA_CERT]  # the pin was checked against the host's own CA
    assert TOKEN.split(".")[1] in ctx.secrets  # the secret half is masked from now on


def test_a_join_command_pinned_to_another_ca_is_refused_naming_both_hashes(cluster_ca, other_ca):
    wrong = ca_cert_hash(other_ca)
    session = FakeControlPlane(join_text(wrong), cluster_ca)
    with pytest.raises(StepFailed) as refused:
        asyncio.run(fresh_join_command(Context(session), "cp"))
    message = str(refused.value)
    assert wrong in message and ca_cert_hash(cluster_ca) in message


def test_a_reset_control_plane_says_there_is_no_cluster(cluster_ca):
    session = FakeControlPlane(join_text(ca_cert_hash(cluster_ca)), cluster_ca, cluster=False)
    with pytest.raises(StepFailed, match="no cluster on cp: /etc/kubernetes/admin.conf is not there"):
        asyncio.run(fresh_join_command(Context(session), "cp"))
