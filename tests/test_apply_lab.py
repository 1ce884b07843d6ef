"""The whole job, through the CLI as a user runs it, against the lab.

Each test starts real sshd hosts (tests/lab), writes the lab's profile, and
runs `kwizard ...` as a separate process with its own HOME and XDG folders,
then reads back what the user gets: exit codes, printed text, the local
kubeconfig, the run directory, and the simulated cluster's state.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from tests.lab.scenario import HostOptions, Scenario

pytestmark = pytest.mark.lab

JOIN_RE = re.compile(r"kubeadm join (\S+) --token ([a-z0-9]{6}\.[a-z0-9]{16}) --discovery-token-ca-cert-hash (sha256:[0-9a-f]{64})")
TOKEN_RE = re.compile(r"[a-z0-9]{6}\.[a-z0-9]{16}")


class User:
    """A person at a shell: their own HOME and XDG folders, running `kwizard`."""

    def __init__(self, root: Path):
        self.home = root / "home"
        self.home.mkdir()
        self.env = {
            **os.environ,
            "HOME": str(self.home),
            "XDG_CONFIG_HOME": str(root / "config"),
            "XDG_STATE_HOME": str(root / "state"),
        }
        self.runs = root / "state" / "kwizard" / "runs"
        self.kubeconfigs = root / "config" / "kwizard" / "kubeconfigs"

    def kwizard(self, *args: str, timeout: float = 300, input: str | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "kwizard", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            input=input,
            stdin=None if input is not None else subprocess.DEVNULL,
        )

    def run_dirs(self) -> list[Path]:
        return sorted(self.runs.iterdir()) if self.runs.exists() else []


@pytest.fixture
def user(tmp_path) -> User:
    return User(tmp_path)


def _profile(lab, tmp_path, **profile_args) -> str:
    return str(lab.write_profile(tmp_path / "cluster.yaml", **profile_args))


def _ready_nodes(lab) -> set[str]:
    result = lab.exec(lab.hosts[0], "kubectl --kubeconfig=/etc/kubernetes/admin.conf get nodes -o json")
    nodes = json.loads(result.stdout)["items"]
    return {
        n["metadata"]["name"]
        for n in nodes
        if any(c["type"] == "Ready" and c["status"] == "True" for c in n["status"]["conditions"])
    }


def _lab_ca_hash(lab) -> str:
    pem = lab.exec(lab.hosts[0], "cat /etc/kubernetes/pki/ca.crt").stdout.encode()
    spki = x509.load_pem_x509_certificate(pem).public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return "sha256:" + hashlib.sha256(spki).hexdigest()


def _all_bytes(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file())


def _applied_cidr(lab, plugin: str) -> str | None:
    manifests = [m for m in lab.cluster_state().get("manifests", []) if m.get("cni") == plugin]
    return manifests[-1].get("cidr") if manifests else None


def test_seed_cluster_comes_up_and_hands_over_the_join_command_and_kubeconfig(lab3, tmp_path, user):
    profile = _profile(lab3, tmp_path)
    result = user.kwizard("apply", "--yes", profile)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    assert _ready_nodes(lab3) == {h.name for h in lab3.hosts}

    joins = JOIN_RE.findall(result.stdout)
    assert len(joins) == 1, "the full join command is printed exactly once, where the user copies it"
    endpoint, token, ca_hash = joins[0]
    assert endpoint == f"{lab3.hosts[0].address}:6443"
    assert ca_hash == _lab_ca_hash(lab3)

    (kubeconfig,) = user.kubeconfigs.glob("*.conf")
    assert stat.S_IMODE(kubeconfig.stat().st_mode) == 0o600
    assert f"export KUBECONFIG={kubeconfig}" in result.stdout
    assert not (user.home / ".kube" / "config").exists(), "never writes the user's own ~/.kube/config"

    (run_dir,) = user.run_dirs()
    everything = _all_bytes(run_dir)
    secret = token.split(".")[1]
    assert secret.encode() not in everything
    assert b"<masked>" in everything, "the token's place is visible, masked"
    assert secret not in result.stderr


def test_a_second_apply_changes_nothing_and_says_so(lab3, tmp_path, user):
    profile = _profile(lab3, tmp_path)
    assert user.kwizard("apply", "--yes", profile).returncode == 0
    ca_before = _lab_ca_hash(lab3)

    again = user.kwizard("apply", "--yes", profile)
    assert again.returncode == 0, again.stdout[-2000:]
    for step in ("hosts-file", "kernel", "firewall", "images", "init", "kubeconfig", "cni-apply", "join"):
        assert f"<== {step}: already done on every host" in again.stdout, step
    assert "Your Kubernetes control-plane has initialized successfully!" not in again.stdout
    assert _lab_ca_hash(lab3) == ca_before, "the cluster was not re-initialised"
    assert _ready_nodes(lab3) == {h.name for h in lab3.hosts}


@pytest.mark.parametrize(("cni", "pod_cidr"), [("calico", "10.48.0.0/16"), ("weave", "10.40.0.0/16")])
def test_calico_and_weave_carry_the_profiles_pod_cidr(lab_factory, tmp_path, user, cni, pod_cidr):
    lab = lab_factory(hosts=2)
    profile = _profile(lab, tmp_path, cni=cni, pod_cidr=pod_cidr)
    result = user.kwizard("apply", "--yes", profile)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert _applied_cidr(lab, cni) == pod_cidr
    assert _ready_nodes(lab) == {h.name for h in lab.hosts}


def test_a_connection_cut_during_join_fails_that_host_and_resume_finishes(lab3, tmp_path, user):
    worker = lab3.hosts[2]
    lab3.set_fault(worker, "cut_during", "kubeadm join")
    profile = _profile(lab3, tmp_path)

    failed = user.kwizard("apply", "--yes", profile)
    assert failed.returncode == 1
    assert f"step 'join' failed on {worker.name}" in failed.stderr
    (run_dir,) = user.run_dirs()
    assert str(run_dir) in failed.stderr

    lab3.clear_fault(worker, "cut_during")
    resumed = user.kwizard("apply", "--yes", "--resume", profile)
    assert resumed.returncode == 0, resumed.stdout[-3000:]
    assert "<== init: already done on every host" in resumed.stdout or "done in an earlier run" in resumed.stdout
    assert _ready_nodes(lab3) == {h.name for h in lab3.hosts}


def test_a_pod_cidr_clashing_with_a_hosts_lan_is_refused_before_anything_changes(lab_factory, tmp_path, user):
    lab = lab_factory(hosts=2, scenario=Scenario("seed-lan", default=HostOptions(lan=True)))
    profile = _profile(lab, tmp_path, cni="calico", pod_cidr="192.168.0.0/16")
    before = [lab.exec(h, "cat /etc/hosts; ls /etc/sysctl.d /etc/kubernetes 2>&1").stdout for h in lab.hosts]

    checked = user.kwizard("check", profile)
    assert checked.returncode == 3
    assert "192.168.0.0/16" in checked.stdout and "192.168.122." in checked.stdout
    assert lab.hosts[0].name in checked.stdout

    applied = user.kwizard("apply", "--yes", profile)
    assert applied.returncode == 3
    after = [lab.exec(h, "cat /etc/hosts; ls /etc/sysctl.d /etc/kubernetes 2>&1").stdout for h in lab.hosts]
    assert after == before, "preflight errors stop the run before any host changes"


def test_reset_then_check_finds_no_cluster(lab3, tmp_path, user):
    profile = _profile(lab3, tmp_path)
    assert user.kwizard("apply", "--yes", profile).returncode == 0
    reset = user.kwizard("reset", "--yes", "--remove-cni-config", profile)
    assert reset.returncode == 0, reset.stdout[-3000:]
    assert "kubectl" in reset.stdout or "drain" in reset.stdout
    check = user.kwizard("check", profile)
    assert check.returncode == 0, check.stdout
    assert "already belongs to a cluster" not in check.stdout


def test_jsonl_output_is_one_json_object_per_line(lab3, tmp_path, user):
    profile = _profile(lab3, tmp_path)
    result = user.kwizard("apply", "--yes", "--output", "jsonl", profile)
    assert result.returncode == 0, result.stderr[-2000:]
    parse = subprocess.run(
        [sys.executable, "-c", "import json,sys; print(sum(1 for line in sys.stdin if json.loads(line)))"],
        input=result.stdout,
        capture_output=True,
        text=True,
    )
    assert parse.returncode == 0, parse.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert events[0]["event"] == "RunStarted" and events[-1]["event"] == "RunFinished"
    assert events[-1]["status"] == "succeeded"
    assert not any(TOKEN_RE.search(line) and "<masked>" not in line for line in result.stdout.splitlines())


def test_apply_without_yes_and_without_a_terminal_refuses(lab3, tmp_path, user):
    profile = _profile(lab3, tmp_path)
    result = user.kwizard("apply", profile)
    assert result.returncode == 2
    assert "--yes" in result.stderr
    assert user.run_dirs() == []
