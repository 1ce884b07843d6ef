"""What `kwizard validate` does with files that are not profiles: refused at once, exit 2, the reason named."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
import yaml

from kwizard.profile.store import MAX_HOSTS, MAX_PROFILE_BYTES, ProfileError, load, parse

GOOD = """\
name: lab
hosts:
  - name: cp
    address: 10.0.0.1
    role: control-plane
cluster:
  cni: flannel
"""


def validate(path) -> tuple[int, str, float]:
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "kwizard", "validate", str(path)], capture_output=True, text=True, timeout=30
    )
    return result.returncode, result.stdout + result.stderr, time.monotonic() - started


def test_a_fifo_is_refused_at_once_instead_of_blocking(tmp_path):
    fifo = tmp_path / "profile.yaml"
    os.mkfifo(fifo)
    code, out, took = validate(fifo)
    assert code == 2
    assert "not a regular file (a FIFO)" in out
    assert took < 20


@pytest.mark.parametrize(("path", "kind"), [("/dev/null", "a character device"), ("/dev/zero", "a character device")])
def test_a_device_is_refused(path, kind):
    code, out, _ = validate(path)
    assert code == 2 and f"not a regular file ({kind})" in out


def test_a_folder_is_refused(tmp_path):
    code, out, _ = validate(tmp_path)
    assert code == 2 and "this is a folder" in out


def test_a_file_over_the_size_limit_is_refused_without_being_parsed(tmp_path):
    big = tmp_path / "big.yaml"
    big.write_text("name: " + "x" * (MAX_PROFILE_BYTES + 10) + "\n")
    code, out, _ = validate(big)
    assert code == 2
    assert f"at most {MAX_PROFILE_BYTES:,} bytes" in out
    assert "xxxxxxxxxx" not in out  # the value is not echoed back


def test_more_hosts_than_the_limit_is_refused_naming_the_field(tmp_path):
    hosts = [{"name": f"h{i}", "address": f"10.1.{i // 250}.{i % 250 + 1}", "role": "worker"} for i in range(MAX_HOSTS + 1)]
    hosts[0]["role"] = "control-plane"
    path = tmp_path / "many.yaml"
    path.write_text(yaml.safe_dump({"name": "many", "hosts": hosts, "cluster": {"cni": "flannel"}}))
    with pytest.raises(ProfileError) as caught:
        load(path)
    (problem,) = caught.value.problems
    assert problem.path == "hosts" and f"at most {MAX_HOSTS:,} hosts" in problem.message


def test_a_key_written_twice_is_named_with_both_lines():
    text = GOOD.replace("    role: control-plane\n", "    role: control-plane\n    role: worker\n") + "name: other\n"
    with pytest.raises(ProfileError) as caught:
        parse(text, "p.yaml")
    rendered = str(caught.value)
    assert "p.yaml:6: hosts[0].role: written twice (first on line 5); keep one" in rendered
    assert "p.yaml:9: name: written twice (first on line 1); keep one" in rendered


def test_a_profile_that_is_not_utf8_says_so(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes(GOOD.encode() + "# caf\xe9\n".encode("latin-1"))
    with pytest.raises(ProfileError) as caught:
        load(path)
    assert "not UTF-8 text" in str(caught.value)


def test_the_good_profile_still_loads(tmp_path):
    path = tmp_path / "good.yaml"
    path.write_text(GOOD)
    assert load(path).name == "lab"


def test_every_problem_of_a_file_is_reported_in_one_pass_including_the_rules_across_hosts():
    text = """\
name: lab
hosts:
  - name: cp
    address: 10.0.0.1
    role: control-plane
    adress: typo
  - name: cp2
    address: 10.0.0.2
    role: control-plane
cluster:
  pod_cidr: 10.244.0.1/16
"""
    with pytest.raises(ProfileError) as caught:
        parse(text, "p.yaml")
    paths = [p.path for p in caught.value.problems]
    assert "hosts[0].adress" in paths  # the typo
    assert "cluster.pod_cidr" in paths  # the bad CIDR
    assert "hosts" in paths  # two control planes, although a host is invalid
    (fleet,) = [p for p in caught.value.problems if p.path == "hosts"]
    assert "2 hosts have role control-plane (cp, cp2)" in fleet.message
