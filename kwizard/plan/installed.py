"""What the packages step installed, read back per host so the init config and the plan use it.
"""

from __future__ import annotations

import asyncio
import dataclasses

from kwizard.plan import package_scripts
from kwizard.facts.model import read_tool_version
from kwizard.facts.script import split_sections
from kwizard.kube.cri import socket_url
from kwizard.plan.steps import LocalWork
from kwizard.plan.context import RemoteScript, RunContext
from kwizard.plan.decide import facts_of


def refresh_installed_versions(hosts: tuple[str, ...]) -> LocalWork:
    """After the packages step: the facts' kubeadm/kubelet/kubectl versions and CRI sockets as installed.

    The facts were gathered before the packages existed; the init config's kubernetesVersion
    and config API come from the installed kubeadm (kubernetes_version_for), so read it again.
    """

    async def refresh_one(ctx: RunContext, host: str) -> None:
        facts = facts_of(ctx, host)
        if facts is None:
            return
        session = await ctx.session(host)
        _, out, _ = await session.capture(RemoteScript(package_scripts.installed_versions()), timeout=60)
        sections = split_sections(out)
        updated = dataclasses.replace(
            facts,
            kubeadm_version=read_tool_version(sections.get("kubeadm", "")) or facts.kubeadm_version,
            kubelet_version=read_tool_version(sections.get("kubelet", "")) or facts.kubelet_version,
            kubectl_version=read_tool_version(sections.get("kubectl", "")) or facts.kubectl_version,
            cri_sockets=tuple(socket_url(s) for s in sections.get("cri_sockets", "").split()) or facts.cri_sockets,
        )
        ctx.facts[host] = updated
        if updated.kubeadm_version != facts.kubeadm_version:
            ctx.note(host, f"installed kubeadm {updated.kubeadm_version}, kubelet {updated.kubelet_version}")

    async def refresh(ctx: RunContext) -> None:
        await asyncio.gather(*(refresh_one(ctx, host) for host in hosts))

    return refresh
