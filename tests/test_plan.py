"""The setup and reset plans as `kwizard plan` shows them: today's commands, in order."""

import pytest

from kwizard.profile.model import Profile
from kwizard.plan.decide import init_config
from kwizard.plan.setup import build_setup_plan, firewall_ports
from kwizard.plan.view import format_plan, view_plan
from kwizard.plan.reset import ResetOptions, build_reset_plan


def _profile(n_workers=2, **cluster) -> Profile:
    hosts = [{"name": "cp-1", "address": "10.1.0.10", "role": "control-plane"}]
    hosts += [{"name": f"w-{i}", "address": f"10.1.0.{20 + i}"} for i in range(1, n_workers + 1)]
    return Profile(name="demo", hosts=hosts, cluster=cluster)


def _ids(plan):
    return [s.id for s in plan.steps]


def test_the_seed_shape_runs_every_step_in_the_designed_order():
    plan = build_setup_plan(_profile(disable_swap=True))
    assert _ids(plan) == [
        "preflight", "hosts-file", "kernel", "swap", "firewall", "node-images", "images", "init", "kubeconfig",
        "cni-fetch", "cni-apply", "join-command", "join", "verify",
    ]  # readiness once, at the end, for every node (the control plane's own wait was v1's lock-step order)
    assert "ready" in _ids(build_setup_plan(_profile(disable_swap=True), lockstep=True))


def test_opt_in_steps_appear_only_when_asked():
    plain = _ids(build_setup_plan(_profile(manage_etc_hosts=False, open_firewall_ports=False)))
    assert not {"hosts-file", "firewall", "swap", "packages", "untaint"} & set(plain)
    assert "packages" in _ids(build_setup_plan(_profile(install_packages=True)))


def test_a_one_host_cluster_untaints_and_has_no_join():
    ids = _ids(build_setup_plan(_profile(n_workers=0)))
    assert "untaint" in ids
    assert not {"join-command", "join", "verify"} & set(ids)


def test_join_runs_only_on_workers_and_probes_for_an_existing_node():
    plan = build_setup_plan(_profile())
    join = plan.step("join")
    assert join.hosts == ("w-1", "w-2")
    assert join.probe is not None
    assert plan.step("join-command").rerun_on_resume, "the token is never kept for a resume"


def test_plan_text_uses_todays_commands_not_the_seeds():
    text = format_plan(build_setup_plan(_profile()), "demo")
    assert "kubeadm init --config /etc/kubernetes/kwizard/kubeadm-config.yaml" in text
    assert "--pod-network-cidr" not in text, "kubeadm refuses --config mixed with flags"
    assert "node-role.kubernetes.io/master" not in text
    assert "--delete-local-data" not in text
    assert "kube-flannel.yml" in text and "v0.28.9" in text
    # workers join from a JoinConfiguration file (the token stays out of argv), named after the profile's host
    assert "set -- <join command>" in text and 'kubeadm join --config "$folder/join.yaml"' in text
    assert "printf '  name: %s\\n' w-1" in text
    assert "--node-name" not in text


def test_untaint_uses_the_control_plane_taint():
    text = format_plan(build_setup_plan(_profile(n_workers=0)), "demo")
    assert "kubectl --kubeconfig=/etc/kubernetes/admin.conf taint nodes cp-1 node-role.kubernetes.io/control-plane-" in text


def test_hosts_with_the_same_script_are_grouped():
    views = {v.id: v for v in view_plan(build_setup_plan(_profile(n_workers=3)))}
    (group,) = views["kernel"].groups
    assert group.hosts == ("cp-1", "w-1", "w-2", "w-3")
    firewall_groups = views["firewall"].groups
    assert [g.hosts for g in firewall_groups] == [("cp-1",), ("w-1", "w-2", "w-3")]


@pytest.mark.parametrize(
    ("cni", "expected", "absent"),
    [
        ("flannel", ["8472/udp"], ["8285", "179/tcp"]),
        ("calico", ["179/tcp", "4789/udp", "5473/tcp"], ["8472"]),
        ("weave", ["6783/tcp", "6783-6784/udp"], ["8472"]),
    ],
)
def test_firewall_opens_the_plugins_ports_and_the_roles(cni, expected, absent):
    profile = _profile(cni=cni, pod_cidr="10.48.0.0/16")
    cp_ports = " ".join(firewall_ports(profile, profile.control_plane))
    worker_ports = " ".join(firewall_ports(profile, profile.workers[0]))
    assert "6443/tcp" in cp_ports and "6443/tcp" not in worker_ports
    assert "30000-32767/tcp" in worker_ports
    for port in expected:
        assert port in cp_ports and port in worker_ports
    for port in absent:
        assert port not in cp_ports


def test_the_dry_run_config_names_what_facts_will_decide():
    text = init_config(_profile(), None)
    assert "podSubnet: 10.244.0.0/16" in text
    assert "<advertise address" in text and "<CRI socket" in text


def test_a_fully_specified_profile_renders_the_real_config_without_facts():
    profile = _profile(advertise_address="10.1.0.10", cri_socket="unix:///var/run/containerd/containerd.sock")
    text = init_config(profile, None)
    assert "kind: InitConfiguration" in text and "advertiseAddress: 10.1.0.10" in text
    assert "podSubnet: 10.244.0.0/16" in text and "clusterName: demo" in text


def test_weave_password_is_referenced_never_shown_in_the_plan(monkeypatch):
    monkeypatch.setenv("WEAVE_PASSWORD", "s3cret-weave-pass")
    profile = _profile(cni="weave", pod_cidr="10.32.0.0/12", cni_options={"encryption_password_env": "WEAVE_PASSWORD"})
    text = format_plan(build_setup_plan(profile), "demo")
    assert "s3cret-weave-pass" not in text
    assert "$WEAVE_PASSWORD" in text
    assert "create secret generic weave-passwd" in text


def test_reset_drains_workers_before_resetting_them_then_the_control_plane():
    plan = build_reset_plan(_profile(), ResetOptions(remove_cni_config=True))
    # the clean-ups asked for are a step of their own, without a probe: a host reset earlier still gets them
    assert _ids(plan) == ["connect", "drain", "reset-workers", "reset-control-plane", "cleanup", "leftovers"]
    assert plan.step("cleanup").probe is None
    text = format_plan(plan, "demo")
    assert "drain 'w-1' --delete-emptydir-data --force --ignore-daemonsets" in text.replace("drain w-1", "drain 'w-1'")
    assert "kubeadm reset -f" in text
    assert "rm -rf /etc/cni/net.d" in text
    assert "iptables -F" not in text, "flushing iptables is opt-in"


def test_reset_of_a_one_host_cluster_has_no_drain():
    assert _ids(build_reset_plan(_profile(n_workers=0))) == ["connect", "reset-control-plane", "leftovers"]


def test_host_labels_are_applied_after_every_node_joined():
    profile = Profile(
        name="demo",
        hosts=[
            {"name": "cp-1", "address": "10.1.0.10", "role": "control-plane"},
            {"name": "w-1", "address": "10.1.0.21", "labels": {"disk": "ssd", "example.com/rack": "r1"}},
        ],
    )
    plan = build_setup_plan(profile)
    assert _ids(plan)[-1] == "labels"
    text = format_plan(plan, "demo")
    assert "label node w-1 disk=ssd example.com/rack=r1 --overwrite" in text
    assert "labels" not in _ids(build_setup_plan(_profile()))
