"""The setup plan as an Ansible inventory and playbook (`kwizard export ansible`).

One play over every host, one block per step and group of hosts, in the
plan's order; `any_errors_fatal` makes a failure stop the run there, as
kwizard's runner does. Each step's tasks are:

- its probe, run first (`changed_when: false`, never failing): exit 0 means
  already done, and the step's uploads and script are then skipped, so a
  second run changes nothing and reports `changed=0`;
- its uploads (`ansible.builtin.copy`, same path and mode as kwizard's);
- its script: `kwizard plan`'s text as the plan object renders it, after the
  `set -euo pipefail` kwizard puts before every script, in an `!unsafe`
  block so Jinja never touches it. Steps without a probe (the manifest
  download, the waits for Ready, the labels) converge and report no change.

kwizard-side work (`Step.after`) becomes tasks too:

- join-command: `kubeadm token create --print-join-command` on the control
  plane (registered with `no_log`, only when some worker still has to join),
  its CA hash checked against the control plane's /etc/kubernetes/pki/ca.crt
  by kwizard's own parser and CA pin (`python -m kwizard.export.helper
  verify-join`, delegated to localhost); the workers receive the verified
  command on their script's stdin (a host variable in memory: never in a
  file, argv or a log, and pipelining keeps module arguments off the hosts'
  disks).
- cni-fetch: the manifest is downloaded on the control plane at run time,
  as kwizard does, then patched on the workstation by kwizard's own patcher
  (`python -m kwizard.export.helper patch-manifest`, delegated to localhost)
  and copied back. Patching at run time, not at export, because export does
  not fetch anything: the pinned manifest is downloaded where kwizard
  downloads it (the control plane, which needs the internet anyway), and
  kwizard.cni stays the one place that knows how to edit it. The playbook
  therefore needs this kwizard on the machine that runs ansible-playbook
  (`kwizard_python`, a play variable set to the interpreter that exported it).
- preflight: kwizard's checks ran when the export gathered facts; the
  playbook only proves it can connect and become root.

No secret is written: a sudo password comes from `--ask-become-pass` or from
the environment variable the profile names (`lookup('env', ...)`), Weave's
password likewise. Host keys are checked against the profile's known_hosts
file with StrictHostKeyChecking=yes.
"""

from __future__ import annotations

import json
import os
import posixpath
import shlex
import sys
from typing import Any

from kwizard.kube.join import CA_CERT
from kwizard.plan.cni_steps import WEAVE_SECRET_FILE, patch_options
from kwizard.plan.context import RemoteScript, Upload
from kwizard.profile.model import Profile
from kwizard.export import walk as plan_walk
from kwizard.export.walk import ExportStep, HostGroup
from kwizard.export.yamltext import Unsafe, dump

INVENTORY_FILE = "inventory/hosts.yml"
LINT_FILE = ".ansible-lint"
LINT_CONFIG = """\
# The scripts in site.yml are kwizard's setup plan byte for byte, in literal
# blocks: their long lines cannot be wrapped without changing them.
skip_list:
  - yaml[line-length]
"""
PLAYBOOK_FILE = "site.yml"
JOIN_VAR = "kwizard_join"  # the control plane's verified join command (a registered, no_log result)


def _var(step_id: str, suffix: str) -> str:
    return f"kwizard_{step_id.replace('-', '_')}_{suffix}"


def _known_hosts(profile: Profile) -> str:
    return os.path.abspath(os.path.expanduser(profile.ssh.known_hosts or "~/.ssh/known_hosts"))


