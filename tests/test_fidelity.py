"""Part B of "Correct on the machines people run": unit tests, one per defect (4-6, 8-12).

Each would have failed on the code before the fix. The lab half is tests/test_fidelity_lab.py.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import textwrap

import pytest

from kwizard.checks.findings import Level
from kwizard.checks.host import preflight
from kwizard.checks.offline import field_of, profile_findings
from kwizard.cni.catalogue import get_plugin, installed_plugins
from kwizard.facts.hostnet import HostNetwork
from kwizard.facts.model import parse_facts
from kwizard.plan import scripts
from kwizard.plan import cluster_scripts
from kwizard.plan.context import DryRunContext
from kwizard.plan.reset import ResetOptions, build_reset_plan
from kwizard.plan.setup import build_setup_plan, firewall_ports
from kwizard.profile.model import Profile
from tests.test_checks import fleet_facts, profile


def _codes(findings, level=None):
    return sorted(f.code for f in findings if level is None or f.level is level)


# --- 4: Calico retryable, probe knows every file ---


def test_calico_files_are_applied_server_side_and_the_probe_checks_every_file():
    plan = build_setup_plan(profile(cni="calico", pod_cidr="10.244.0.0/16"))
    step = plan.step("cni-apply")
    ctx = DryRunContext()
    script = step.script(ctx, "cp").script
    assert "create -f" not in script
    assert script.count("apply --server-side --force-conflicts -f") == 3
    probe = step.probe(ctx, "cp").script
    for name in ("operator-crds.yaml", "tigera-operator.yaml", "kwizard-custom-resources.yaml"):
        assert f"get -f /etc/kubernetes/kwizard/cni/{name}" in probe
    assert "get installation" not in probe


# --- 5: NetworkManager and firewalld for Calico ---


def test_calico_gets_networkmanager_config_and_firewalld_only_with_consent():
    plan = build_setup_plan(profile(cni="calico", pod_cidr="10.244.0.0/16"))
    nm = plan.step("networkmanager").script(DryRunContext(), "cp").script
    assert "/etc/NetworkManager/conf.d/calico.conf" in nm
    for name in ("cali*", "tunl*", "vxlan.calico", "vxlan-v6.calico", "wireguard.cali"):
        assert f"interface-name:{name}" in nm
    assert "disable --now firewalld" not in plan.step("firewall").script(DryRunContext(), "cp").script
    consented = build_setup_plan(profile(cni="calico", pod_cidr="10.244.0.0/16", cni_options={"disable_firewalld": True}))
    assert "systemctl disable --now firewalld" in consented.step("firewall").script(DryRunContext(), "cp").script
    assert "networkmanager" not in [s.id for s in build_setup_plan(profile()).steps]


def test_disable_firewalld_is_calico_only():
    with pytest.raises(ValueError, match="disable_firewalld is Calico's"):
        profile(cni="flannel", cni_options={"disable_firewalld": True})


def test_firewalld_with_calico_warns_without_consent_and_says_how():
    facts = fleet_facts(cp={"firewalld_active": True})
    findings = [f for f in preflight(profile(cni="calico", pod_cidr="10.244.0.0/16"), facts) if f.code == "firewalld.calico"]
    assert [f.level for f in findings] == [Level.WARNING]
    assert "should be disabled" in findings[0].message and "cni_options.disable_firewalld: true" in findings[0].fix
    ok = preflight(profile(cni="calico", pod_cidr="10.244.0.0/16", cni_options={"disable_firewalld": True}), facts)
    assert [f.level for f in ok if f.code == "firewalld.calico"] == [Level.INFO]


def test_calico_guidance_says_what_calico_asks():
    text = get_plugin("calico").guidance
    assert "firewalld" in text and "NetworkManager" in text and "disable_firewalld" in text and "ipencap" in text


# --- 6: ports ---


def test_workers_open_kube_proxy_and_udp_nodeports():
    p = profile()
    worker = next(h for h in p.hosts if h.name == "w1")
    args = firewall_ports(p, worker)
    assert "--add-port=10256/tcp" in args and "--add-port=30000-32767/udp" in args


def test_calico_ipip_opens_ip_protocol_4():
    ports = get_plugin("calico").ports_for("IPIP")
    assert "--add-protocol=4" in [p.firewalld_arg for p in ports]
    assert "--add-protocol=ipip" not in [p.firewalld_arg for p in ports]


# --- 8: reset ---


def test_reset_passes_the_profiles_cri_socket_and_detects_one_otherwise():
    sock = "unix:///var/run/crio/crio.sock"
    plan = build_reset_plan(profile(cri_socket=sock))
    text = plan.step("reset-control-plane").script(DryRunContext(), "cp").script
    assert f"cri={sock}" in text and '--cri-socket "$cri"' in text
    auto = build_reset_plan(profile()).step("reset-workers").script(DryRunContext(), "w1").script
    assert "/var/run/crio/crio.sock" in auto and "--container-runtime-endpoint" in auto


def test_reset_removes_kwizards_folder_and_cleanups_are_never_skipped():
    plan = build_reset_plan(profile(), ResetOptions(flush_iptables=True))
    reset = plan.step("reset-control-plane")
    assert "rm -rf /etc/kubernetes/kwizard" in reset.script(DryRunContext(), "cp").script
    assert "! test -e /etc/kubernetes/kwizard" in reset.probe(DryRunContext(), "cp").script
    cleanup = plan.step("cleanup")
    assert cleanup.probe is None and "iptables -F" in cleanup.script(DryRunContext(), "cp").script
    assert set(cleanup.hosts) == {"cp", "w1", "w2"}


def _run_with_fake_kubectl(tmp_path, script: str, taint_out: str, taint_rc: int, get_out: str, get_rc: int):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    fake = bin_dir / "kubectl"
    fake.write_text(textwrap.dedent(f"""\
        #!/bin/bash
        case " $* " in
          *" taint "*) printf '%s\\n' {scripts.q(taint_out)} >&2; exit {taint_rc} ;;
          *" get "*) [ {get_rc} = 0 ] && printf '%s' {scripts.q(get_out)} || printf '%s\\n' {scripts.q(get_out)} >&2; exit {get_rc} ;;
        esac
        """))
    fake.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    return subprocess.run(["bash", "-c", "set -euo pipefail\n" + script], env=env, capture_output=True, text=True)


# --- 9: untaint ---


def test_untaint_does_not_take_a_missing_node_for_an_untainted_one(tmp_path):
    missing = 'Error from server (NotFound): nodes "cp" not found'
    result = _run_with_fake_kubectl(tmp_path, cluster_scripts.untaint("cp"), missing, 1, missing, 1)
    assert result.returncode == 1, result.stdout
    probe = _run_with_fake_kubectl(tmp_path, cluster_scripts.untaint_probe("cp"), missing, 1, missing, 1)
    assert probe.returncode != 0, "a node that is not there is not 'already untainted'"


def test_untaint_accepts_a_node_without_the_taint(tmp_path):
    result = _run_with_fake_kubectl(tmp_path, cluster_scripts.untaint("cp"),
                                    'error: taint "node-role.kubernetes.io/control-plane" not found', 1,
                                    "example.com/other", 0)
    assert result.returncode == 0 and "already schedulable" in result.stdout


# --- 10: a second plugin ---


def test_facts_see_the_installed_plugin():
    facts = parse_facts("cp", {"cni_config": "10-flannel.conflist", "cni_workloads": "daemonset.apps/kube-flannel-ds\n"
                               "daemonset.apps/kube-proxy\ndeployment.apps/coredns", "end": ""})
    assert facts.cni_config_files == ("10-flannel.conflist",)
    assert installed_plugins(facts.cni_config_files, facts.cluster_workloads) == ("flannel",)
    assert installed_plugins((), ("deployment.apps/tigera-operator",)) == ("calico",)


def test_another_plugin_on_a_running_cluster_is_an_error_pointing_at_reset():
    facts = fleet_facts(cp={"cluster_workloads": ("daemonset.apps/kube-flannel-ds",)})
    findings = [f for f in preflight(profile(cni="calico", pod_cidr="10.244.0.0/16"), facts)
                if f.code == "cni.installed_differs"]
    assert len(findings) == 1 and findings[0].is_error
    assert "cannot be changed in place" in findings[0].message and "kwizard reset" in findings[0].fix
    assert not [f for f in preflight(profile(), facts) if f.code == "cni.installed_differs"]


# --- 11: advertise address ---


def _vpn_cp(name="cp"):
    addr = [
        {"ifname": "eth0", "link_type": "ether", "address": "52:54:00:00:00:00",
         "addr_info": [{"family": "inet", "local": "192.168.122.11", "prefixlen": 24}]},
        {"ifname": "tun0", "link_type": "none", "addr_info": [{"family": "inet", "local": "10.8.0.2", "prefixlen": 24}]},
    ]
    route = [{"dst": "default", "dev": "tun0"}, {"dst": "192.168.122.0/24", "dev": "eth0", "prefsrc": "192.168.122.11"}]
    return HostNetwork.from_ip_json(name, addr, route)


def test_auto_address_says_what_kwizard_advertises_and_names_both_fields():
    facts = fleet_facts(cp={"network": _vpn_cp()})
    (finding,) = [f for f in preflight(profile(), facts) if f.code == "advertise.default_route_via_tunnel"]
    assert "kwizard will advertise 192.168.122.11 (eth0)" in finding.message
    assert "cluster.advertise_address" in finding.fix and "cluster.cni_options.interface: eth0" in finding.fix


def test_a_hand_set_tunnel_address_is_an_error():
    facts = fleet_facts(cp={"network": _vpn_cp()})
    (finding,) = [f for f in preflight(profile(advertise_address="10.8.0.2"), facts)
                  if f.code == "advertise.tunnel_address"]
    assert finding.is_error and "i/o timeout" in finding.message and "192.168.122.11 (eth0)" in finding.fix


# --- 12: inputs found late ---


def test_weave_password_variable_and_missing_manifest_file_are_found_before_init(monkeypatch, tmp_path):
    monkeypatch.delenv("KW_WEAVE_PW", raising=False)
    p = profile(cni="weave", pod_cidr="10.32.0.0/12", cni_options={"encryption_password_env": "KW_WEAVE_PW",
                                                                  "manifest_file": str(tmp_path / "nope.yaml")})
    offline = profile_findings(p)
    assert _codes(offline) == ["cni_options.encryption_password_env_unset", "cni_options.manifest_file_missing"]
    assert {field_of(f) for f in offline} == {"cluster.cni_options.encryption_password_env",
                                              "cluster.cni_options.manifest_file"}
    at_run = preflight(p, fleet_facts())
    assert {"cni_options.encryption_password_env_unset", "cni_options.manifest_file_missing"} <= set(
        _codes(at_run, Level.ERROR))
    monkeypatch.setenv("KW_WEAVE_PW", "x")
    assert "cni_options.encryption_password_env_unset" not in _codes(preflight(p, fleet_facts()))


def test_calico_manifest_folder_must_hold_every_file(tmp_path):
    (tmp_path / "operator-crds.yaml").write_text("{}")
    p = profile(cni="calico", pod_cidr="10.244.0.0/16", cni_options={"manifest_file": str(tmp_path)})
    (finding,) = profile_findings(p)
    assert "tigera-operator.yaml" in finding.message and "custom-resources.yaml" in finding.message


def test_an_interface_no_host_has_is_an_error():
    findings = preflight(profile(cni_options={"interface": "eth9"}), fleet_facts())
    (finding,) = [f for f in findings if f.code == "cni_options.interface_missing"]
    assert finding.is_error and "no host has it" in finding.message and "eth0" in finding.fix
    assert not [f for f in preflight(profile(cni_options={"interface": "eth0"}), fleet_facts())
                if f.code == "cni_options.interface_missing"]
