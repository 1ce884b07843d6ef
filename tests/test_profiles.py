"""Loading and saving profiles as a user meets them: files, messages, permissions."""

import os
import stat
from pathlib import Path

import pytest

from kwizard.profile import store as profiles
from kwizard.profile.model import Profile
from kwizard.profile.store import ProfileError, load, parse, save

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((REPO / "profiles").glob("*.yaml"))

GOOD = """\
version: 1
name: lab
hosts:
  - name: cp
    address: 10.0.0.1
    role: control-plane
  - name: w1
    address: 10.0.0.2
cluster:
  cni: calico
  pod_cidr: 10.48.0.0/16
"""

# A typo'd key, a bad CIDR and two control planes: three problems, three messages.
THREE_PROBLEMS = """\
version: 1
name: lab
hosts:
  - name: cp
    address: 10.0.0.1
    role: control-plane
  - name: w1
    address: 10.0.0.2
    role: control-plane
cluster:
  cnii: flannel
  pod_cidr: 10.244.0.1/16
"""


def test_every_example_profile_loads():
    assert EXAMPLES, "the profiles/ folder has examples"
    for path in EXAMPLES:
        assert isinstance(load(path), Profile)


def test_three_problems_give_three_messages_each_naming_its_field_and_line():
    with pytest.raises(ProfileError) as exc:
        parse(THREE_PROBLEMS, "bad.yaml")
    rendered = [p.render("bad.yaml") for p in exc.value.problems]
    assert len(rendered) == 3
    by_path = {p.path: p for p in exc.value.problems}
    assert "unknown key 'cnii'" in by_path["cluster.cnii"].message
    assert by_path["cluster.cnii"].line == 11
    assert "did you mean 10.244.0.0/16" in by_path["cluster.pod_cidr"].message
    assert by_path["cluster.pod_cidr"].line == 12
    assert "2 hosts have role control-plane" in by_path["hosts"].message
    assert all(r.startswith("bad.yaml:") for r in rendered)


def test_a_password_in_a_profile_is_refused_with_the_reference_to_use():
    text = GOOD.replace("name: lab\n", "name: lab\nssh:\n  sudo_password: hunter2\n")
    with pytest.raises(ProfileError) as exc:
        parse(text)
    (problem,) = exc.value.problems
    assert problem.path == "ssh.sudo_password"
    assert "sudo_password_env: VAR" in problem.message
    assert "hunter2" not in str(exc.value)


def test_unknown_schema_version_is_named_and_the_file_left_alone(tmp_path):
    path = tmp_path / "future.yaml"
    path.write_text(GOOD.replace("version: 1", "version: 9"))
    before = path.read_bytes()
    with pytest.raises(ProfileError) as exc:
        load(path)
    assert "schema version 9" in str(exc.value)
    assert exc.value.problems[0].line == 1
    assert path.read_bytes() == before


@pytest.mark.parametrize(
    ("text", "expected"),
    [("name: [unclosed\n", "not valid YAML"), ("", "the file is empty"), ("- a\n- b\n", "the file is a list")],
)
def test_broken_yaml_is_one_readable_message(text, expected):
    with pytest.raises(ProfileError) as exc:
        parse(text)
    assert expected in str(exc.value)


def test_missing_file_says_so(tmp_path):
    with pytest.raises(ProfileError, match="no such file"):
        load(tmp_path / "nope.yaml")


def test_save_then_load_round_trips_and_is_private(tmp_path):
    profile = parse(GOOD)
    path = save(profile, tmp_path / "sub" / "lab.yaml")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load(path) == profile
    assert list(path.parent.iterdir()) == [path], "no temp file left behind"


def test_a_failed_save_leaves_the_old_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "lab.yaml"
    save(parse(GOOD), path)
    before = path.read_bytes()

    def disk_full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    changed = parse(GOOD.replace("calico", "weave").replace("10.48.0.0/16", "10.32.0.0/12"))
    with pytest.raises(OSError):
        save(changed, path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["lab.yaml"]


def test_saved_yaml_keeps_a_readable_order(tmp_path):
    text = profiles.dump(parse(GOOD))
    assert text.index("version") < text.index("name") < text.index("hosts") < text.index("cluster")


def test_profile_list_shows_name_hosts_plugin_and_flags_broken_files(tmp_path):
    save(parse(GOOD), tmp_path / "lab.yaml")
    (tmp_path / "broken.yaml").write_text("name: [\n")
    (tmp_path / "notes.txt").write_text("not a profile")
    summaries = {s.path.name: s for s in profiles.list_profiles([tmp_path, tmp_path / "missing"])}
    assert set(summaries) == {"lab.yaml", "broken.yaml"}
    assert (summaries["lab.yaml"].name, summaries["lab.yaml"].host_count, summaries["lab.yaml"].cni) == ("lab", 2, "calico")
    assert summaries["broken.yaml"].error and "YAML" in summaries["broken.yaml"].error


def test_user_profiles_live_in_the_xdg_config_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert profiles.user_profiles_dir() == tmp_path / "kwizard" / "profiles"
