"""A plan as a person reads it: per step, what runs on which hosts (nothing runs).

Used by `kwizard plan` and by the wizard's review screen. Hosts that would run
the same script are grouped, so a 40-node join reads as one block.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kwizard.kube.joincmd import FRESH_JOIN_COMMAND
from kwizard.plan.context import DryRunContext, RemoteScript
from kwizard.plan.steps import Plan, Step, StepFailed


@dataclass(frozen=True)
class ScriptGroup:
    hosts: tuple[str, ...]
    script: RemoteScript | None  # None: kwizard-side work only on these hosts


@dataclass(frozen=True)
class StepView:
    number: int
    id: str
    title: str
    describe: str
    hosts: tuple[str, ...]
    groups: tuple[ScriptGroup, ...]
    has_probe: bool
    local_work: bool


def view_plan(plan: Plan, facts: Mapping[str, object] | None = None) -> list[StepView]:
    """Each step as it would run; `facts` (host -> HostFacts, e.g. from a connection test) fill in what they can."""
    ctx = DryRunContext(facts)
    return [_view_step(i, step, ctx) for i, step in enumerate(plan.steps, start=1)]


def _view_step(number: int, step: Step, ctx: DryRunContext) -> StepView:
    by_script: dict[Any, list[str]] = {}
    scripts: dict[Any, RemoteScript | None] = {}
    for host in step.hosts:
        script = _script_or_reason(step, ctx, host)
        key = None if script is None else (script.script, script.sudo, script.uploads)
        by_script.setdefault(key, []).append(host)
        scripts[key] = script
    groups = tuple(ScriptGroup(tuple(hosts), scripts[key]) for key, hosts in by_script.items())
    return StepView(
        number=number,
        id=step.id,
        title=step.title,
        describe=step.describe,
        hosts=step.hosts,
        groups=groups,
        has_probe=step.probe is not None,
        local_work=step.after is not None or step.after_each is not None,
    )


def _script_or_reason(step: Step, ctx: DryRunContext, host: str) -> RemoteScript | None:
    if step.script is None:
        return None
    try:
        return step.script(ctx, host)
    except StepFailed as exc:  # e.g. a missing environment variable: say so in the plan
        return RemoteScript(f"# kwizard cannot prepare this yet: {exc}\n")


def format_plan(plan: Plan, profile_name: str, facts: Mapping[str, object] | None = None) -> str:
    lines = [f"Plan '{plan.name}' for profile {profile_name}: {len(plan.steps)} steps on {len(plan.hosts)} hosts", ""]
    for view in view_plan(plan, facts):
        lines.append(f"{view.number:2}. {view.title}  [{view.id}]")
        if view.describe:
            lines.append(f"    {view.describe}")
        if view.has_probe:
            lines.append("    skipped on hosts where it is already done")
        for group in view.groups:
            lines.append(f"    on {', '.join(group.hosts)}:")
            if group.script is None:
                lines.append("      (kwizard-side work only)")
                continue
            for upload in group.script.uploads:
                lines.append(f"      write {upload.path} (mode {upload.mode:04o}):")
                lines.extend(f"        | {line}" for line in upload.content.decode(errors="replace").splitlines())
            prefix = "      # as root (sudo)" if group.script.sudo else "      # as the SSH user"
            lines.append(prefix)
            lines.extend(f"      {line}" for line in group.script.script.rstrip("\n").splitlines())
        if view.local_work or view.id in {"preflight", "connect"}:
            lines.append("    then, on the kwizard side: " + _LOCAL_WORK.get(view.id, "checks the result"))
        lines.append("")
    return "\n".join(lines)


_LOCAL_WORK = {
    "preflight": "connect to every host, gather its facts, and stop here on any error finding",
    "connect": "connect to every host; stop if any cannot be reached",
    "packages": "read back the installed kubeadm/kubelet/kubectl versions (the kubeadm config is rendered from them)",
    "kubeconfig": "fetch /etc/kubernetes/admin.conf to a local 0600 kubeconfig file",
    "cni-fetch": "read the manifest back, set the pod CIDR in it, upload the result",
    "join-command": f"run `{FRESH_JOIN_COMMAND}` (output kept out of logs), "
    "then verify its CA hash against /etc/kubernetes/pki/ca.crt",
}
