"""The setup plan as shell runbooks, one per host (`kwizard export script`), and the README that orders them.

`<host>.sh` holds that host's steps in the plan's order. Each step is its
probe (exit 0: already done, skip) then its uploads and its script: the plan
objects' text, fed through quoted heredocs (no expansion) to a fresh bash
with kwizard's `set -euo pipefail` and stdin closed, as kwizard runs them.
Run as root with `ssh HOST sudo bash -s < HOST.sh`.

What kwizard does on its own side is replaced as follows:
- preflight: `kwizard check PROFILE` ran when exporting (facts were gathered);
- cni-fetch: the manifest is patched ahead of time (kwizard.export.manifests)
  and the runbook writes the result after checking that the file the
  control plane holds is the one that was patched;
- join-command: no token is ever in a runbook. The control plane's runbook
  stops there, printing its CA hash; the person carries a join command to
  each worker on the runbook's stdin (README.md says how), where it lands in
  KWIZARD_JOIN_COMMAND, is checked for kubeadm's exact shape, and runs; the
  control plane's runbook then finishes with `after-join`.
"""

from __future__ import annotations

import base64
import shlex

from kwizard.kube.join import CA_CERT
from kwizard.kube.joincmd import FRESH_JOIN_COMMAND
from kwizard.plan.cni_steps import WEAVE_SECRET_FILE
from kwizard.plan.context import RemoteScript, Upload
from kwizard.profile.model import Host, Profile
from kwizard.export import walk as plan_walk
from kwizard.export.manifests import PatchedManifest, patched_manifest
from kwizard.export.walk import ExportStep

JOIN_ENV = "KWIZARD_JOIN_COMMAND"
AFTER_JOIN = "after-join"
STEP_END = "KWIZARD_STEP_END"
PROBE_END = "KWIZARD_PROBE_END"
FILE_END = "KWIZARD_FILE_END"

# kubeadm's join command exactly (kwizard.kube.joincmd's shape, one CA pin): nothing else runs as root.
JOIN_SHAPE = (
    r"^kubeadm join [A-Za-z0-9.:-]+ --token [a-z0-9]{6}\.[a-z0-9]{16} "
    r"--discovery-token-ca-cert-hash sha256:[0-9a-f]{64}$"
)
CA_HASH_COMMAND = (
    f"openssl x509 -pubkey -noout -in {CA_CERT} | openssl pkey -pubin -outform der | sha256sum | cut -d' ' -f1"
)

PRELUDE = """\
set -euo pipefail
kwizard_step_failed() {
  echo "kwizard runbook: step $1 failed (exit $2); fix the cause, then run this runbook again" >&2
  exit "$2"
}
# The script on stdin, run as kwizard runs it: its own bash, strict mode, stdin closed.
kwizard_run() {
  local file status=0
  file=$(mktemp)
  cat > "$file"
  bash "$file" </dev/null || status=$?
  rm -f "$file"
  [ "$status" -eq 0 ] || kwizard_step_failed "$1" "$status"
}
# The probe on stdin: exit 0 means the step is already done on this host.
kwizard_done() {
  local file status=0
  file=$(mktemp)
  cat > "$file"
  bash "$file" </dev/null >/dev/null 2>&1 || status=$?
  rm -f "$file"
  return "$status"
}
# PATH MODE, the content on stdin: written whole or not at all (a temp file beside it, then rename).
kwizard_write() {
  local tmp
  mkdir -p -- "$(dirname -- "$1")"
  tmp=$(mktemp "$(dirname -- "$1")/.kwizard.XXXXXXXX")
  cat > "$tmp"
  chmod "$2" "$tmp"
  mv -f -- "$tmp" "$1"
  echo "wrote $1 (mode $2)"
}
"""


def _delimiter(base: str, *texts: str) -> str:
    word, n = base, 1
    while any(word in t for t in texts):
        n += 1
        word = f"{base}_{n}"
    return word


def heredoc(command: str, text: str, end: str) -> str:
    """`command <<'END'` with `text` verbatim (quoted: no expansion); `text` ends with a newline."""
    word = _delimiter(end, text)
    return f"{command} <<'{word}'\n{text}{word}\n"


