"""Review: the plan (steps, and per host the commands), the preflight findings, and "Save profile".

"Run" arrives with the run screen (next issue); until then it is absent, not a dead button.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from rich.markup import escape
from textual import on, work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Button, Static, TabbedContent, TabPane, Tree

from kwizard.checks.findings import Finding
from kwizard.checks.host import preflight
from kwizard.profile.model import Profile
from kwizard.profile.store import save
from kwizard.service import plan_view
from kwizard.screens.dialogs.confirm import ConfirmModal
from kwizard.screens.dialogs.save_profile import SaveProfileModal
from kwizard.screens.draft import profile_problems, updated, validated
from kwizard.screens.steps.pod_network import render_findings
from kwizard.screens.wizard import RESET, RUN, StepResult, StepScreen, button_row

if TYPE_CHECKING:
    from kwizard.screens.state import WizardState
    from kwizard.screens.steps.welcome import ProfileFolder


def plan_tree(tree: Tree[str], views: list[Any]) -> None:
    """Steps as branches; under each, the hosts, the files written and the commands (collapsed).

    Each node's data is its whole text: the line under the tree shows it wrapped,
    so a line cut at the tree's width can still be read in full.
    """
    for view in views:
        title = f"{view.number}. {view.title}"
        step = tree.root.add(f"{view.number:2}. [b]{escape(view.title)}[/]  [dim]{escape(view.describe)}[/]",
                             data=f"{title}: {view.describe}" if view.describe else title, expand=False)
        if view.has_probe:
            step.add_leaf("[dim]skipped on hosts where it is already done[/]", data="skipped on hosts where it is already done")
        for group in view.groups:
            where = f"on {', '.join(group.hosts)}"
            hosts = step.add(escape(where), data=where, expand=False)
            if group.script is None:
                hosts.add_leaf("[dim](kwizard-side work only)[/]", data="kwizard-side work only")
                continue
            for upload in group.script.uploads:
                label = f"write {upload.path} (mode {upload.mode:04o})"
                written = hosts.add(f"[dim]{escape(label)}[/]", data=label, expand=False)
                for line in upload.content.decode(errors="replace").splitlines():
                    written.add_leaf(f"[dim]│[/] {escape(line)}", data=line)
            who = "as root (sudo)" if group.script.sudo else "as the SSH user"
            hosts.add_leaf(f"[dim]# {who}[/]", data=who)
            for line in group.script.script.rstrip("\n").splitlines():
                hosts.add_leaf(escape(line), data=line)


class PlanTree(Tree[str]):
    """The plan's tree, with → to open a node (or step into it) and ← to close it (or go up)."""

    BINDINGS = [
        Binding("right", "open_node", "Open", show=False),
        Binding("left", "close_node", "Close", show=False),
    ]

    def action_open_node(self) -> None:
        node = self.cursor_node
        if node is None or not node.allow_expand:
            return
        if node.is_expanded:
            self.action_cursor_down()
        else:
            node.expand()

    def action_close_node(self) -> None:
        node = self.cursor_node
        if node is None:
            return
        if node.is_expanded:
            node.collapse()
        elif node.parent is not None and node.parent is not self.root:
            self.move_cursor(node.parent)


