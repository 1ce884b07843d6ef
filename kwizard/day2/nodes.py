"""`kwizard remove-node`: drain the node, delete it from the cluster, reset its host, drop it from the profile.

Adding a worker needs no plan of its own: put it in the profile and `kwizard apply` joins just it
(every other host's steps are already done, by their probes).
"""

from __future__ import annotations

from pathlib import Path

from kwizard.day2.profile_edit import ProfileEditError, remove_host
from kwizard.plan import reset_scripts
from kwizard.plan.context import RemoteScript, RunContext
from kwizard.plan.reset import _cri_socket
from kwizard.plan.steps import LocalWork, Plan, Step, StepFailed, same_script
from kwizard.profile.model import Profile


class CannotRemove(ValueError):
    """The node cannot be removed this way (not in the profile, or the control plane)."""


def removable(profile: Profile, name: str) -> None:
    host = next((h for h in profile.hosts if h.name == name), None)
    if host is None:
        known = ", ".join(h.name for h in profile.hosts)
        raise CannotRemove(f"no host named {name} in the profile (its hosts: {known})")
    if host is profile.control_plane or host.name == profile.control_plane.name:
        raise CannotRemove(f"{name} is the control plane: tear the cluster down with `kwizard reset` instead")


def _edit_profile(profile_path: Path, name: str) -> LocalWork:
    async def work(ctx: RunContext) -> None:
        try:
            remove_host(profile_path, name)
        except ProfileEditError as exc:
            raise StepFailed(f"{name} is out of the cluster, but the profile was not changed: {exc}") from None
        ctx.note(name, f"removed {name} from {profile_path} (comments and order kept)")

    return work


def build_remove_plan(profile: Profile, name: str, profile_path: Path, connect: LocalWork | None = None) -> Plan:
    removable(profile, name)
    cp = profile.control_plane.name

    def reset_script(ctx: RunContext, host: str) -> RemoteScript:
        return RemoteScript(reset_scripts.kubeadm_reset(_cri_socket(profile, ctx, host)))

    steps = [
        Step(id="connect", title=f"Connect to the control plane and {name}", hosts=(cp, name), after=connect,
             rerun_on_resume=True, describe="nothing changes unless both answer", timeout=120),
        Step(id="drain", title=f"Drain {name} and delete it from the cluster", hosts=(cp,),
             script=same_script(reset_scripts.drain_and_delete(name)),
             describe="kubectl drain --delete-emptydir-data --force --ignore-daemonsets, then kubectl delete node",
             timeout=300),
        Step(id="reset", title=f"kubeadm reset on {name}", hosts=(name,), script=reset_script,
             probe=same_script(reset_scripts.reset_probe()), describe="kubeadm reset -f: the kubelet stops, state removed",
             timeout=300),
        Step(id="profile", title=f"Remove {name} from the profile", hosts=(cp,), after=_edit_profile(profile_path, name),
             describe=f"{profile_path}: the host's entry goes, everything else stays as written", timeout=60),
    ]
    return Plan(name="remove-node", steps=steps, hosts=(cp, name))
