"""What a plan is made of: steps that run scripts on hosts, and the context they share.

A step says which hosts it targets, what to run on each (a shell script,
usually under sudo), how to tell it is already done there (a probe: exit 0
means done), and optionally Python work on the kwizard side once the remote
part has succeeded (parse a join command, fetch a kubeconfig). Scripts are
functions of the run context so a later step can use what an earlier one
learned; for a dry run the context answers with placeholders.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from kwizard.plan.context import RemoteScript, RunContext




ScriptFor = Callable[[RunContext, str], RemoteScript | None]  # None: nothing to do on that host


def same_script(script: str, sudo: bool = True) -> ScriptFor:
    """The same script on every host a step targets."""

    def script_for(ctx: RunContext, host: str) -> RemoteScript:
        return RemoteScript(script, sudo=sudo)

    return script_for
LocalWork = Callable[[RunContext], Awaitable[None]]
HostLocalWork = Callable[[RunContext, str], Awaitable[None]]  # kwizard-side work for one host


@dataclass(frozen=True)
class Need:
    """What one host's part of a step waits for: another step, on the same host or on all its hosts.

    `on="same"`: that step's part on this host (and its `after_each`); a host the other step does not
    target has nothing to wait for. `on="all"`: that step finished on every host it targets, its
    `after` work included (for a step of the control plane alone: "on the control plane").
    """

    step: str
    on: str = "same"  # same | all


def on_same_host(*step_ids: str) -> tuple[Need, ...]:
    return tuple(Need(s, "same") for s in step_ids)


def on_all_hosts(*step_ids: str) -> tuple[Need, ...]:
    return tuple(Need(s, "all") for s in step_ids)


@dataclass(frozen=True)
class Step:
    id: str
    title: str
    hosts: tuple[str, ...]
    script: ScriptFor | None = None
    probe: ScriptFor | None = None  # exit 0 = already done on that host
    after: LocalWork | None = None  # kwizard-side work once every host succeeded
    timeout: float = 600.0  # per host
    rerun_on_resume: bool = False  # its results are secret, so not kept for a resume
    describe: str = ""  # one line for the plan view: what and why
    diagnose: Callable[[str], str | None] | None = None  # output tail -> likely cause and fix
    # What each host's part waits for (kwizard.run.schedule); None: lock-step, every earlier step
    # finished on all its hosts first (v1's order, and what a plan that declares nothing gets).
    needs: tuple[Need, ...] | None = None
    after_each: HostLocalWork | None = None  # kwizard-side work once this host succeeded


@dataclass
class Plan:
    name: str  # "setup" | "reset"
    steps: list[Step]
    hosts: tuple[str, ...]
    notes: list[str] = field(default_factory=list)

    def step(self, step_id: str) -> Step:
        return next(s for s in self.steps if s.id == step_id)

    def lockstep(self) -> Plan:
        """The same steps in v1's order: each waits for every earlier step on all hosts."""
        steps = [dataclasses.replace(s, needs=None) for s in self.steps]
        return dataclasses.replace(self, steps=steps)


class StepFailed(Exception):
    """Raised by a step's local work with a message for the user."""
