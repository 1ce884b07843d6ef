"""What the day-two confirmations say: what will happen to which node, before anything does."""

from __future__ import annotations

from pathlib import Path

from rich.markup import escape

from kwizard.profile.model import Profile
from kwizard.screens.steps.welcome import short_path


def upgrade_question(profile: Profile, profile_path: Path, server: str, to: str) -> str:
    """The steps of `kwizard upgrade` (docs/cli.md), in the order they happen, with this cluster's names."""
    cp = profile.control_plane.name
    workers = [h.name for h in profile.hosts if h.name != cp]
    each = f"each worker ({', '.join(workers)}), one at a time" if workers else "(no workers)"
    return escape(
        f"Upgrade {profile.name} from {server} to {to}?\n\n"
        f"1. Nothing changes until every host answers and the version rules pass.\n"
        f"2. The control plane {cp}: kubeadm {to}, kubeadm upgrade apply, then drained, kubelet and "
        f"kubectl upgraded, restarted, uncordoned.\n"
        f"3. Then {each}: drained (its pods move to the other nodes), upgraded, uncordoned once it "
        f"reports {to}.\n"
        f"4. {short_path(profile_path)}: kubernetes_version becomes {to}.\n\n"
        "A failure stops the run there; retry or resume it, finished nodes are not redone."
    )


def remove_question(node: str, profile_path: Path) -> str:
    return escape(
        f"Remove {node} from the cluster?\n\n"
        f"kwizard drains {node} (its pods move to the other nodes), deletes it from the cluster, runs "
        f"kubeadm reset -f on it, then removes its entry from {short_path(profile_path)} (comments kept)."
    )
