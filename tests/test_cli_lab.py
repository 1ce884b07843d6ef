"""More of the CLI against the lab: one-host clusters, join-command, kubeconfig,
sudo passwords, host keys, a host that is down, and the seed's Flannel failure."""

from __future__ import annotations

import json
import re
import stat

import pytest

from tests.lab.scenario import HostOptions, Scenario
from tests.test_apply_lab import JOIN_RE, User, _all_bytes, _lab_ca_hash, _profile, _ready_nodes

pytestmark = pytest.mark.lab

SUDO_PASSWORD = "lab-Sudo-pw-42"


@pytest.fixture
def user(tmp_path) -> User:
    return User(tmp_path)


def _taints(lab, node: str) -> list[str]:
    out = lab.exec(lab.hosts[0], f"kubectl --kubeconfig=/etc/kubernetes/admin.conf get node {node} -o json").stdout
    return [t["key"] for t in json.loads(out).get("spec", {}).get("taints", []) or []]


def test_a_one_host_cluster_is_untainted_so_pods_can_run(lab_factory, tmp_path, user):
    lab = lab_factory(hosts=1)
    result = user.kwizard("apply", "--yes", _profile(lab, tmp_path))
    assert result.returncode == 0, result.stdout[-3000:]
    assert "untaint done" in result.stdout
    assert "node-role.kubernetes.io/control-plane" not in _taints(lab, lab.hosts[0].name)
    assert _ready_nodes(lab) == {lab.hosts[0].name}
    assert "kubeadm join" not in result.stdout.split("The cluster is up.")[1].split("On the control plane")[0]


def test_join_command_prints_a_fresh_verified_command_and_kubeconfig_writes_a_private_file(lab3, tmp_path, user):
    profile = _profile(lab3, tmp_path)
    assert user.kwizard("apply", "--yes", profile).returncode == 0

    join = user.kwizard("join-command", profile)
    assert join.returncode == 0, join.stderr
    ((endpoint, _token, ca_hash),) = JOIN_RE.findall(join.stdout)
    assert endpoint == f"{lab3.hosts[0].address}:6443"
    assert ca_hash == _lab_ca_hash(lab3)

    target = tmp_path / "out" / "admin.conf"
    target.parent.mkdir()
    fetched = user.kwizard("kubeconfig", "-o", str(target), profile)
    assert fetched.returncode == 0, fetched.stderr
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert "current-context:" in target.read_text()
    assert f"export KUBECONFIG={target}" in fetched.stdout

    before = target.read_bytes()
    refused = user.kwizard("kubeconfig", "-o", str(target), profile)
    assert refused.returncode == 2 and "--force" in refused.stderr
    assert target.read_bytes() == before, "an existing file is never replaced without --force"


def test_host_labels_reach_the_nodes(lab_factory, tmp_path, user):
    lab = lab_factory(hosts=2)
    profile = lab.profile()
    profile.hosts[1].labels = {"disk": "ssd"}
    from kwizard.profile.store import save

    path = save(profile, tmp_path / "labels.yaml")
    result = user.kwizard("apply", "--yes", str(path))
    assert result.returncode == 0, result.stdout[-2000:]
    node = lab.hosts[1].name
    out = lab.exec(lab.hosts[0], f"kubectl --kubeconfig=/etc/kubernetes/admin.conf get node {node} -o json").stdout
    assert json.loads(out)["metadata"]["labels"]["disk"] == "ssd"


def test_sudo_password_from_stdin_works_and_is_never_written(lab_factory, tmp_path, user):
    lab = lab_factory(hosts=2, scenario=Scenario("sudo-password", default=HostOptions(sudo_password=SUDO_PASSWORD)))
    profile = _profile(lab, tmp_path)

    refused = user.kwizard("check", profile)  # the profile names a password variable that is not set
    assert refused.returncode == 2
    assert "ssh.sudo_password_env names the variable KWIZARD_LAB_SUDO_PASSWORD, which is not set here" in refused.stderr

    result = user.kwizard("apply", "--yes", "--sudo-password-stdin", profile, input=SUDO_PASSWORD + "\n")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert SUDO_PASSWORD not in result.stdout + result.stderr
    (run_dir,) = user.run_dirs()
    assert SUDO_PASSWORD.encode() not in _all_bytes(run_dir)


def test_wrong_sudo_password_fails_fast_with_a_clear_message(lab_factory, tmp_path, user):
    lab = lab_factory(hosts=1, scenario=Scenario("sudo-password", default=HostOptions(sudo_password=SUDO_PASSWORD)))
    result = user.kwizard("check", "--sudo-password-stdin", _profile(lab, tmp_path), input="not-it\n", timeout=60)
    assert result.returncode == 3
    assert "sudo" in result.stdout.lower() and "password" in result.stdout.lower()
    assert "not-it" not in result.stdout + result.stderr


def test_a_host_that_is_down_is_named_and_stops_apply_before_changes(lab_factory, tmp_path, user):
    lab = lab_factory(hosts=3, scenario=Scenario("ssh-down").with_host(1, ssh_down=True))
    profile = _profile(lab, tmp_path)
    check = user.kwizard("check", profile)
    assert check.returncode == 3
    down = lab.hosts[1]
    assert re.search(rf"{down.name}.*(refused|unreachable|cannot connect)", check.stdout, re.IGNORECASE | re.DOTALL)
    assert lab.hosts[0].name in check.stdout and lab.hosts[2].name in check.stdout
    applied = user.kwizard("apply", "--yes", profile)
    assert applied.returncode == 3
    assert "/etc/kubernetes/admin.conf" not in lab.exec(lab.hosts[0], "ls /etc/kubernetes/admin.conf 2>/dev/null").stdout