def _write(upload_path: str, mode: int, content: bytes) -> str:
    target = f"kwizard_write {shlex.quote(upload_path)} {mode:04o}"
    try:
        text = content.decode()
    except UnicodeDecodeError:
        text = None
    if text is not None and text.endswith("\n"):
        return heredoc(target, text, FILE_END)
    encoded = base64.encodebytes(content).decode()
    return heredoc(f"base64 -d | {target}", encoded, FILE_END)


class _Runbook:
    def __init__(self, profile: Profile, steps: list[ExportStep], manifest: PatchedManifest | None):
        self.profile = profile
        self.steps = steps
        self.manifest = manifest
        self.has_workers = bool(profile.workers)

    def upload(self, upload: Upload) -> str:
        env = plan_walk.weave_password_env(self.profile)
        if env and upload.path.endswith("/" + WEAVE_SECRET_FILE):
            return (
                f"printf '%s' \"${{{env}:?set {env} to the Weave Net password: see README.md}}\" "
                f"| kwizard_write {shlex.quote(upload.path)} {upload.mode:04o}\n"
            )
        return _write(upload.path, upload.mode, upload.content)

    def step(self, step: ExportStep, host: str) -> str:
        group = step.script_for(host)
        head = f"\n# --- Step {step.number:02d} {step.id}: {step.title}\n"
        if step.step.describe:
            head += f"# {step.step.describe}\n"
        head += f"echo {shlex.quote(f'==> {step.number:02d} {step.id}: {step.title}')}\n"
        if step.id == "preflight":
            return head + "# kwizard's preflight (facts and checks) ran when this runbook was exported: kwizard check PROFILE\n"
        if step.id == "join-command":
            return head + self.join_command_stop()
        body = ""
        if group is not None and group.script is not None:
            script = group.script
            if step.id == "join":
                body += self.join_guard()
                script = RemoteScript(script.script.replace(plan_walk.JOIN_COMMAND, f"${JOIN_ENV}"), script.sudo, script.uploads)
            body += "".join(self.upload(u) for u in script.uploads)
            body += heredoc(f"kwizard_run {step.id}", plan_walk.strict(script), STEP_END)
        if step.id == plan_walk.FETCH_STEP:
            body += self.patched_manifest()
        if group is not None and group.probe is not None:
            probe = heredoc("if kwizard_done", plan_walk.strict(group.probe), PROBE_END)
            return head + f"{probe}then\n  echo '<== {step.id}: already done here'\nelse\n{body}fi\n"
        return head + body

    def join_guard(self) -> str:
        return (
            f"kwizard_join_shape={shlex.quote(JOIN_SHAPE)}\n"
            f'if ! [[ "${{{JOIN_ENV}:-}}" =~ $kwizard_join_shape ]]; then\n'
            f'  echo "kwizard runbook: {JOIN_ENV} must hold the join command (kubeadm join ... --token ... '
            f'--discovery-token-ca-cert-hash sha256:...): see README.md" >&2\n'
            "  exit 2\n"
            "fi\n"
            f"export {JOIN_ENV}\n"
        )

    def join_command_stop(self) -> str:
        cp = self.profile.control_plane.name
        return (
            f'if [ "${{1:-}}" != {AFTER_JOIN} ]; then\n'
            f'  echo "CA hash of this control plane: sha256:$({CA_HASH_COMMAND})"\n'
            f"  echo 'Stop here: now join the workers (README.md), then run this runbook again on {cp} "
            f"with the argument {AFTER_JOIN}.'\n"
            f"  echo 'A join command for them: {FRESH_JOIN_COMMAND} (on this host, as root); "
            "its --discovery-token-ca-cert-hash must be the hash above.'\n"
            "  exit 0\n"
            "fi\n"
        )

    def patched_manifest(self) -> str:
        manifest = self.manifest
        assert manifest is not None
        folder = plan_walk.MANIFEST_DIR
        text = "".join(_write(f"{folder}/{name}", 0o600, content) for name, content in manifest.originals.items())
        source = f"{folder}/{manifest.source_name}"
        text += (
            f"# The manifest was patched when exporting (kwizard's patcher): apply it only over the same file.\n"
            f'if [ "$(sha256sum < {shlex.quote(source)} | cut -d\' \' -f1)" != {manifest.source_sha256} ]; then\n'
            f"  echo 'kwizard runbook: {source} is not the file this runbook was exported with; export it again' >&2\n"
            "  exit 1\n"
            "fi\n"
        )
        return text + _write(plan_walk.patched_manifest_path(self.profile), 0o600, manifest.patched)

    def host(self, host: Host) -> str:
        role = "control plane" if host is self.profile.control_plane else "worker"
        head = (
            "#!/usr/bin/env bash\n"
            f"# kwizard export script: the setup plan of profile {self.profile.name} for {host.name} ({role}, {host.address}).\n"
            f"# Run as root on {host.name}, in the order README.md gives: ssh ... {host.address} sudo bash -s < {host.name}.sh\n"
            "# Each step: its probe (already done? then skip), its files, its script, exactly as kwizard runs them.\n"
        )
        return head + PRELUDE + "".join(self.step(s, host.name) for s in self.steps if host.name in s.step.hosts) + (
            f"\necho {shlex.quote(f'kwizard runbook: {host.name} done')}\n"
        )


