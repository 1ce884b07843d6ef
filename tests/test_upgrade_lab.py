"""`kwizard upgrade` through the CLI against the lab (Debian 12 hosts: pkgs.k8s.io per minor, exact patches).

One lab for the story: apply at 1.33; a two-minor jump refused before anything changes; a worker's
connection cut in `kubeadm upgrade node`; `--resume` finishes without draining a node again; every
node on v1.34.z and the profile saying 1.34 with its comments kept; then 1.36 refused from 1.34, and
`apply` with the old profile refused (the cluster is newer).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.lab.scenario import named
from tests.test_apply_lab import User

pytestmark = pytest.mark.lab

KUBECTL = "kubectl --kubeconfig=/etc/kubernetes/admin.conf"
HEADER = "# the lab's cluster, written by a person\n# keep these comments\n"


@pytest.fixture
def user(tmp_path) -> User:
    return User(tmp_path)


def _versions(lab) -> dict[str, str]:
    nodes = json.loads(lab.exec(lab.hosts[0], f"{KUBECTL} get nodes -o json").stdout)["items"]
    return {n["metadata"]["name"]: n["status"]["nodeInfo"]["kubeletVersion"] for n in nodes}


def _server(lab) -> str:
    return json.loads(lab.exec(lab.hosts[0], f"{KUBECTL} version -o json").stdout)["serverVersion"]["gitVersion"]


def _drains(lab) -> list[str]:
    return [d["node"] for d in lab.cluster_state().get("drains", [])]


def _said(result) -> str:
    return result.stdout[-4000:] + result.stderr[-3000:]


def test_upgrade_one_minor_refusals_cut_and_resume(lab_factory, tmp_path, user):
    lab = lab_factory(hosts=3, scenario=named("debian-12"))
    profile = str(lab.write_profile(tmp_path / "cluster.yaml", install_packages=True, disable_swap=True,
                                    kubernetes_version="1.33"))
    text = Path(profile).read_text()
    Path(profile).write_text(HEADER + text.replace("\nhosts:\n", "\nhosts:  # every machine\n", 1))
    applied = user.kwizard("apply", "--yes", profile, timeout=240)
    assert applied.returncode == 0, _said(applied)
    names = [h.name for h in lab.hosts]
    before = _versions(lab)
    assert set(before) == set(names) and all(v.startswith("v1.33.") for v in before.values()), before

    # Two minors at once: refused by the preflight, nothing changed (no drain, same versions, same repo).
    jump = user.kwizard("upgrade", profile, "--to", "1.35", "--yes", timeout=120)
    assert jump.returncode == 3, _said(jump)
    assert "too high; kubeadm can upgrade only 1 minor version at a time" in jump.stderr + jump.stdout
    assert _versions(lab) == before and _drains(lab) == [] and _server(lab).startswith("v1.33.")
    assert "v1.33" in lab.exec(lab.hosts[0], "cat /etc/apt/sources.list.d/kubernetes.list").stdout

    # The last worker's connection drops in `kubeadm upgrade node`.
    last = len(lab.hosts) - 1
    lab.set_fault(last, "cut_during", "kubeadm upgrade node")
    cut = user.kwizard("upgrade", profile, "--to", "1.34", "--yes", timeout=300)
    assert cut.returncode == 1, _said(cut)
    lab.clear_fault(last, "cut_during")
    drained = _drains(lab)
    assert drained == names, drained  # the control plane, then each worker, one at a time
    midway = _versions(lab)
    assert midway[names[0]].startswith("v1.34.") and midway[names[1]].startswith("v1.34.")
    assert midway[names[last]].startswith("v1.33.")

    resumed = user.kwizard("upgrade", profile, "--to", "1.34", "--yes", "--resume", timeout=300)
    assert resumed.returncode == 0, _said(resumed)
    assert _drains(lab) == drained  # no node drained again
    after = _versions(lab)
    assert all(v.startswith("v1.34.") for v in after.values()), after
    assert len(set(after.values())) == 1 and _server(lab) == next(iter(after.values()))
    state = lab.cluster_state()
    assert not any(n.get("unschedulable") for n in state["nodes"].values())
    edited = Path(profile).read_text()
    assert edited.startswith(HEADER) and "hosts:  # every machine" in edited
    assert "kubernetes_version: '1.34'" in edited or 'kubernetes_version: "1.34"' in edited \
        or "kubernetes_version: 1.34" in edited, edited

    # From 1.34, 1.36 is two minors: refused, nothing changed.
    again = user.kwizard("upgrade", profile, "--to", "1.36", "--yes", timeout=120)
    assert again.returncode == 3, _said(again)
    assert "too high" in again.stderr + again.stdout
    assert _versions(lab) == after and _drains(lab) == drained

    # The old profile (1.33) would downgrade the cluster: apply refuses in its preflight.
    old = tmp_path / "old.yaml"
    old.write_text(edited.replace("1.34", "1.33"))
    refused = user.kwizard("apply", "--yes", str(old), timeout=120)
    assert refused.returncode == 3, _said(refused)
    assert "apply would downgrade it" in refused.stdout + refused.stderr


def test_upgrade_on_dnf_hosts_two_workers_at_once_to_a_pinned_patch(lab_factory, tmp_path, user):
    lab = lab_factory(hosts=3, scenario=named("rocky-9"))
    profile = str(lab.write_profile(tmp_path / "cluster.yaml", install_packages=True, disable_swap=True,
                                    open_firewall_ports=True, kubernetes_version="1.33.2"))
    applied = user.kwizard("apply", "--yes", profile, timeout=240)
    assert applied.returncode == 0, _said(applied)
    assert set(_versions(lab).values()) == {"v1.33.2"}

    upgraded = user.kwizard("upgrade", profile, "--to", "1.34.0", "--yes", "--parallel", "2", timeout=300)
    assert upgraded.returncode == 0, _said(upgraded)
    assert set(_versions(lab).values()) == {"v1.34.0"} and _server(lab) == "v1.34.0"
    assert "/core:/stable:/v1.34/" in lab.exec(lab.hosts[2], "cat /etc/yum.repos.d/kubernetes.repo").stdout
    assert sorted(_drains(lab)) == sorted(h.name for h in lab.hosts)
    assert "1.34.0" in Path(profile).read_text()  # a pinned patch stays pinned, to the new one

    # Run again: every step is done by its probe; nothing is drained.
    again = user.kwizard("upgrade", profile, "--to", "1.34.0", "--yes", timeout=300)
    assert again.returncode == 0, _said(again)
    assert "w1-drain: already done on every host" in again.stdout and "cp-upgrade-apply: already done" in again.stdout
    assert sorted(_drains(lab)) == sorted(h.name for h in lab.hosts)
