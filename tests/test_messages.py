"""Messages that name what is really wrong: the key file, the unset variable — said before anything connects."""

from __future__ import annotations

import os
import subprocess
import sys


def run_kwizard(*argv: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "kwizard", *argv], capture_output=True, text=True, timeout=60,
        stdin=subprocess.DEVNULL, env={**os.environ, **(env or {})},
    )


def profile(tmp_path, ssh: str) -> str:
    path = tmp_path / "p.yaml"
    # 127.0.0.1 port 9 (discard): these cases must be refused before any connection is tried.
    path.write_text(
        f"name: lo\nssh: {{{ssh}}}\nhosts:\n  - {{name: cp, address: 127.0.0.1, port: 9, role: control-plane}}\n"
        "cluster: {cni: flannel}\n"
    )
    return str(path)


def test_a_missing_key_file_is_named_as_such_not_as_an_unreachable_host(tmp_path):
    result = run_kwizard("check", profile(tmp_path, f"identity_file: {tmp_path}/no-such-key"))
    said = result.stdout + result.stderr
    assert result.returncode == 3
    assert f"the SSH key file {tmp_path}/no-such-key (ssh.identity_file) does not exist" in said
    assert "unreachable" not in said and "host is up" not in said


def test_an_unset_sudo_password_variable_is_named_and_nothing_is_contacted(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "KWIZARD_TEST_SUDO_PW"}
    result = subprocess.run(
        [sys.executable, "-m", "kwizard", "apply", "--yes", profile(tmp_path, "user: kube, sudo_password_env: KWIZARD_TEST_SUDO_PW")],
        capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL, env=env,
    )
    assert result.returncode == 2
    assert "ssh.sudo_password_env names the variable KWIZARD_TEST_SUDO_PW, which is not set here" in result.stderr
    assert "export KWIZARD_TEST_SUDO_PW" in result.stderr