def inventory(profile: Profile) -> dict[str, Any]:
    ssh = profile.ssh
    args = ["-o", f"UserKnownHostsFile={_known_hosts(profile)}", "-o", "StrictHostKeyChecking=yes"]
    if ssh.jump_host:
        args += ["-o", f"ProxyJump={ssh.jump_host}"]
    common: dict[str, Any] = {
        "ansible_user": ssh.user,
        "ansible_port": ssh.port,
        "ansible_ssh_common_args": shlex.join(args),
        "ansible_ssh_timeout": int(ssh.connect_timeout),
        "ansible_pipelining": True,  # module arguments (the join command) go over stdin, never to a file
        "ansible_python_interpreter": "auto_silent",
    }
    if ssh.identity_file:
        common["ansible_ssh_private_key_file"] = os.path.abspath(os.path.expanduser(ssh.identity_file))
    if ssh.sudo_password_env:
        common["ansible_become_password"] = f"{{{{ lookup('env', '{ssh.sudo_password_env}') }}}}"

    def host_vars(host) -> dict[str, Any]:
        found: dict[str, Any] = {"ansible_host": host.address}
        if host.user:
            found["ansible_user"] = host.user
        if host.port:
            found["ansible_port"] = host.port
        return found

    cp = profile.control_plane
    return {
        "all": {
            "vars": common,
            "children": {
                "control_plane": {"hosts": {cp.name: host_vars(cp)}},
                "workers": {"hosts": {h.name: host_vars(h) for h in profile.workers}},
            },
        }
    }


