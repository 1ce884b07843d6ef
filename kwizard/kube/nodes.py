"""The cluster's nodes as the done screen and `kwizard apply` show them."""

from __future__ import annotations

import json
from dataclasses import dataclass

from kwizard.plan import scripts
from kwizard.plan.context import HostSession
from kwizard.plan.context import RemoteScript

ROLE_PREFIX = "node-role.kubernetes.io/"


@dataclass(frozen=True)
class NodeStatus:
    name: str
    ready: bool
    roles: tuple[str, ...]
    version: str
    internal_ip: str

    @property
    def status(self) -> str:
        return "Ready" if self.ready else "NotReady"


def parse_nodes(kubectl_json: str) -> list[NodeStatus]:
    """`kubectl get nodes -o json` -> one NodeStatus per node, by name."""
    items = json.loads(kubectl_json).get("items", [])
    return sorted((_node(item) for item in items), key=lambda n: n.name)


def _node(item: dict) -> NodeStatus:
    metadata, status = item.get("metadata", {}), item.get("status", {})
    conditions = {c.get("type"): c.get("status") for c in status.get("conditions", [])}
    labels = metadata.get("labels") or {}
    roles = tuple(sorted(k.removeprefix(ROLE_PREFIX) for k in labels if k.startswith(ROLE_PREFIX)))
    addresses = {a.get("type"): a.get("address") for a in status.get("addresses", [])}
    return NodeStatus(
        name=metadata.get("name", "?"),
        ready=conditions.get("Ready") == "True",
        roles=roles or ("<none>",),
        version=(status.get("nodeInfo") or {}).get("kubeletVersion", ""),
        internal_ip=addresses.get("InternalIP", ""),
    )


async def node_list(session: HostSession) -> list[NodeStatus]:
    """Ask the control plane; an empty list when it cannot say."""
    status, out, _err = await session.capture(RemoteScript(f"{scripts.KUBECTL} get nodes -o json\n"), timeout=60)
    if status != 0:
        return []
    try:
        return parse_nodes(out)
    except (ValueError, AttributeError):
        return []
