"""`kwizard export` against the lab: the playbook and the runbooks make the same cluster `kwizard apply` makes.

Each test starts real sshd hosts (tests/lab), exports from their facts (as
`kwizard check` connects), runs what was exported the way a person would
(ansible-playbook; ssh host sudo bash -s < host.sh), and reads the hosts back.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from kwizard.profile import store

pytestmark = pytest.mark.lab

TOKEN_RE = re.compile(r"[a-z0-9]{6}\.[a-z0-9]{16}")
RECAP_RE = re.compile(r"^(\S+)\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)
KUBECTL = "kubectl --kubeconfig=/etc/kubernetes/admin.conf"
SAME_FILES = (
    "/etc/kubernetes/kwizard/kubeadm-config.yaml",
    "/etc/kubernetes/kwizard/cni/kwizard-kube-flannel.yml",
    "/etc/sysctl.d/99-kwizard-k8s.conf",
    "/etc/modules-load.d/kwizard-k8s.conf",
    "/etc/hosts",
    "/home/kube/.kube/config",
)


def _kwizard(tmp_path: Path, *args: str, timeout: float = 300, input: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "HOME": str(tmp_path / "home"), "XDG_CONFIG_HOME": str(tmp_path / "config"),
           "XDG_STATE_HOME": str(tmp_path / "state")}
    (tmp_path / "home").mkdir(exist_ok=True)
    return subprocess.run([sys.executable, "-m", "kwizard", *args], env=env, capture_output=True, text=True,
                          timeout=timeout, input=input, stdin=None if input is not None else subprocess.DEVNULL)


def _profile(lab, tmp_path: Path, name: str, **profile_args) -> str:
    """The lab's profile under a fixed cluster name, so two labs' files compare equal but for addresses."""
    path = lab.write_profile(tmp_path / f"{name}-{lab.id}.yaml", **profile_args)
    profile = store.load(path).model_copy(update={"name": name})
    return str(store.save(profile, path))


def _ready_nodes(lab) -> set[str]:
    nodes = json.loads(lab.exec(lab.hosts[0], f"{KUBECTL} get nodes -o json").stdout)["items"]
    return {n["metadata"]["name"] for n in nodes
            if any(c["type"] == "Ready" and c["status"] == "True" for c in n["status"]["conditions"])}


def _files(lab) -> dict[tuple[str, str], str]:
    prefix = str(lab.subnet.network_address).rsplit(".", 1)[0] + "."
    found = {}
    for host in lab.hosts:
        for path in SAME_FILES:
            text = lab.exec(host, f"cat {path} 2>/dev/null || echo '(absent)'").stdout
            if path.endswith("kube/config"):
                text = "(present)" if "(absent)" not in text else text  # its keys are the cluster's own
            elif path == "/etc/hosts":
                text = "\n".join(re.findall(r"^# BEGIN kwizard.*?^# END kwizard \S+$", text, re.M | re.S))
            found[(host.name, path)] = text.replace(prefix, "<lab>.")
    return found


def _ansible_playbook() -> str:
    found = shutil.which("ansible-playbook") or shutil.which("ansible-playbook", path=os.path.dirname(sys.executable))
    if found:
        return found
    reason = "ansible-playbook is not installed (pip install ansible-core, the test extras)"
    if os.environ.get("CI"):
        pytest.fail(f"the export lab tests must run in CI, but: {reason}", pytrace=False)
    pytest.skip(reason)


def _run_playbook(tool: str, out: Path, tmp_path: Path) -> subprocess.CompletedProcess:
    control = tempfile.mkdtemp(prefix="kwa")  # ssh's ControlPath must stay short
    env = {**os.environ, "ANSIBLE_HOME": str(tmp_path / "ansible-home"), "ANSIBLE_LOCAL_TEMP": str(tmp_path / "ansible-tmp"),
           "ANSIBLE_SSH_CONTROL_PATH_DIR": control, "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0"}
    try:
        return subprocess.run([tool, "-i", str(out / "inventory"), str(out / "site.yml")], env=env,
                              capture_output=True, text=True, timeout=600)
    finally:
        shutil.rmtree(control, ignore_errors=True)


def _recap(output: str) -> dict[str, tuple[int, int, int, int]]:
    return {m[1]: tuple(int(x) for x in m.groups()[1:]) for m in RECAP_RE.finditer(output)}


def test_the_playbook_builds_the_cluster_apply_builds_and_a_second_run_changes_nothing(lab_factory, tmp_path):
    tool = _ansible_playbook()
    lab, twin = lab_factory(hosts=3), lab_factory(hosts=3)
    profile, twin_profile = _profile(lab, tmp_path, "export-lab"), _profile(twin, tmp_path, "export-lab")
    out = tmp_path / "ansible"

    exported = _kwizard(tmp_path, "export", "ansible", profile, "-o", str(out))
    assert exported.returncode == 0, exported.stdout + exported.stderr

    apply_dir = tmp_path / "apply"
    apply_dir.mkdir()
    applying = subprocess.Popen(  # kwizard apply on the twin lab meanwhile
        [sys.executable, "-m", "kwizard", "apply", "--yes", twin_profile], stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "HOME": str(apply_dir), "XDG_CONFIG_HOME": str(apply_dir / "c"), "XDG_STATE_HOME": str(apply_dir / "s")},
    )
    first = _run_playbook(tool, out, tmp_path)
    applied, _ = applying.communicate(timeout=600)
    assert first.returncode == 0, first.stdout[-6000:] + first.stderr[-3000:]
    assert applying.returncode == 0, applied[-3000:]

    assert _ready_nodes(lab) == {h.name for h in lab.hosts}
    assert "check its CA hash against the control plane's CA" in first.stdout  # the verify task ran, and passed
    assert not TOKEN_RE.search(first.stdout + first.stderr), "no token in ansible's output"
    recap = _recap(first.stdout)
    assert set(recap) == {h.name for h in lab.hosts}
    assert all(failed == 0 and unreachable == 0 for _ok, _changed, unreachable, failed in recap.values())

    second = _run_playbook(tool, out, tmp_path)
    assert second.returncode == 0, second.stdout[-4000:]
    assert {host: changed for host, (_ok, changed, _u, _f) in _recap(second.stdout).items()} == {h.name: 0 for h in lab.hosts}

    files = _files(lab)
    assert "advertiseAddress: <lab>.10" in files[(lab.hosts[0].name, SAME_FILES[0])]
    assert all("(absent)" not in files[(h.name, "/etc/sysctl.d/99-kwizard-k8s.conf")] for h in lab.hosts)
    assert files == _files(twin), "the playbook leaves the same files as kwizard apply"
    assert _ready_nodes(twin) == {h.name for h in twin.hosts}


def test_the_runbooks_run_host_by_host_over_ssh_make_a_working_cluster(lab_factory, tmp_path):
    lab = lab_factory(hosts=3)
    manifest = lab.sim_dir / "manifests" / "kube-flannel.yml"  # the runbook carries the manifest patched ahead of time
    profile = _profile(lab, tmp_path, "export-runbook", cni_options={"manifest_file": str(manifest)})
    out = tmp_path / "runbooks"
    exported = _kwizard(tmp_path, "export", "script", profile, "-o", str(out))
    assert exported.returncode == 0, exported.stdout + exported.stderr
    cp, *workers = lab.hosts
    for text in (p.read_text() for p in out.iterdir()):
        assert not TOKEN_RE.search(text)

    def ssh(host, remote: str, stdin: bytes) -> subprocess.CompletedProcess:
        command = ["ssh", "-i", str(lab.client_key), "-o", f"UserKnownHostsFile={lab.known_hosts}",
                   "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", f"{host.user}@{host.address}", remote]
        return subprocess.run(command, input=stdin, capture_output=True, timeout=300)

    first = ssh(cp, "sudo bash -s", (out / f"{cp.name}.sh").read_bytes())
    assert first.returncode == 0, first.stdout.decode()[-3000:] + first.stderr.decode()[-2000:]
    assert b"Stop here" in first.stdout
    printed_hash = re.search(rb"CA hash of this control plane: (sha256:[0-9a-f]{64})", first.stdout)[1].decode()

    join = ssh(cp, "sudo kubeadm token create --print-join-command", b"").stdout
    assert printed_hash.encode() in join, "the runbook's CA hash is the one the join command pins"
    for worker in workers:
        ran = ssh(worker, "sudo bash -c 'read -r KWIZARD_JOIN_COMMAND && export KWIZARD_JOIN_COMMAND && exec bash -s'",
                  join + (out / f"{worker.name}.sh").read_bytes())
        assert ran.returncode == 0, ran.stdout.decode()[-3000:] + ran.stderr.decode()[-2000:]

    last = ssh(cp, "sudo bash -s after-join", (out / f"{cp.name}.sh").read_bytes())
    assert last.returncode == 0, last.stdout.decode()[-3000:] + last.stderr.decode()[-2000:]
    assert b"<== init: already done here" in last.stdout
    assert _ready_nodes(lab) == {h.name for h in lab.hosts}
    patched = lab.exec(cp, "cat /etc/kubernetes/kwizard/cni/kwizard-kube-flannel.yml").stdout
    assert "10.244.0.0/16" in patched
