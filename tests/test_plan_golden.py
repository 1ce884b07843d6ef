"""Golden files for `kwizard plan`: every script kwizard would send, checked in as text.

Each case runs the real CLI in-process (`kwizard plan [flags] PROFILE`, which
contacts nothing) and compares its whole output with a plain-text file under
tests/__snapshots__/test_plan_golden/. A change to any remote script, probe,
step title or order shows up in review as a readable diff of that file.

The profiles: every example in profiles/, and the ones in tests/plan_profiles/
(Calico, Weave Net with its encryption password named by a variable,
install_packages, a one-host cluster); plus the reset plan, plain and with
every cleanup flag.

After an intended change, regenerate the files with the one command

    python -m pytest tests/test_plan_golden.py --snapshot-update

then read the diff (`git diff tests/__snapshots__/test_plan_golden/`) before
committing it: it is exactly what changed on the hosts' side.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from syrupy.extensions.single_file import SingleFileSnapshotExtension, WriteMode

from kwizard.cli.main import main

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "profiles").glob("*.yaml"))
TEST_PROFILES = ROOT / "tests" / "plan_profiles"

RESET_ALL = ["--reset", "--flush-iptables", "--clear-ipvs", "--remove-cni-config"]

# (snapshot id, profile path relative to the repository, extra flags)
CASES = [
    *((f"example-{p.stem}", f"profiles/{p.name}", []) for p in EXAMPLES),
    ("calico", "tests/plan_profiles/calico.yaml", []),
    ("weave-password", "tests/plan_profiles/weave-password.yaml", []),
    ("install-packages", "tests/plan_profiles/install-packages.yaml", []),
    ("one-host", "tests/plan_profiles/one-host.yaml", []),
    ("reset-seed-flannel", "profiles/seed-flannel.yaml", ["--reset"]),
    ("reset-all-cleanups-calico", "tests/plan_profiles/calico.yaml", RESET_ALL),
]

# Environment variables a profile may name; the plan must never depend on their values.
NAMED_SECRETS = ("KWIZARD_SUDO_PASSWORD", "WEAVE_PASSWORD", "GOLDEN_SUDO_PASSWORD", "GOLDEN_WEAVE_PASSWORD")


class PlanText(SingleFileSnapshotExtension):
    """One readable .txt file per case (syrupy's default single-file format is binary)."""

    _file_extension = "txt"
    _write_mode = WriteMode.TEXT


@pytest.fixture
def golden(snapshot):
    return snapshot.use_extension(PlanText)


def _normalise(text: str) -> str:
    """Replace machine-specific absolute paths with stable markers.

    Today's plans hold none (scripts name host paths such as /etc/kubernetes
    only), but a profile path, a local manifest_file or a known_hosts file
    under the home folder would be expanded to this machine's absolute path;
    the golden files must read the same on every machine, so such paths are
    written as <repo> and <home>. The repository is replaced first: it may
    live under the home folder.
    """
    text = text.replace(str(ROOT), "<repo>")
    return text.replace(str(Path.home()), "<home>")


def test_every_profile_has_a_golden_plan():
    """A new example or test profile gets its golden file without anyone remembering to add it."""
    assert EXAMPLES, "no example profiles found"
    named = {path for _, path, _ in CASES}
    assert {f"profiles/{p.name}" for p in EXAMPLES} <= named
    assert {f"tests/plan_profiles/{p.name}" for p in TEST_PROFILES.glob("*.yaml")} <= named


@pytest.mark.parametrize(("case", "profile", "flags"), CASES, ids=[c[0] for c in CASES])
def test_plan(case, profile, flags, golden, capsys, monkeypatch):
    for name in NAMED_SECRETS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(ROOT)
    code = main(["plan", *flags, profile])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert err == ""
    assert _normalise(out) == golden


# --- the distribution-dependent steps per family x Kubernetes minor ------------------------------
# The packages step renders one script per distribution family from the host's facts (os-release,
# package manager), so `kwizard plan` without a connection cannot show them. These goldens render
# the steps that differ by family (kernel, swap, packages, images with the kubeadm config) with
# synthetic facts: a fresh host of that system, and the kubeadm version the packages step then reads
# back (what the images/init config is rendered from). Review each against docs/upstream.md.

DISTRO_FACTS = {
    # family: (os-release, package manager found)
    "apt": ('ID=debian\nVERSION_ID="12"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n', "apt-get"),
    "rhel": ('ID="rocky"\nID_LIKE="rhel centos fedora"\nVERSION_ID="9.5"\nPRETTY_NAME="Rocky Linux 9.5 (Blue Onyx)"\n',
             "dnf"),
    "fedora": ('ID=fedora\nVERSION_ID=41\nPRETTY_NAME="Fedora Linux 41 (Server Edition)"\n', "dnf"),
}
# (profile's kubernetes_version, the kubeadm the packages step installs): bare minors take the newest patch
KUBE_VERSIONS = {"1.30": ("1.30", "v1.30.14"), "1.31": ("1.31.4", "v1.31.4"), "1.33": ("1.33", "v1.33.3"),
                 "1.35": ("1.35.0", "v1.35.0")}
DISTRO_STEPS = ("kernel", "swap", "packages", "images")


def _distro_facts(host: str, family: str, kubeadm: str):
    from kwizard.facts.model import parse_facts

    os_release, manager = DISTRO_FACTS[family]
    sections = {"uid": "0", "hostname": host, "os_release": os_release, "package_manager": manager,
                "kubeadm": kubeadm, "kubelet": f"Kubernetes {kubeadm}", "kubectl": f"Client Version: {kubeadm}",
                "cri_sockets": "/var/run/containerd/containerd.sock", "end": ""}
    return parse_facts(host, sections)


@pytest.mark.parametrize("minor", sorted(KUBE_VERSIONS))
@pytest.mark.parametrize("family", sorted(DISTRO_FACTS))
def test_distro_plan(family, minor, golden):
    from kwizard.plan.setup import build_setup_plan
    from kwizard.plan.steps import Plan
    from kwizard.plan.view import format_plan
    from kwizard.profile.store import load

    wanted, kubeadm = KUBE_VERSIONS[minor]
    profile = load(TEST_PROFILES / "install-packages.yaml")
    profile.cluster.kubernetes_version = wanted
    profile.cluster.advertise_address = profile.control_plane.address
    plan = build_setup_plan(profile)
    steps = [s for s in plan.steps if s.id in DISTRO_STEPS]
    facts = {h.name: _distro_facts(h.name, family, kubeadm) for h in profile.hosts}
    header = (f"# {family} ({DISTRO_FACTS[family][0].splitlines()[-1].split('=', 1)[1]}), "
              f"kubernetes_version: {wanted!r}; facts say kubeadm {kubeadm} (as the packages step reads it back)\n")
    text = header + format_plan(Plan(name="setup", steps=steps, hosts=plan.hosts), profile.name, facts)
    assert _normalise(text) == golden
