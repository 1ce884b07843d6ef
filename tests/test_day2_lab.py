"""Day two through the CLI against the lab: status, certificates, etcd backup, removing and adding a node.

One lab for the whole story (the lab is the slow part): apply, then each day-two command as a
user runs it, reading back what they get and the simulated cluster's state.
"""

from __future__ import annotations

import base64
import json
import stat
import tarfile
import time
from pathlib import Path

import pytest

from kwizard.day2.profile_edit import add_host
from tests.lab.sim import common
from tests.test_apply_lab import User, _all_bytes, _profile, _ready_nodes, user  # noqa: F401 - the fixture

pytestmark = pytest.mark.lab

COMMENTED_HEADER = "# the lab's cluster, written by a person\n# keep these comments\n"


def _status_records(user: User, profile: str) -> list[dict]:
    result = user.kwizard("status", profile, "--output", "jsonl")
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return [json.loads(line) for line in result.stdout.splitlines()]


def _expiring_soon(lab, name: str = "apiserver", days: float = 10) -> None:
    with common.locked_state(lab.sim_dir / "state") as state:
        state["cluster"]["certs"]["leaves"][name] = time.time() + days * 86400


def test_day_two_status_certs_backup_and_nodes(lab3, tmp_path, user):
    lab = lab3
    profile = _profile(lab, tmp_path)
    text = open(profile).read()
    open(profile, "w").write(COMMENTED_HEADER + text.replace("\nhosts:\n", "\nhosts:  # every machine\n", 1))
    applied = user.kwizard("apply", "--yes", profile)
    assert applied.returncode == 0, applied.stdout[-3000:] + applied.stderr[-3000:]
    names = [h.name for h in lab.hosts]

    # --- status: nodes, versions, readiness, plugin, certificates ---
    shown = user.kwizard("status", profile)
    assert shown.returncode == 0, shown.stderr
    assert "3/3 node(s) Ready" in shown.stdout and "network plugin flannel" in shown.stdout
    for name in names:
        assert name in shown.stdout
    records = _status_records(user, profile)
    nodes = [r for r in records if r["type"] == "node"]
    assert {n["name"] for n in nodes} == set(names) and all(n["ready"] for n in nodes)
    assert all(n["version"].startswith("v1.33.") for n in nodes)
    (cluster,) = [r for r in records if r["type"] == "cluster"]
    assert cluster["server_version"].startswith("v1.33.") and cluster["plugin_pods"] == {"Running": 3}
    certs = {r["name"]: r for r in records if r["type"] == "certificate"}
    assert {"apiserver", "admin.conf", "etcd-server", "ca", "etcd-ca", "front-proxy-ca"} <= set(certs)
    assert certs["ca"]["ca"] and not certs["apiserver"]["ca"]

    # --- certs: a near expiry warns in check; --renew moves every date a year on ---
    _expiring_soon(lab)
    checked = user.kwizard("check", profile)
    assert "certs.expiring" not in checked.stdout  # the code is in jsonl; text says it in words:
    assert "the certificate apiserver expires on" in checked.stdout, checked.stdout[-2000:]
    before = user.kwizard("certs", profile, "--output", "jsonl")
    old = {json.loads(x)["name"]: json.loads(x) for x in before.stdout.splitlines() if '"certificate"' in x}
    assert old["apiserver"]["residual"] in ("9d", "10d")
    user.env["KWIZARD_STATIC_POD_WAIT"] = "1"
    renewed = user.kwizard("certs", profile, "--renew", "--yes")
    assert renewed.returncode == 0, renewed.stdout[-3000:] + renewed.stderr[-3000:] + "".join(p.read_text()[-3000:] for d in user.run_dirs()[-1:] for p in (d / "hosts").glob("*.log"))
    assert "certificate for serving the Kubernetes API renewed" in renewed.stdout
    assert "expires on" not in renewed.stdout.split("apiserver renewed")[-1]
    after = user.kwizard("certs", profile, "--output", "jsonl")
    new = {json.loads(x)["name"]: json.loads(x) for x in after.stdout.splitlines() if '"certificate"' in x}
    assert new["apiserver"]["expires"] > old["apiserver"]["expires"]
    assert new["apiserver"]["residual"] in ("364d", "365d") and new["ca"]["expires"] == old["ca"]["expires"]
    listed = lab.exec(lab.hosts[0], "ls /etc/kubernetes/manifests").stdout.split()
    assert "kube-apiserver.yaml" in listed, "the manifests are back after the restart"

    # --- backup: a 0600 archive the simulated etcdctl accepts, no secret in the logs, nothing left behind ---
    archive = tmp_path / "backup.tar.gz"
    backed = user.kwizard("backup", profile, "-o", str(archive))
    assert backed.returncode == 0, backed.stdout[-3000:] + backed.stderr[-3000:]
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600
    with tarfile.open(archive) as tar:
        members = tar.getnames()
        key = tar.extractfile("pki/ca.key").read()
        snapshot = tar.extractfile("snapshot.db").read()
    assert {"snapshot.db", "pki/ca.crt", "pki/etcd/ca.crt", "pki/etcd/healthcheck-client.key"} <= set(members)
    lab.exec(lab.hosts[0], "base64 -d > /tmp/restored.db", input=base64.b64encode(snapshot).decode())
    status = lab.exec(lab.hosts[0], "etcdctl snapshot status /tmp/restored.db -w json")
    assert status.returncode == 0 and json.loads(status.stdout)["totalKey"] > 0, status.stderr
    assert lab.exec(lab.hosts[0], "test -e /var/lib/kwizard/backup").returncode != 0
    logs = _all_bytes(user.runs)
    assert key.strip().splitlines()[1] not in logs, "no private key in any run log"
    assert b"Snapshot saved at" in logs
    refused = user.kwizard("backup", profile, "-o", str(archive))
    assert refused.returncode == 2 and "--force" in refused.stderr

    # --- remove-node, then add it back: the profile keeps the person's comments ---
    worker = names[2]
    removed = user.kwizard("remove-node", profile, worker, "--yes")
    assert removed.returncode == 0, removed.stdout[-3000:] + removed.stderr[-3000:]
    edited = open(profile).read()
    assert edited.startswith(COMMENTED_HEADER) and "# every machine" in edited
    assert worker not in edited and names[1] in edited
    assert worker not in lab.cluster_state()["nodes"]
    assert _ready_nodes(lab) == set(names[:2])
    worker_host = lab.hosts[2]
    add_host(Path(profile), {"name": worker, "address": worker_host.address, "role": "worker"})
    rejoined = user.kwizard("apply", "--yes", profile)
    assert rejoined.returncode == 0, rejoined.stdout[-3000:] + rejoined.stderr[-3000:]
    assert _ready_nodes(lab) == set(names)
    assert open(profile).read().startswith(COMMENTED_HEADER)
    last = [d for d in user.run_dirs() if json.loads((d / "state.json").read_text()).get("plan") == "setup"][-1]
    assert "This node has joined the cluster" in (last / "hosts" / f"{worker}.log").read_text()
    kept = last / "hosts" / f"{names[1]}.log"
    assert not kept.exists() or "This node has joined the cluster" not in kept.read_text(), "only the new worker joins"
