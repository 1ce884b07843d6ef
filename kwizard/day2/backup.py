"""`kwizard backup`: an etcd snapshot and the PKI to restore it, in one local 0600 tar.gz.

The plan (upstream tasks/administer-cluster/configure-upgrade-etcd: "Snapshot using etcdctl
options"): on the control plane, `etcdctl snapshot save` over https://127.0.0.1:2379 with the
client certificate kubeadm made for etcd's health checks (else the API server's etcd client),
`etcdctl snapshot status` on the file, and a tar.gz of the snapshot with /etc/kubernetes/pki in a
0700 folder; kwizard downloads it (never through a log), checks its SHA-256 and contents, writes it
0600 atomically, and the last step removes the folder from the host. docs/backup.md restores it.
"""

from __future__ import annotations

import hashlib
import io
import re
import tarfile
from pathlib import Path

from kwizard.files import write_private_atomically
from kwizard.plan import scripts
from kwizard.plan.context import RemoteScript, RunContext
from kwizard.plan.steps import LocalWork, Plan, Step, StepFailed, same_script
from kwizard.profile.model import Profile

WORK_DIR = "/var/lib/kwizard/backup"
ARCHIVE = f"{WORK_DIR}/etcd-backup.tar.gz"
PKI = "/etc/kubernetes/pki"
ETCD_CA = f"{PKI}/etcd/ca.crt"
CLIENTS = ((f"{PKI}/etcd/healthcheck-client.crt", f"{PKI}/etcd/healthcheck-client.key"),
           (f"{PKI}/apiserver-etcd-client.crt", f"{PKI}/apiserver-etcd-client.key"))
REQUIRED_MEMBERS = ("snapshot.db", "pki/ca.crt", "pki/ca.key", "pki/etcd/ca.crt", "pki/etcd/ca.key")
_SHA = re.compile(r"^archive sha256 ([0-9a-f]{64})$", re.M)


def snapshot_script() -> str:
    (hc_crt, hc_key), (ap_crt, ap_key) = CLIENTS
    return f"""\
test -s {scripts.ADMIN_CONF} || {{ echo "no cluster on this host: {scripts.ADMIN_CONF} is not there" >&2; exit 1; }}
if ! command -v etcdctl >/dev/null; then
  echo "etcdctl is not installed here; install it (apt-get install etcd-client, dnf install etcd) or copy the" >&2
  echo "etcdctl of the etcd release the cluster runs (kubectl -n kube-system get pod -l component=etcd -o yaml)" >&2
  exit 1
fi
if test -r {hc_crt}; then cert={hc_crt}; key={hc_key}; else cert={ap_crt}; key={ap_key}; fi
rm -rf {WORK_DIR}
install -d -m 0700 {WORK_DIR}
umask 077
ETCDCTL_API=3 etcdctl --endpoints=https://127.0.0.1:2379 --cacert={ETCD_CA} --cert="$cert" --key="$key" \\
  snapshot save {WORK_DIR}/snapshot.db
ETCDCTL_API=3 etcdctl snapshot status {WORK_DIR}/snapshot.db -w table
cp -a {PKI} {WORK_DIR}/pki
kubeadm version -o short > {WORK_DIR}/kubeadm-version 2>/dev/null || true
tar -C {WORK_DIR} -czf {ARCHIVE} snapshot.db pki kubeadm-version
rm -rf {WORK_DIR}/pki {WORK_DIR}/snapshot.db
echo "archive sha256 $(sha256sum {ARCHIVE} | cut -d' ' -f1)"
"""


def cleanup_script() -> str:
    return f'rm -rf {WORK_DIR}\necho "removed {WORK_DIR} (the snapshot and the PKI copy) from this host"\n'


def check_archive(data: bytes) -> list[str]:
    """The archive's member names; StepFailed when it lacks what a restore needs."""
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            names = tar.getnames()
    except (tarfile.TarError, OSError) as exc:
        raise StepFailed(f"the downloaded archive is not a readable tar.gz: {exc}") from None
    missing = [m for m in REQUIRED_MEMBERS if m not in names]
    if missing:
        raise StepFailed(f"the archive lacks {', '.join(missing)}: it could not be restored; nothing was written")
    return names


def fetch_work(host: str, dest: Path) -> LocalWork:
    async def work(ctx: RunContext) -> None:
        session = await ctx.session(host)
        status, out, _err = await session.capture(
            RemoteScript(f"sha256sum {ARCHIVE} | cut -d' ' -f1\n"), timeout=60)
        expected = out.strip()
        if status != 0 or not re.fullmatch(r"[0-9a-f]{64}", expected):
            raise StepFailed(f"cannot read {ARCHIVE} on {host}; run the backup again")
        data = await session.download(ARCHIVE, sudo=True)
        got = hashlib.sha256(data).hexdigest()
        if got != expected:
            raise StepFailed(f"the archive changed on the way: sha256 {got} here, {expected} on {host}")
        names = check_archive(data)
        write_private_atomically(dest, data)
        ctx.note(host, f"backup written to {dest} (mode 0600, {len(data)} bytes, {len(names)} files, sha256 {got})")

    return work


def build_backup_plan(profile: Profile, dest: Path, connect: LocalWork | None = None) -> Plan:
    cp = profile.control_plane.name
    steps = [
        Step(id="connect", title="Connect to the control plane", hosts=(cp,), after=connect, rerun_on_resume=True,
             describe="the control plane must answer", timeout=120),
        Step(id="snapshot", title="Take an etcd snapshot (etcdctl snapshot save) and pack it with the PKI",
             hosts=(cp,), script=same_script(snapshot_script()), after=fetch_work(cp, dest),
             describe=f"etcdctl with {ETCD_CA} and the etcd health-check client certificate; snapshot status; "
                      f"tar.gz of the snapshot and {PKI} in {WORK_DIR} (0700), downloaded to {dest} (0600)",
             timeout=600),
        Step(id="cleanup", title="Remove the snapshot from the control plane", hosts=(cp,),
             script=same_script(cleanup_script()), describe=f"rm -rf {WORK_DIR}: the copy holds the cluster's keys",
             timeout=60),
    ]
    return Plan(name="backup", steps=steps, hosts=(cp,))
