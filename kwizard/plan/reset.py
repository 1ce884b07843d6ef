"""The reset plan: the seed's tear-down, with today's flags, and an honest list of leftovers.

Workers are drained and deleted from the cluster first (while the control
plane still answers), then reset, then the control plane; last, every host
says what kubeadm reset did not clean.
"""

from __future__ import annotations

from dataclasses import dataclass

from kwizard.kube.cri import socket_url
from kwizard.plan import scripts
from kwizard.plan import reset_scripts
from kwizard.profile.model import Profile
from kwizard.plan.steps import LocalWork, Plan, Step, same_script
from kwizard.plan.context import RemoteScript, RunContext


@dataclass(frozen=True)
class ResetOptions:
    flush_iptables: bool = False
    clear_ipvs: bool = False
    remove_cni_config: bool = False

    @property
    def any(self) -> bool:
        return self.flush_iptables or self.clear_ipvs or self.remove_cni_config


def build_reset_plan(
    profile: Profile, options: ResetOptions = ResetOptions(), connect: LocalWork | None = None
) -> Plan:
    """The tear-down; `connect` is the reach-every-host work (absent in a dry run)."""
    everyone = tuple(h.name for h in profile.hosts)
    cp = profile.control_plane.name
    workers = tuple(h.name for h in profile.workers)
    cleanups = reset_scripts.reset_cleanups(options.flush_iptables, options.clear_ipvs, options.remove_cni_config)
    steps = [
        Step(
            id="connect",
            title="Connect to every host",
            hosts=everyone,
            after=connect,
            rerun_on_resume=True,
            describe="nothing is torn down unless every host answers",
            timeout=120,
        )
    ]
    if workers:
        steps.append(
            Step(
                id="drain",
                title="Drain and delete the workers from the cluster",
                hosts=(cp,),
                script=same_script(scripts_for_drain(workers)),
                describe="kubectl drain --delete-emptydir-data --force --ignore-daemonsets, then kubectl delete node",
                timeout=300 + 130 * len(workers),
            )
        )
        steps.append(_reset_step(profile, "reset-workers", "kubeadm reset on the workers", workers))
    steps.append(_reset_step(profile, "reset-control-plane", "kubeadm reset on the control plane", (cp,)))
    if options.any:
        # No probe: a host reset earlier still gets the clean-ups asked for now (each is safe to repeat).
        steps.append(
            Step(
                id="cleanup",
                title="The clean-ups you asked for",
                hosts=everyone,
                script=same_script(cleanups),
                describe="what kubeadm reset says it does not do: "
                + ", ".join(
                    what
                    for what, wanted in (
                        ("flush iptables", options.flush_iptables),
                        ("clear IPVS tables", options.clear_ipvs),
                        ("remove /etc/cni/net.d", options.remove_cni_config),
                    )
                    if wanted
                ),
                timeout=120,
            )
        )
    user_of = {h.name: profile.user_for(h) for h in profile.hosts}
    steps.append(
        Step(
            id="leftovers",
            title="What kubeadm reset left behind",
            hosts=everyone,
            script=lambda ctx, host: RemoteScript(reset_scripts.leftovers(user_of[host])),
            describe="CNI config and state, iptables rules, interfaces and kubeconfigs kubeadm reset does not remove",
            timeout=60,
        )
    )
    return Plan(name="reset", steps=steps, hosts=everyone)


def scripts_for_drain(workers: tuple[str, ...]) -> str:
    skip_without_cluster = f"if ! test -f {scripts.ADMIN_CONF}; then echo 'no cluster on the control plane: nothing to drain'; exit 0; fi\n"
    return skip_without_cluster + "".join(
        f"(\n{reset_scripts.drain_and_delete(worker)})\n" for worker in workers
    )


def _cri_socket(profile: Profile, ctx: RunContext, host: str) -> str | None:
    """The profile's socket, else the one the host's facts show (if any were gathered); None: the script decides."""
    if profile.cluster.cri_socket != "auto":
        return profile.cluster.cri_socket
    facts = ctx.facts.get(host)
    if facts is not None and len(facts.cri_sockets) == 1:
        return socket_url(facts.cri_sockets[0])
    return None


def _reset_step(profile: Profile, step_id: str, title: str, hosts: tuple[str, ...]) -> Step:
    def script(ctx: RunContext, host: str) -> RemoteScript:
        return RemoteScript(reset_scripts.kubeadm_reset(_cri_socket(profile, ctx, host)))

    return Step(
        id=step_id,
        title=title,
        hosts=hosts,
        script=script,
        probe=same_script(reset_scripts.reset_probe()),
        describe=(
            "kubeadm reset -f --cri-socket (the profile's, else the one the host has): stops the kubelet, removes "
            f"/etc/kubernetes state and the node's containers; then kwizard's {scripts.KWIZARD_DIR}"
        ),
        timeout=300,
    )