class ReviewScreen(StepScreen):
    STEP = "review"
    PLAN_TITLE = "Setup plan"
    BINDINGS = [
        Binding("ctrl+s", "save", "Save profile", tooltip="Save the answers as a profile (a YAML file, mode 0600)"),
        Binding("ctrl+r", "run", "Run", tooltip="Run this plan on the hosts, watching every step live"),
    ]
    RUN_LABEL = "Run"
    RUN_GO = RUN
    RESET_PLAN = False  # the reset plan instead of the setup plan

    def __init__(self, state: WizardState, folders: list[ProfileFolder]) -> None:
        super().__init__(state)
        self.folders = folders  # where "Save profile" offers to save

    def compose_body(self) -> ComposeResult:
        with Vertical(id="review-body"):
            yield Static("", id="review-summary")
            with TabbedContent(id="review-tabs"):
                with TabPane(self.PLAN_TITLE, id="plan-tab"):
                    yield PlanTree("plan", id="plan")
                    yield Static("", id="plan-detail")  # the highlighted line, whole
                with TabPane("Preflight", id="preflight-tab"):
                    yield Static("", id="preflight")
        yield button_row(
            Button("Save profile", id="save", tooltip="ctrl+s: save the answers"),
            Button(self.RUN_LABEL, id="run", variant="success" if self.RUN_GO == RUN else "error",
                   tooltip="ctrl+r: run it on the hosts"),
        )

    def on_mount(self) -> None:
        super().on_mount()
        problems = profile_problems(self.draft)
        summary = self.query_one("#review-summary", Static)
        tree = self.query_one("#plan", Tree)
        tree.show_root = False
        if problems:
            summary.update("[red]The answers are not complete yet:[/]\n" + "\n".join(problems))
            self.query_one("#preflight", Static).update("")
            return
        self._show(validated(self.draft))
        tree.focus()

    def _show(self, profile: Profile) -> None:
        """The summary, the plan and the preflight of `profile` (again after "Save as" renamed it)."""
        self.query_one("#review-summary", Static).update(self._summary(profile))
        tree = self.query_one("#plan", Tree)
        tree.clear()
        plan_tree(tree, plan_view(profile, reset=self.RESET_PLAN, facts=self.state.facts))
        tree.root.expand()
        self.query_one("#preflight", Static).update(self._preflight(profile))

    def _summary(self, profile: Profile) -> str:
        cluster = profile.cluster
        cp = profile.control_plane.name
        return (
            f"[b]{profile.name}[/]: {len(profile.hosts)} host(s), control plane {cp}, {cluster.cni.value}, "
            f"pods {cluster.pod_cidr}, services {cluster.service_cidr}, Kubernetes {cluster.kubernetes_version}.\n"
            "Expand a step (enter or →) to see each host's files and commands; the highlighted line shows whole below."
        )

    @on(Tree.NodeHighlighted, "#plan")
    def _detail(self, event: Tree.NodeHighlighted) -> None:
        self.query_one("#plan-detail", Static).update(escape(event.node.data or ""))

    def _preflight(self, profile: Profile) -> str:
        if not self.state.facts:
            return "No facts gathered yet: test connections on the Hosts step to see the preflight findings."
        findings: list[Finding] = preflight(profile, self.state.facts)
        return render_findings(findings) or "[green]✓[/] preflight found nothing to fix."

    # --- saving ---

    @on(Button.Pressed, "#save")
    @work(exclusive=True, group="save")
    async def action_save(self) -> None:
        try:
            profile = validated(self.draft)
        except ValidationError:
            self.notify("\n".join(profile_problems(self.draft)), title="Cannot save yet", severity="error")
            return
        current = self.state.draft_path
        folder = current.parent if current else None
        target = await self.app.push_screen_wait(SaveProfileModal(profile.name, self.folders, folder))
        if target is None:
            return
        if target.path.exists():
            question = f"{target.path} exists. Replace it with these answers?"
            if not await self.app.push_screen_wait(ConfirmModal(question, yes="Replace")):
                return
        profile = profile.model_copy(update={"name": target.name})
        try:
            save(profile, target.path)
        except OSError as exc:
            self.notify(str(exc), title="Saving failed", severity="error")
            return
        self.draft = profile  # handed back to the App on leaving, like every step's answers
        self.state.draft_path = target.path
        self.state.saved = profile
        self._show(profile)  # the new name everywhere on this screen, not only in the file
        self.notify(f"Saved to {target.path}", title="Profile saved")

    def collect(self) -> Profile:
        return updated(self.draft)

    @on(Button.Pressed, "#run")
    def action_run(self) -> None:
        problems = profile_problems(self.draft)
        if problems:
            self.notify("\n".join(problems), title="Not ready to run", severity="warning")
            return
        self.dismiss(StepResult(self.RUN_GO, self.collect()))

    def palette_commands(self) -> Iterable[SystemCommand]:
        yield SystemCommand("Save profile", "Save the answers as a profile", self.action_save)


class ResetReviewScreen(ReviewScreen):
    """The reset plan for a saved profile: what tearing the cluster down would run."""

    PLAN_TITLE = "Reset plan"
    RUN_LABEL = "Reset cluster"
    RUN_GO = RESET
    RESET_PLAN = True
    BINDINGS = [Binding("ctrl+r", "run", "Reset cluster", tooltip="Tear the cluster down (asks first)")]
