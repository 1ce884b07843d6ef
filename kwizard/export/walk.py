"""The one walk over the setup plan that every exporter shares.

The plan is built exactly as `kwizard apply` builds it and rendered through
the same dry-run context `kwizard plan` uses (`view_plan`), with the hosts'
facts when export gathered them. Per step it gives the hosts grouped by what
they would run: the probe, the script and its uploads, as plan objects, never
retyped. What only a run can know stays a placeholder the exporters fill at
run time: the join command (`JOIN_COMMAND`) and Weave's password. Anything
else left undecided (the advertise address, the CRI socket) makes the walk
refuse, naming the profile fields that would decide it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace

from kwizard.cni import catalogue as cni
from kwizard.kube.joincmd import FRESH_JOIN_COMMAND
from kwizard.plan.context import DryRunContext, Placeholder, RemoteScript
from kwizard.plan.setup_cluster import MANIFEST_DIR
from kwizard.plan.setup import build_setup_plan
from kwizard.plan.steps import Plan, Step, StepFailed
from kwizard.profile.model import Profile

JOIN_COMMAND = str(Placeholder("join command"))  # what the join step's script holds in a dry run
STRICT_MODE = "set -euo pipefail\n"  # what kwizard puts before every script (kwizard.ssh.shell.compose)

FETCH_STEP = "cni-fetch"

# A placeholder the dry run leaves: "<advertise address: ...>", "<CRI socket: ...>".
_PLACEHOLDER_RE = re.compile(r"<(advertise address|CRI socket|the Weave Net password)[^<>\n]*>")
_UNDECIDED_CONFIG = "# rendered at run time from the control plane's facts"


class ExportRefused(ValueError):
    """The plan cannot be exported as it stands; the message names what to set or do."""


@dataclass(frozen=True)
class HostGroup:
    """Hosts of one step that run the same probe and script."""

    hosts: tuple[str, ...]
    script: RemoteScript | None  # None: nothing to run on these hosts
    probe: RemoteScript | None  # None: the step has no "already done" test


@dataclass(frozen=True)
class ExportStep:
    number: int
    step: Step
    groups: tuple[HostGroup, ...]

    @property
    def id(self) -> str:
        return self.step.id

    @property
    def title(self) -> str:
        return self.step.title

    @property
    def local_only(self) -> bool:
        return not any(g.script for g in self.groups)

    def script_for(self, host: str) -> HostGroup | None:
        return next((g for g in self.groups if host in g.hosts), None)


def needs_facts(profile: Profile) -> list[str]:
    """The profile fields that only the hosts' facts can decide ('auto' ones)."""
    cluster = profile.cluster
    return [f"cluster.{name}" for name in ("advertise_address", "cri_socket") if getattr(cluster, name) == "auto"]


def setup_plan(profile: Profile) -> Plan:
    return build_setup_plan(profile)


def walk(profile: Profile, facts: Mapping[str, object] | None = None) -> list[ExportStep]:
    """The setup plan, step by step, each host's probe and script as `kwizard plan` renders them."""
    plan = setup_plan(profile)
    ctx = DryRunContext(facts)
    steps = []
    for number, step in enumerate(plan.steps, start=1):
        groups: dict[tuple, list[str]] = {}
        scripts: dict[tuple, tuple[RemoteScript | None, RemoteScript | None]] = {}
        for host in step.hosts:
            script = _render(step, step.script, ctx, host)
            probe = _render(step, step.probe, ctx, host)
            key = (script, probe)
            groups.setdefault(key, []).append(host)
            scripts[key] = (script, probe)
        steps.append(
            ExportStep(number, step, tuple(HostGroup(tuple(h), *scripts[k]) for k, h in groups.items()))
        )
    return steps


def _render(step: Step, script_for, ctx: DryRunContext, host: str) -> RemoteScript | None:
    if script_for is None:
        return None
    try:
        script = script_for(ctx, host)
    except StepFailed as exc:
        raise ExportRefused(f"step {step.id} on {host}: {exc}") from None
    if script is None:
        return None
    _refuse_undecided(step, host, script)
    return script


def _refuse_undecided(step: Step, host: str, script: RemoteScript) -> None:
    texts = [script.script] + [u.content.decode(errors="replace") for u in script.uploads]
    for text in texts:
        if _UNDECIDED_CONFIG in text or any(m[1] != "the Weave Net password" for m in _PLACEHOLDER_RE.finditer(text)):
            raise ExportRefused(
                f"step {step.id} on {host} needs the hosts' facts (the advertise address, the CRI socket): "
                "export without --offline so kwizard connects and gathers them, or set "
                "cluster.advertise_address and cluster.cri_socket in the profile"
            )


def strict(script: RemoteScript) -> str:
    """The text a host runs for `script` (its uploads placed apart): kwizard's strict mode, then the script."""
    from kwizard.ssh.shell import compose  # noqa: PLC0415 - plain text; loads no SSH library

    return compose(replace(script, uploads=()))


# --- what kwizard does on its own side, named once for every exporter ---


def plugin_of(profile: Profile) -> cni.CNIPlugin:
    return cni.get_plugin(profile.cluster.cni.value)


def manifest_path(profile: Profile) -> str:
    """Where the fetch step leaves the manifest that carries the pod CIDR."""
    return f"{MANIFEST_DIR}/{plugin_of(profile).patched_manifest.filename}"


def patched_manifest_path(profile: Profile) -> str:
    """Where kwizard puts the patched copy the apply step applies (kwizard.plan.setup's naming)."""
    return f"{MANIFEST_DIR}/kwizard-{plugin_of(profile).patched_manifest.filename}"


def local_manifests(profile: Profile) -> dict[str, str]:
    """file name -> local path, when the profile's cni_options.manifest_file gives the manifests."""
    source = profile.cluster.cni_options.manifest_file
    if not source:
        return {}
    path = os.path.abspath(os.path.expanduser(source))
    names = [m.filename for m in plugin_of(profile).manifests]
    if os.path.isdir(path):
        missing = [n for n in names if not os.path.isfile(os.path.join(path, n))]
        if missing:
            raise ExportRefused(f"cni_options.manifest_file: {path} lacks {', '.join(missing)}")
        return {n: os.path.join(path, n) for n in names}
    if len(names) > 1:
        raise ExportRefused(f"cni_options.manifest_file: {plugin_of(profile).name} needs a folder holding {', '.join(names)}")
    if not os.path.isfile(path):
        raise ExportRefused(f"cni_options.manifest_file: cannot read {path}")
    return {names[0]: path}


def weave_password_env(profile: Profile) -> str | None:
    return profile.cluster.cni_options.encryption_password_env


def fresh_join_script() -> RemoteScript:
    """What the join-command step runs on the control plane (kwizard.kube.join captures it)."""
    return RemoteScript(FRESH_JOIN_COMMAND + "\n")