def test_unknown_host_keys_need_accept_new_and_the_flag(lab_factory, tmp_path, user):
    lab = lab_factory(hosts=2)
    empty_known_hosts = tmp_path / "known_hosts"
    empty_known_hosts.write_text("")
    strict = _profile(lab, tmp_path)
    text = open(strict).read().replace(str(lab.known_hosts), str(empty_known_hosts))
    strict_path = tmp_path / "strict.yaml"
    strict_path.write_text(text)
    refused = user.kwizard("check", str(strict_path))
    assert refused.returncode == 3
    assert "SHA256:" in refused.stdout, "the unknown key's fingerprint is shown"

    accept_path = tmp_path / "accept.yaml"
    accept_path.write_text(text.replace("host_key_policy: strict", "host_key_policy: accept-new"))
    no_flag = user.kwizard("check", str(accept_path))
    assert no_flag.returncode == 3, "without a terminal and without the flag, nobody confirmed the key"
    accepted = user.kwizard("check", "--accept-new-host-keys", str(accept_path))
    assert accepted.returncode == 0, accepted.stdout
    assert len(empty_known_hosts.read_text().splitlines()) == 2
    again = user.kwizard("check", str(accept_path))
    assert again.returncode == 0, "recorded keys need no confirmation the second time"


def test_a_changed_host_key_is_refused_even_with_accept_new(lab_factory, tmp_path, user):
    lab = lab_factory(hosts=1, scenario=Scenario("host-key-changed").with_host(0, host_key_changed=True))
    profile_path = tmp_path / "accept.yaml"
    text = open(_profile(lab, tmp_path)).read().replace("host_key_policy: strict", "host_key_policy: accept-new")
    profile_path.write_text(text)
    result = user.kwizard("check", "--accept-new-host-keys", str(profile_path))
    assert result.returncode == 3
    assert result.stdout.count("SHA256:") >= 2, "both the recorded and the offered fingerprint are shown"
    assert "ssh-keygen -R" in result.stdout


FLANNEL_INIT_WITHOUT_POD_CIDR = """\
cat > /tmp/no-pod-cidr.yaml <<'EOF'
apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
localAPIEndpoint:
  advertiseAddress: {address}
nodeRegistration:
  name: {name}
  criSocket: unix:///var/run/containerd/containerd.sock
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
kubernetesVersion: v1.33.2
EOF
sysctl -w net.ipv4.ip_forward=1
kubeadm init --config /tmp/no-pod-cidr.yaml
"""


def _init_without_pod_cidr(lab) -> None:
    cp = lab.hosts[0]
    init = lab.exec(cp, FLANNEL_INIT_WITHOUT_POD_CIDR.format(address=cp.address, name=cp.name))
    assert init.returncode == 0, init.stdout + init.stderr


def test_a_control_plane_initialised_without_a_pod_cidr_is_refused_before_flannel(lab_factory, tmp_path, user):
    """The seed's own failure, caught before anything changes: init ran without --pod-network-cidr."""
    lab = lab_factory(hosts=1)
    _init_without_pod_cidr(lab)
    result = user.kwizard("apply", "--yes", _profile(lab, tmp_path))
    assert result.returncode == 3, result.stdout[-2000:]
    assert "initialised without a pod network" in result.stdout
    assert "pod cidr not assigned" in result.stdout
    assert not any(m.get("cni") for m in lab.cluster_state().get("manifests", [])), "no plugin was applied"


async def test_flannel_crash_looping_without_a_pod_cidr_is_diagnosed_when_nodes_stay_not_ready(lab_factory, tmp_path):
    """If Flannel runs on such a cluster anyway, the ready step's diagnosis names the cause and the fix."""
    from kwizard.run.events import StepFinished
    from kwizard.plan.setup import build_setup_plan
    from kwizard.run.rundir import RunDir
    from kwizard.run.runner import Runner
    from kwizard.ssh import Fleet
    from kwizard.plan.steps import Plan

    lab = lab_factory(hosts=1)
    _init_without_pod_cidr(lab)
    cp = lab.hosts[0]
    applied = lab.exec(cp, "curl -fsSL -o /tmp/f.yml https://github.com/flannel-io/flannel/releases/download/v0.28.9/"
                       "kube-flannel.yml && kubectl --kubeconfig=/etc/kubernetes/admin.conf apply -f /tmp/f.yml")
    assert applied.returncode == 0, applied.stderr
    profile = lab.profile(wait_ready_seconds=10)
    ready = build_setup_plan(profile).step("ready")
    events = []
    async with Fleet(profile, ssh_config=[], use_agent=False) as fleet:
        runner = Runner(Plan("setup", [ready], (cp.name,)), fleet.session,
                        run_dir=RunDir.create("setup", profile.name, base=tmp_path / "runs"), listeners=[events.append])
        result = await runner.run()
    assert result.status == "failed"
    (finished,) = [e for e in events if isinstance(e, StepFinished)]
    assert "pod cidr not assigned" in "\n".join(getattr(e, "line", "") for e in events)
    assert finished.diagnosis.startswith("Flannel cannot start: the nodes have no pod CIDR")
    assert "kubeadm init ran without a pod network" in finished.diagnosis
