"""`kwizard validate` and `--version`, run as a user runs them: a real process."""

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def kwizard(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kwizard", *args], cwd=cwd, capture_output=True, text=True, timeout=60)


def test_version_prints_the_version():
    result = kwizard("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("kwizard ")


def test_example_profiles_validate():
    examples = sorted(str(p) for p in (REPO / "profiles").glob("*.yaml"))
    result = kwizard("validate", *examples)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count(": ok") == len(examples)


def test_bad_profile_exits_2_with_one_message_per_problem(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "version: 1\nname: lab\nhosts:\n"
        "  - {name: cp, address: 10.0.0.1, role: control-plane}\n"
        "  - {name: w1, address: 10.0.0.2, role: control-plane}\n"
        "cluster:\n  pod_cidr: 10.244.0.1/16\n  cnii: flannel\n"
    )
    result = kwizard("validate", str(bad))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 3, result.stderr
    assert any("cluster.cnii" in line for line in lines)
    assert any("cluster.pod_cidr" in line and "10.244.0.0/16" in line for line in lines)
    assert any(line.split(": ")[1] == "hosts" and "control-plane" in line for line in lines)
    assert "Traceback" not in result.stderr


def test_one_bad_file_among_good_ones_still_fails(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [\n")
    result = kwizard("validate", str(REPO / "profiles" / "seed-flannel.yaml"), str(bad))
    assert result.returncode == 2
    assert "seed-flannel.yaml: ok" in result.stdout
    assert "bad.yaml:" in result.stderr


def test_plan_upgrade_to_prints_the_upgrade_plan_without_contacting_anything():
    shown = kwizard("plan", "--upgrade-to", "1.34", "profiles/seed-flannel.yaml")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith("Plan 'upgrade' for profile seed-flannel")
    assert "kubeadm upgrade apply" in shown.stdout and "kubeadm upgrade node" in shown.stdout
    bad = kwizard("plan", "--upgrade-to", "latest", "profiles/seed-flannel.yaml")
    assert bad.returncode == 2 and "--upgrade-to 'latest': write the version like 1.34" in bad.stderr


def test_a_reader_that_goes_away_ends_the_output_quietly():
    shown = subprocess.run(f"{sys.executable} -m kwizard plan --upgrade-to 1.34 profiles/seed-flannel.yaml | head -1",
                           shell=True, cwd=REPO, capture_output=True, text=True, timeout=60)
    assert shown.stdout.startswith("Plan 'upgrade'") and "Traceback" not in shown.stderr
