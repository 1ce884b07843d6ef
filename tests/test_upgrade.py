"""`kwizard upgrade` without hosts: the skew rules, reading what kubectl reports, the plan's shape and scripts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kwizard.checks.host import preflight
from kwizard.cli.main import build_parser
from kwizard.day2 import upgrade_checks as checks
from kwizard.day2.upgrade import (
    Target,
    build_upgrade_plan,
    drain,
    install_packages,
    probe_kubeadm,
)
from kwizard.kube.versions import KubeVersion
from kwizard.plan.context import DryRunContext
from kwizard.plan.steps import StepFailed
from tests.test_checks import fleet_facts, profile

V = KubeVersion.parse


def cluster(server: str, **kubelets: str) -> checks.ClusterVersions:
    return checks.ClusterVersions(V(server), tuple(checks.NodeVersion(n, V(v)) for n, v in kubelets.items()))


def test_one_minor_up_is_allowed_and_a_resume_at_the_target_too():
    assert checks.skew_problems(V("1.34"), cluster("v1.33.3", cp="v1.33.3", w1="v1.33.3"), ["cp", "w1"]) == []
    assert checks.skew_problems(V("1.34"), cluster("v1.34.1", cp="v1.34.1", w1="v1.33.3"), ["cp", "w1"]) == []


def test_two_minors_at_once_are_refused_with_kubeadms_words():
    (problem,) = checks.skew_problems(V("1.35"), cluster("v1.33.3", cp="v1.33.3"), ["cp"])
    assert 'Specified version to upgrade to "v1.35" is too high; kubeadm can upgrade only 1 minor version at a time' \
        in problem and "upgrade to 1.34 first" in problem


@pytest.mark.parametrize("target", ["1.32", "1.33.1"])
def test_a_downgrade_is_refused(target):
    (problem,) = checks.skew_problems(V(target), cluster("v1.33.3", cp="v1.33.3"), ["cp"])
    assert "kwizard does not downgrade" in problem


def test_a_kubelet_newer_than_the_api_server_or_two_behind_is_refused():
    problems = checks.skew_problems(V("1.34"), cluster("v1.33.3", cp="v1.33.3", w1="v1.34.0", w2="v1.32.1"),
                                    ["cp", "w1", "w2"])
    assert any("w1: kubelet v1.34.0 is newer than the API server" in p for p in problems)
    assert any("w2: kubelet v1.32.1 is more than one minor behind" in p for p in problems)


def test_a_profile_host_that_is_not_a_node_is_refused():
    (problem,) = checks.skew_problems(V("1.34"), cluster("v1.33.3", cp="v1.33.3"), ["cp", "w9"])
    assert "not in the cluster: w9" in problem


def test_what_kubectl_reports_is_read():
    version = json.dumps({"clientVersion": {"gitVersion": "v1.34.1"}, "serverVersion": {"gitVersion": "v1.33.3"}})
    assert checks.read_server_version(version) == V("v1.33.3")
    nodes = json.dumps({"items": [
        {"metadata": {"name": "cp"}, "spec": {}, "status": {"nodeInfo": {"kubeletVersion": "v1.33.3"}}},
        {"metadata": {"name": "w1"}, "spec": {"unschedulable": True}, "status": {"nodeInfo": {"kubeletVersion": "v1.34.1"}}},
    ]})
    assert checks.read_node_versions(nodes) == (checks.NodeVersion("cp", V("v1.33.3"), True),
                                               checks.NodeVersion("w1", V("v1.34.1"), False))
    with pytest.raises(checks.UpgradeRefused, match="serverVersion"):
        checks.read_server_version(json.dumps({"clientVersion": {}}))


def test_done_means_the_target_and_schedulable():
    assert checks.node_done(checks.NodeVersion("w1", V("v1.34.1")), V("1.34.1"))
    assert checks.node_done(checks.NodeVersion("w1", V("v1.34.1")), V("1.34"))
    assert not checks.node_done(checks.NodeVersion("w1", V("v1.34.1"), schedulable=False), V("1.34.1"))
    assert not checks.node_done(checks.NodeVersion("w1", V("v1.33.3")), V("1.34"))


@pytest.mark.parametrize(("text", "ok"), [("1.34", True), ("v1.34.1", True), ("1.34.1-rc.1", False), ("2.0", False),
                                          ("latest", False)])
def test_the_target_is_a_plain_version(text, ok):
    if ok:
        checks.parse_target(text)
    else:
        with pytest.raises(checks.UpgradeRefused):
            checks.parse_target(text)


def test_batches_and_the_profiles_new_version():
    assert checks.batches(["a", "b", "c"], 2) == [("a", "b"), ("c",)]
    with pytest.raises(checks.UpgradeRefused):
        checks.batches(["a"], 0)
    assert checks.profile_version("1.33", V("1.34.1")) == "1.34"
    assert checks.profile_version("1.33.2", V("1.34.1")) == "1.34.1"


def test_apply_refuses_a_cluster_newer_than_the_profile():
    facts = fleet_facts(cp={"kubelet_version": "v1.34.1", "kubeadm_version": "v1.34.1",
                            "cluster_files": ("/etc/kubernetes/admin.conf",)})
    findings = preflight(profile(kubernetes_version="1.33"), facts)
    (newer,) = [f for f in findings if f.code == "version.cluster_newer"]
    assert newer.is_error and newer.host == "cp" and "apply would downgrade it" in newer.message
    assert not [f for f in preflight(profile(kubernetes_version="1.34"), facts) if f.code == "version.cluster_newer"]
    # A host with no cluster on it is not a downgrade (the packages step installs what the profile says).
    bare = fleet_facts(cp={"kubelet_version": "v1.34.1", "kubeadm_version": "v1.34.1"})
    assert not [f for f in preflight(profile(kubernetes_version="1.33"), bare) if f.code == "version.cluster_newer"]


def test_the_plan_control_plane_first_then_each_worker_with_a_probe_on_every_host_step():
    plan = build_upgrade_plan(profile(kubernetes_version="1.33"), "1.34")
    ids = [s.id for s in plan.steps]
    assert ids[:6] == ["preflight", "cp-repository", "cp-kubeadm", "resolve", "cp-upgrade-plan", "cp-upgrade-apply"]
    assert ids[6:9] == ["cp-drain", "cp-kubelet", "cp-uncordon"]
    worker = ["drain", "repository", "kubeadm", "upgrade-node", "kubelet", "uncordon"]
    assert ids[9:21] == [f"w1-{s}" for s in worker] + [f"w2-{s}" for s in worker]
    assert ids[21:] == ["verify", "profile"]
    assert plan.step("w1-drain").hosts == ("cp",) and plan.step("w1-upgrade-node").hosts == ("w1",)
    for step in plan.steps:
        if step.script is not None and step.id != "verify":
            assert step.probe is not None, step.id
    assert plan.step("preflight").rerun_on_resume and plan.step("resolve").rerun_on_resume
    two = build_upgrade_plan(profile(kubernetes_version="1.33"), "1.34", parallel=2)
    assert two.step("w1-kubelet").hosts == ("w1", "w2") and "w2-drain" not in [s.id for s in two.steps]


def test_the_scripts_are_upstreams_commands():
    plan = build_upgrade_plan(profile(kubernetes_version="1.33"), "1.34.1")
    ctx = DryRunContext()
    text = {s.id: s.script(ctx, s.hosts[0]).script for s in plan.steps if s.script is not None}
    assert "kubeadm upgrade apply v1.34.1 -y" in text["cp-upgrade-apply"]
    assert text["cp-upgrade-plan"] == "kubeadm upgrade plan\n"
    assert "kubectl --kubeconfig=/etc/kubernetes/admin.conf drain cp --ignore-daemonsets" in text["cp-drain"]
    assert "kubeadm upgrade node" in text["w1-upgrade-node"]
    assert "systemctl daemon-reload\nsystemctl restart kubelet" in text["w2-kubelet"]
    assert "uncordon w2" in text["w2-uncordon"]
    assert "/core:/stable:/v1.34/" in text["w1-repository"] and "kubernetes.repo" in text["w1-repository"]
    packages = install_packages(("kubeadm",), "v1.34.1")
    assert "apt-mark unhold kubeadm" in packages and "apt-get install -y 'kubeadm=1.34.1-*'" in packages
    assert "apt-mark hold kubeadm" in packages and "dnf install -y kubeadm-1.34.1 --disableexcludes=kubernetes" in packages
    assert "'kubeadm=1.34.*'" in install_packages(("kubeadm",), "v1.34")
    assert "v1.34.*)" in probe_kubeadm("v1.34")
    assert "already done, not drained again" in drain(("w1",), "v1.34.1")


def test_before_the_control_plane_says_the_patch_a_run_cannot_guess_it():
    target = Target(V("1.34"))
    assert target.version(DryRunContext()) == "<newest v1.34.x>"

    class Live(DryRunContext):
        dry_run = False

    with pytest.raises(StepFailed):
        target.version(Live())
    target.exact = V("v1.34.1")
    assert target.version(Live()) == "v1.34.1"


def test_the_command_line():
    args = build_parser().parse_args(["upgrade", "p.yaml", "--to", "1.34", "--yes", "--resume", "--parallel", "2"])
    assert (args.to, args.yes, args.resume, args.parallel) == ("1.34", True, True, 2)


def test_a_bad_target_is_bad_input(tmp_path, capsys):
    from kwizard.cli.main import main

    path = tmp_path / "p.yaml"
    path.write_text(Path("tests/plan_profiles/install-packages.yaml").read_text())
    assert main(["upgrade", str(path), "--to", "one-three-four", "--yes"]) == 2
    assert "write the version like 1.34" in capsys.readouterr().err
