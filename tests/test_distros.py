"""Distribution support without the lab: which families get which package script, the distribution
and binaries findings of `kwizard check`, the version pins (docs/upstream.md has the sources)."""

from __future__ import annotations

import pytest

from kwizard.checks.findings import Level
from kwizard.checks.host import preflight
from kwizard.facts.model import parse_facts
from kwizard.plan import package_scripts
from tests.test_checks import codes, fleet_facts, profile


def _find(findings, code):
    return [f for f in findings if f.code == code]


@pytest.mark.parametrize(("os_id", "version", "supported"), [
    ("debian", "12", True), ("ubuntu", "22.04", True), ("ubuntu", "24.04", True), ("ubuntu", "20.04", False),
    ("rocky", "9.5", True), ("almalinux", "9.4", True), ("rhel", "9.6", True), ("rocky", "8.10", False),
    ("fedora", "41", True), ("fedora", "39", False), ("opensuse-leap", "15.6", False), ("debian", "11", False),
])
def test_check_says_whether_the_distribution_is_supported_naming_what_it_found(os_id, version, supported):
    findings = preflight(profile(), fleet_facts(w1={"os_id": os_id, "os_version": version, "os_pretty": ""}))
    w1 = [f for f in findings if f.host == "w1"]
    if supported:
        assert _find(w1, "os.supported") and not _find(w1, "os.unsupported")
    else:
        (warning,) = _find(w1, "os.unsupported")
        assert warning.level is Level.WARNING
        assert f"ID={os_id} VERSION_ID={version}" in warning.message
        assert "Debian 12, Ubuntu 22.04/24.04, Rocky Linux 9, RHEL 9, AlmaLinux 9, Fedora 40/41" in warning.message


@pytest.mark.parametrize("manager", ["zypper", "yum", None])
def test_a_package_manager_kwizard_cannot_drive_is_refused_when_it_would_install(manager):
    facts = fleet_facts(w1={"package_manager": manager, "os_id": "opensuse-leap", "os_version": "15.6"})
    refused = _find(preflight(profile(install_packages=True), facts), "packages.no_manager")
    assert [f.host for f in refused] == ["w1"] and refused[0].level is Level.ERROR
    assert f"package manager found: {manager or 'none'}" in refused[0].message
    assert not _find(preflight(profile(install_packages=False), facts), "packages.no_manager")


@pytest.mark.parametrize(("version", "level"), [("1.30", Level.ERROR), ("1.31.4", Level.ERROR), ("1.32", None),
                                                ("1.35.0", None)])
def test_conntrack_is_required_below_1_32_only(version, level):
    facts = fleet_facts(cp={"binaries_missing": ("conntrack",)})
    findings = [f for f in preflight(profile(kubernetes_version=version), facts) if f.host == "cp"]
    missing = _find(findings, "binaries.missing_error")
    if level is None:
        assert not missing
    else:
        assert "conntrack: required by kubeadm's preflight below Kubernetes 1.32" in missing[0].message
        assert "conntrack-tools on RHEL/Fedora" in missing[0].fix
        with_packages = [f for f in preflight(profile(kubernetes_version=version, install_packages=True), facts)
                         if f.host == "cp"]
        assert not _find(with_packages, "binaries.missing_error")
        assert _find(with_packages, "binaries.installed_by_packages")[0].level is Level.INFO


def test_selinux_enforcing_is_fixed_by_the_packages_step_or_a_warning():
    facts = fleet_facts(cp={"selinux": "Enforcing", "os_id": "rocky", "os_version": "9.5", "package_manager": "dnf"})
    assert _find(preflight(profile(install_packages=True), facts), "selinux.enforcing")[0].level is Level.INFO
    assert _find(preflight(profile(), facts), "selinux.enforcing")[0].level is Level.WARNING


@pytest.mark.parametrize(("os_release", "manager", "family"), [
    ("ID=debian\nVERSION_ID=12\n", "apt-get", "apt"), ("ID=ubuntu\nVERSION_ID=24.04\n", "apt-get", "apt"),
    ('ID="rocky"\nID_LIKE="rhel centos fedora"\n', "dnf", "rhel"), ("ID=almalinux\n", "dnf", "rhel"),
    ("ID=fedora\nVERSION_ID=41\n", "dnf", "fedora"), ("ID=opensuse-leap\n", "zypper", None), ("ID=centos\n", "yum", None),
])
def test_facts_choose_the_package_family(os_release, manager, family):
    facts = parse_facts("h", {"os_release": os_release, "package_manager": manager, "uid": "0",
                              "selinux": "Enforcing", "swap_units": "dev-zram0.swap loaded active active Compressed"})
    assert facts.package_family == family
    assert facts.selinux == "Enforcing" and facts.swap_units == ("dev-zram0.swap",)


def test_each_family_installs_its_own_containerd_and_conntrack_and_pins_a_patch():
    apt = package_scripts.packages("1.33", "1.33.2", "apt")
    assert "apt-get install -y containerd conntrack iptables ebtables ethtool socat" in apt
    assert "apt-get install -y 'kubelet=1.33.2-*' 'kubeadm=1.33.2-*' 'kubectl=1.33.2-*'" in apt
    rocky = package_scripts.packages("1.33", "1.33.2", "rhel", "rocky")
    assert "dnf config-manager --add-repo https://download.docker.com/linux/centos/docker-ce.repo" in rocky
    assert "dnf install -y containerd.io conntrack-tools" in rocky and "setenforce 0" in rocky
    assert "dnf install -y kubelet-1.33.2 kubeadm-1.33.2 kubectl-1.33.2 --disableexcludes=kubernetes" in rocky
    assert "linux/rhel/docker-ce.repo" in package_scripts.packages("1.33", None, "rhel", "rhel")
    fedora = package_scripts.packages("1.30", None, "fedora")
    assert "dnf install -y containerd conntrack-tools" in fedora and "docker" not in fedora
    assert "dnf install -y kubelet kubeadm kubectl --disableexcludes=kubernetes" in fedora
    anywhere = package_scripts.packages("1.33")  # no facts: picked on the host
    assert all(part in anywhere for part in (apt.split("\n")[2], "containerd.io", '[ "$ID" = fedora ]'))


def test_the_probe_wants_the_pinned_patch_and_selinux_off_on_dnf_hosts():
    assert "in v1.33.2) ;;" in package_scripts.packages_probe("1.33", "1.33.2", "apt")
    assert "in v1.33.*) ;;" in package_scripts.packages_probe("1.33", None, "apt")
    assert "getenforce" not in package_scripts.packages_probe("1.33", None, "apt")
    assert "getenforce" in package_scripts.packages_probe("1.33", None, "rhel")
