"""The command palette's kwizard commands: every action the current screen offers by a key.

Whatever a screen binds (Open profile, Test connections, Run, Reset cluster, New token…)
is also a palette command, named as its footer names it, with the key beside it, so
the palette and the keys never disagree.
"""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

SKIP = {"command_palette", "quit", "help", "toggle_dark"}  # Textual's own commands name these already


def long_name(binding) -> str:
    """The action's whole name: a footer label kept short for 80 columns ("Test") has it at the
    head of its tooltip ("Test connections: connect to every host…")."""
    head, sep, _ = (binding.tooltip or "").partition(": ")
    return head if sep and head.lower().startswith(binding.description.lower()) else binding.description


class KwizardCommands(Provider):
    def _commands(self) -> list[tuple[str, str, object]]:
        screen = self.screen
        found, seen = [], set()
        for key, active in screen.active_bindings.items():
            binding = active.binding
            name = binding.action.split("(")[0]
            if not active.enabled or binding.action in seen or name in SKIP or not binding.description:
                continue
            seen.add(binding.action)
            keys = screen.app.get_key_display(binding)
            found.append((f"{long_name(binding)} ({keys})", binding.tooltip or binding.description,
                          partial(active.node.call_later, active.node.run_action, binding.action)))
        return found

    async def discover(self) -> Hits:
        for title, help_text, run in self._commands():
            yield DiscoveryHit(title, run, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, run in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), run, help=help_text)