def _ssh(profile: Profile, host: Host) -> str:
    ssh = profile.ssh
    parts = ["ssh"]
    if ssh.identity_file:
        parts += ["-i", ssh.identity_file]
    parts += ["-o", f"UserKnownHostsFile={ssh.known_hosts or '~/.ssh/known_hosts'}", "-o", "StrictHostKeyChecking=yes"]
    if ssh.jump_host:
        parts += ["-J", ssh.jump_host]
    port = profile.port_for(host)
    if port != 22:
        parts += ["-p", str(port)]
    parts.append(f"{profile.user_for(host)}@{host.address}")
    return " ".join(parts)


def readme(profile: Profile, profile_path: str) -> str:
    cp = profile.control_plane
    lines = [
        f"# Runbooks for {profile.name}",
        "",
        "Written by `kwizard export script` from kwizard's setup plan: the same steps, probes and",
        "scripts `kwizard plan` prints and `kwizard apply` runs, one runbook per host. Read them",
        "first; each step skips itself where its probe says it is already done, so a runbook can",
        "be run again after fixing a failure.",
        "",
        "## Order",
        "",
        "1. The control plane, up to the join command (it stops there and prints its CA hash):",
        "",
        f"       {_ssh(profile, cp)} sudo bash -s < {cp.name}.sh",
        "",
    ]
    if profile.workers:
        lines += [
            "2. A join command, carried by hand. No runbook holds a token. Make one and check it,",
            "   either with kwizard (it verifies the CA hash against the control plane's CA):",
            "",
            f"       (umask 077; kwizard join-command {profile_path} > join-command.txt)",
            "",
            "   or on the control plane, then compare its `--discovery-token-ca-cert-hash` with the",
            "   hash step 1 printed:",
            "",
            f"       (umask 077; {_ssh(profile, cp)} sudo {FRESH_JOIN_COMMAND} > join-command.txt)",
            "",
            "3. Each worker, the join command on the first line of the runbook's stdin (it lands in",
            f"   {JOIN_ENV} in root's shell: never in argv, a file on the worker, or a log):",
            "",
        ]
        for worker in profile.workers:
            lines.append(
                f"       cat join-command.txt {worker.name}.sh | {_ssh(profile, worker)} "
                f"\"sudo bash -c 'read -r {JOIN_ENV} && export {JOIN_ENV} && exec bash -s'\""
            )
        lines += [
            "",
            "4. The control plane again, to the end (waits for every node Ready):",
            "",
            f"       {_ssh(profile, cp)} sudo bash -s {AFTER_JOIN} < {cp.name}.sh",
            "",
            "5. Remove join-command.txt (the token lives 24 h).",
            "",
        ]
    env = plan_walk.weave_password_env(profile)
    if env:
        lines += [
            f"Weave Net's password: the control plane's runbook reads it from {env}; pass it like the",
            f"join command (`printf '%s\\n' \"${env}\" | cat - {cp.name}.sh | ssh ... \"sudo bash -c 'read -r {env} && export {env} && exec bash -s'\"`).",
            "",
        ]
    lines += [
        "If sudo asks for a password, copy the runbook to the host and run `sudo bash HOST.sh` there.",
        "",
    ]
    return "\n".join(lines)


def render(profile: Profile, steps: list[ExportStep], profile_path: str, manifest: PatchedManifest | None = None) -> dict[str, str]:
    if manifest is None:
        manifest = patched_manifest(profile)
    book = _Runbook(profile, steps, manifest)
    files = {f"{host.name}.sh": book.host(host) for host in profile.hosts}
    files["README.md"] = readme(profile, profile_path)
    return files
