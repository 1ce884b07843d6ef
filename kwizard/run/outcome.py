"""What a run leaves for the faces: the join command, the local kubeconfig, the nodes.

The steps fill it in as they go (the run context's `outcome`); the runner's
`RunResult` carries it. It lives in memory only: the join command holds a
token, so nothing here is written to the run directory or kept for a resume.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kwizard.kube.joincmd import JoinCommand
    from kwizard.kube.nodes import NodeStatus


@dataclass
class RunOutcome:
    join_command: JoinCommand | None = field(default=None, repr=False)  # for more workers; holds the token
    kubeconfig_path: Path | None = None  # the admin kubeconfig kwizard saved here (0600)
    nodes: tuple[NodeStatus, ...] = ()  # as the control plane last listed them