class _Playbook:
    def __init__(self, profile: Profile, steps: list[ExportStep]):
        self.profile = profile
        self.steps = steps
        self.by_id = {s.id: s for s in steps}
        self.cp = profile.control_plane.name

    # --- helpers ---

    def _become(self, script: RemoteScript) -> bool:
        return bool(script.sudo and self.profile.ssh.sudo)

    @staticmethod
    def _name(step: ExportStep, what: str) -> str:
        return f"Step {step.number:02d} {step.id}: {what}"

    def _shell(self, step: ExportStep, what: str, script: RemoteScript, **extra: Any) -> dict[str, Any]:
        task: dict[str, Any] = {
            "name": self._name(step, what),
            "ansible.builtin.shell": {"cmd": Unsafe(plan_walk.strict(script)), "executable": "/bin/bash"},
            "become": self._become(script),
            "timeout": int(step.step.timeout),
        }
        task.update(extra)
        return task

    def _probe_register(self, step: ExportStep, index: int) -> str:
        return _var(step.id, f"probe_{index}")

    def _probe_tasks(self, step: ExportStep, index: int, group: HostGroup) -> list[dict[str, Any]]:
        if group.probe is None:
            return []
        return [
            self._shell(
                step,
                "already done here? (probe)",
                group.probe,
                register=self._probe_register(step, index),
                changed_when=False,
                failed_when=False,
            )
        ]

    def _upload_tasks(self, step: ExportStep, upload: Upload) -> list[dict[str, Any]]:
        folder = posixpath.dirname(upload.path)
        mkdir = {
            "name": self._name(step, f"folder {folder}"),
            "ansible.builtin.command": {"argv": ["mkdir", "-p", "--", folder], "creates": folder},
            "become": self.profile.ssh.sudo,
        }
        weave_env = plan_walk.weave_password_env(self.profile)
        secret = weave_env and upload.path.endswith("/" + WEAVE_SECRET_FILE)
        content: Any = f"{{{{ lookup('env', '{weave_env}') }}}}" if secret else Unsafe(upload.content.decode())
        copy: dict[str, Any] = {
            "name": self._name(step, f"write {upload.path} (mode {upload.mode:04o})"),
            "ansible.builtin.copy": {"dest": upload.path, "content": content, "mode": f"{upload.mode:04o}"},
            "become": self.profile.ssh.sudo,
        }
        if not secret:
            return [mkdir, copy]
        copy["no_log"] = True
        check = {
            "name": self._name(step, f"the Weave Net password is in ${weave_env}"),
            "ansible.builtin.assert": {
                "that": [f"lookup('env', '{weave_env}') | length > 0"],
                "fail_msg": f"cni_options.encryption_password_env: set {weave_env} to the Weave Net password",
                "quiet": True,
            },
        }
        return [check, mkdir, copy]

    def _block(self, step: ExportStep, group: HostGroup, tasks: list[dict[str, Any]]) -> dict[str, Any]:
        hosts = ", ".join(group.hosts)
        return {
            "name": self._name(step, f"{step.title} [{hosts}]"),
            "when": f"inventory_hostname in {json.dumps(list(group.hosts))}",
            "block": tasks,
        }

    # --- the steps ---

    def tasks(self) -> list[dict[str, Any]]:
        tasks: list[dict[str, Any]] = []
        for step in self.steps:
            if step.id == "preflight":
                tasks.append(self._preflight(step))
            elif step.id == "join-command":
                tasks.extend(self._join_command(step))
            else:
                tasks.extend(self._remote_step(step))
                if step.id == plan_walk.FETCH_STEP:
                    tasks.extend(self._fetch_and_patch(step))
        return tasks

    def _preflight(self, step: ExportStep) -> dict[str, Any]:
        return {
            "name": self._name(step, "connect and become root (kwizard's own checks ran at export)"),
            "ansible.builtin.ping": {},
            "become": self.profile.ssh.sudo,
        }

    def _remote_step(self, step: ExportStep) -> list[dict[str, Any]]:
        blocks = []
        probed_earlier = step.id == "join" and "join-command" in self.by_id
        for index, group in enumerate(step.groups, start=1):
            if group.script is None:
                continue
            inner: list[dict[str, Any]] = [] if probed_earlier else self._probe_tasks(step, index, group)
            when = [] if group.probe is None else [f"{self._probe_register(step, index)}.rc != 0"]
            if step.id == "join" and not probed_earlier:
                raise plan_walk.ExportRefused("the join step needs the join-command step before it")
            for upload in group.script.uploads:
                for task in self._upload_tasks(step, upload):
                    inner.append({**task, "when": when} if when else task)
            # Guarded by its probe, a script that runs is a change; without one, the step converges.
            extra: dict[str, Any] = {"when": when, "changed_when": True} if when else {"changed_when": False}
            if step.id == "join":
                task = self._shell(step, step.title, join_script(group.script), no_log=True, **extra)
                task["ansible.builtin.shell"]["stdin"] = f"{{{{ hostvars[{json.dumps(self.cp)}].{JOIN_VAR}.stdout }}}}"
            else:
                task = self._shell(step, step.title, group.script, **extra)
            inner.append(task)
            blocks.append(self._block(step, group, inner))
        return blocks

    def _fetch_and_patch(self, step: ExportStep) -> list[dict[str, Any]]:
        profile = self.profile
        plugin = plan_walk.plugin_of(profile)
        original = _var(step.id, "original")
        patched = _var(step.id, "patched")
        tasks: list[dict[str, Any]] = []
        for name, local in plan_walk.local_manifests(profile).items():
            tasks.append({
                "name": self._name(step, f"upload {name} from the local manifest"),
                "ansible.builtin.copy": {"src": local, "dest": f"{plan_walk.MANIFEST_DIR}/{name}", "mode": "0600"},
                "become": profile.ssh.sudo,
            })
        tasks += [
            {
                "name": self._name(step, f"read {plugin.patched_manifest.filename} back"),
                "ansible.builtin.slurp": {"src": plan_walk.manifest_path(profile)},
                "become": profile.ssh.sudo,
                "register": original,
            },
            {
                "name": self._name(step, f"set the pod CIDR {profile.cluster.pod_cidr} in it (kwizard's patcher)"),
                "ansible.builtin.command": {
                    "argv": [
                        "{{ kwizard_python }}", "-m", "kwizard.export.helper", "patch-manifest",
                        "--plugin", plugin.id, "--pod-cidr", profile.cluster.pod_cidr,
                        "--options", json.dumps(patch_options(profile), sort_keys=True),
                    ],
                    "stdin": f"{{{{ {original}.content }}}}",
                },
                "delegate_to": "localhost",
                "become": False,
                "register": patched,
                "changed_when": False,
            },
            {
                "name": self._name(step, f"write {plan_walk.patched_manifest_path(profile)} (mode 0600)"),
                "ansible.builtin.copy": {
                    "dest": plan_walk.patched_manifest_path(profile),
                    "content": f"{{{{ {patched}.stdout | b64decode }}}}",
                    "mode": "0600",
                },
                "become": profile.ssh.sudo,
            },
        ]
        return [{
            "name": self._name(step, f"patch the {plugin.name} manifest [{self.cp}]"),
            "when": f"inventory_hostname == {json.dumps(self.cp)}",
            "block": tasks,
        }]

    def _join_command(self, step: ExportStep) -> list[dict[str, Any]]:
        join = self.by_id.get("join")
        tasks: list[dict[str, Any]] = []
        pending = []
        if join is not None:
            for index, group in enumerate(join.groups, start=1):
                if group.script is None:
                    continue
                if group.probe is None:
                    pending = ["true"]
                    break
                tasks.append(self._block(join, group, self._probe_tasks(join, index, group)))
                register = self._probe_register(join, index)
                pending.append(
                    f"({json.dumps(list(group.hosts))} | map('extract', hostvars, ['{register}', 'rc']) "
                    "| select('ne', 0) | list | length > 0)"
                )
        when = " or ".join(pending) if pending else "false"
        raw, ca = _var(step.id, "raw"), _var(step.id, "ca")
        fresh = plan_walk.fresh_join_script()
        tasks.append({
            "name": self._name(step, f"{step.title} [{self.cp}]"),
            "when": [f"inventory_hostname == {json.dumps(self.cp)}", when],
            "block": [
                self._shell(step, "a fresh join command (kept out of logs)", fresh, register=raw, no_log=True, changed_when=True),
                {
                    "name": self._name(step, f"read {CA_CERT}"),
                    "ansible.builtin.slurp": {"src": CA_CERT},
                    "become": self.profile.ssh.sudo,
                    "register": ca,
                },
                {
                    "name": self._name(step, "check its CA hash against the control plane's CA (kwizard's own check)"),
                    "ansible.builtin.command": {
                        "argv": ["{{ kwizard_python }}", "-m", "kwizard.export.helper", "verify-join", "--ca-b64", f"{{{{ {ca}.content }}}}"],
                        "stdin": f"{{{{ {raw}.stdout }}}}",
                    },
                    "delegate_to": "localhost",
                    "become": False,
                    "register": JOIN_VAR,
                    "no_log": True,
                    "changed_when": False,
                },
            ],
        })
        return tasks

    def play(self) -> list[dict[str, Any]]:
        return [{
            "name": f"Set up the Kubernetes cluster {self.profile.name} (exported from kwizard's setup plan)",
            "hosts": "all",
            "gather_facts": False,
            "any_errors_fatal": True,
            "vars": {"kwizard_python": sys.executable},
            "tasks": self.tasks(),
        }]


# The join step's script reads the verified join command from stdin (the task's `stdin`).
READ_JOIN = "read -r kwizard_join_command  # the verified join command, on stdin: never in argv or a file\n"


def join_script(script: RemoteScript) -> RemoteScript:
    """The plan's join script, its join-command placeholder filled from stdin at run time."""
    body = script.script.replace(plan_walk.JOIN_COMMAND, "$kwizard_join_command")
    return RemoteScript(READ_JOIN + body, sudo=script.sudo, uploads=script.uploads)


def playbook(profile: Profile, steps: list[ExportStep]) -> list[dict[str, Any]]:
    return _Playbook(profile, steps).play()


def render(profile: Profile, steps: list[ExportStep]) -> dict[str, str]:
    """relative path -> text, for the output folder."""
    header = f"# kwizard export ansible: profile {profile.name}; run: ansible-playbook -i inventory site.yml\n"
    return {
        INVENTORY_FILE: header + dump(inventory(profile)),
        PLAYBOOK_FILE: header + dump(playbook(profile, steps)),
        LINT_FILE: LINT_CONFIG,
    }
