"""The join step's script: the token reaches kubeadm in a 0600 file, never in any process's arguments.

The script runs here in bash with stand-ins for `systemctl` and `kubeadm`
(they record their argv, and kubeadm its --config file and its mode);
tests/test_fault_matrix_lab.py watches /proc/*/cmdline on lab hosts during a
whole run.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import yaml

from kwizard.plan.cluster_scripts import kubeadm_join

TOKEN = "abcdef.0123456789abcdef"
PIN = "sha256:" + "a" * 64
PIN2 = "sha256:" + "b" * 64
COMMAND = f"kubeadm join 10.0.0.1:6443 --token {TOKEN} --discovery-token-ca-cert-hash {PIN} --discovery-token-ca-cert-hash {PIN2}"

STANDIN_KUBEADM = """#!/bin/bash
printf '%s\\n' "$*" >> "$RECORD/argv"
config=${3:-}
cp "$config" "$RECORD/join.yaml"
stat -c %a "$config" > "$RECORD/mode"
stat -c %a "$(dirname "$config")" > "$RECORD/folder-mode"
echo "$config" > "$RECORD/path"
"""


def run_join(tmp_path: Path, script: str) -> subprocess.CompletedProcess:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "kubeadm").write_text(STANDIN_KUBEADM)
    (bin_dir / "systemctl").write_text('#!/bin/bash\nprintf \'%s\\n\' "systemctl $*" >> "$RECORD/argv"\n')
    for tool in bin_dir.iterdir():
        tool.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "RECORD": str(tmp_path), "TMPDIR": str(tmp_path)}
    return subprocess.run(["bash", "-c", "set -euo pipefail\n" + script], capture_output=True, text=True, env=env, timeout=30)


def test_kubeadm_gets_a_private_config_file_and_no_token_in_argv(tmp_path):
    script = kubeadm_join(COMMAND, node_name="w1", cri_socket="unix:///run/containerd/containerd.sock",
                          config_api="kubeadm.k8s.io/v1beta4")
    result = run_join(tmp_path, script)
    assert result.returncode == 0, result.stderr
    argv = (tmp_path / "argv").read_text()
    assert TOKEN not in argv and "0123456789abcdef" not in argv
    assert argv.splitlines() == ["systemctl enable kubelet", f"join --config {(tmp_path / 'path').read_text().strip()}"]
    assert (tmp_path / "mode").read_text().strip() == "600"
    assert (tmp_path / "folder-mode").read_text().strip() == "700"
    config = yaml.safe_load((tmp_path / "join.yaml").read_text())
    assert config == {
        "apiVersion": "kubeadm.k8s.io/v1beta4",
        "kind": "JoinConfiguration",
        "discovery": {"bootstrapToken": {"apiServerEndpoint": "10.0.0.1:6443", "token": TOKEN, "caCertHashes": [PIN, PIN2]}},
        "nodeRegistration": {"name": "w1", "criSocket": "unix:///run/containerd/containerd.sock"},
    }
    assert not Path((tmp_path / "path").read_text().strip()).exists()  # removed when the script ended


def test_the_config_file_is_removed_when_kubeadm_fails(tmp_path):
    script = kubeadm_join(COMMAND, node_name="w1", cri_socket=None, config_api="kubeadm.k8s.io/v1beta3")
    script = script.replace('kubeadm join --config "$folder/join.yaml"', 'kubeadm join --config "$folder/join.yaml"; exit 3')
    result = run_join(tmp_path, script)
    assert result.returncode == 3
    assert not Path((tmp_path / "path").read_text().strip()).exists()
    assert "criSocket" not in (tmp_path / "join.yaml").read_text()


def test_a_command_that_is_not_kubeadm_join_is_refused(tmp_path):
    script = kubeadm_join("rm -rf /tmp/x --token y", node_name="w1", cri_socket=None, config_api="kubeadm.k8s.io/v1beta4")
    result = run_join(tmp_path, script)
    assert result.returncode == 1 and "not a kubeadm join command" in result.stderr
    assert not (tmp_path / "path").exists()


def test_a_hostile_cri_socket_is_written_as_text_not_run(tmp_path):
    script = kubeadm_join(COMMAND, node_name="w1", cri_socket="unix:///run/$(touch pwned).sock",
                          config_api="kubeadm.k8s.io/v1beta4")
    run_join(tmp_path, script)
    assert not any(p.name == "pwned" for p in tmp_path.rglob("*"))
    assert yaml.safe_load((tmp_path / "join.yaml").read_text())["nodeRegistration"]["criSocket"] == "unix:///run/$(touch pwned).sock"
