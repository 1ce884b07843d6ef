"""What each step of the setup plan waits for, per host (kwizard.run.schedule runs it).

A host prepares itself (/etc/hosts, kernel, swap, firewall, NetworkManager,
packages) without waiting for any other host: only the preflight, which
checks every host before anything changes, is a barrier. Each worker then
pulls the images its pods run while the control plane pulls its own, inits,
writes the kubeconfig and applies the plugin;
the join command is made as soon as the kubeconfig step is done, and each
worker joins as soon as it is prepared and the join command exists, while
the plugin is still being applied and coming up. Readiness is checked once,
at the end, for every node.
"""

from __future__ import annotations

import dataclasses

from kwizard.plan.context import RunContext
from kwizard.plan.installed import refresh_installed_versions
from kwizard.plan.steps import Need, Plan, Step, on_all_hosts, on_same_host

# Each host's own preparation, in plan order; each waits for the one before it that the profile has.
PREP = ("hosts-file", "kernel", "swap", "firewall", "networkmanager", "packages")

# The steps after the preparation (the control plane's chain, and the workers' images and join) and what they wait for.
AFTER_PREP: dict[str, tuple[Need, ...]] = {
    "node-images": on_same_host("packages"),
    "images": on_same_host("packages"),
    "init": on_same_host("images"),
    "kubeconfig": on_same_host("init"),
    "cni-fetch": on_same_host("kubeconfig"),
    # "all", not "same": the manifest it applies is patched and uploaded by cni-fetch's `after` work
    "cni-apply": on_all_hosts("cni-fetch"),
    "ready": on_same_host("cni-apply", "untaint"),
    "untaint": on_same_host("kubeconfig"),
    "join-command": on_all_hosts("kubeconfig"),
    "join": on_same_host("node-images") + on_all_hosts("join-command"),
    "verify": on_all_hosts("join", "cni-apply", "untaint"),
    "labels": on_all_hosts("join"),
}


def with_setup_needs(plan: Plan) -> Plan:
    """The setup plan with every step's needs; a step the profile left out is skipped over."""
    present = {s.id for s in plan.steps}
    steps = []
    for step in plan.steps:
        needs = _needs(step.id, present)
        if needs is None:
            steps.append(step)
            continue
        steps.append(_per_host_refresh(dataclasses.replace(step, needs=needs)))
    return dataclasses.replace(plan, steps=steps)


def _needs(step_id: str, present: set[str]) -> tuple[Need, ...] | None:
    if step_id == "preflight":
        return None  # the first step: nothing before it
    if step_id in PREP:
        before = [p for p in PREP[: PREP.index(step_id)] if p in present]
        return on_all_hosts("preflight") + (on_same_host(before[-1]) if before else ())
    if step_id in AFTER_PREP:
        return on_all_hosts("preflight") + tuple(_closest(n, present) for n in AFTER_PREP[step_id])
    return None  # a step this table does not know: lock-step, after everything before it


# A step a plan may leave out (v1's order has no worker pre-pull), and what stands in for it then.
OPTIONAL = {"node-images": "packages"}


def _closest(need: Need, present: set[str]) -> Need:
    """A need on a step the plan left out: the closest earlier prep step it has instead."""
    if need.step not in present and need.step in OPTIONAL:
        need = Need(OPTIONAL[need.step], need.on)
    if need.step in present or need.step not in PREP:
        return need
    for earlier in reversed(PREP[: PREP.index(need.step)]):
        if earlier in present:
            return Need(earlier, need.on)
    return Need("preflight", "all")


def _per_host_refresh(step: Step) -> Step:
    """The packages step reads back each host's installed versions as soon as that host is done,
    so the control plane's images and init never wait for the slowest worker's packages."""
    if step.id != "packages" or step.after is None or step.after_each is not None:
        return step

    async def refresh(ctx: RunContext, host: str) -> None:
        await refresh_installed_versions((host,))(ctx)

    return dataclasses.replace(step, after=None, after_each=refresh)
