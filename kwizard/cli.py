"""The `kwizard` command: the TUI by default, headless subcommands for scripts.

Exit codes (headless): 0 ok, 1 a step failed, 2 bad input, 3 preflight
errors, 130 interrupted. Nothing here imports Textual unless the TUI is asked
for, so `--version` and `validate` start fast.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from kwizard import __version__
from kwizard.profiles import ProfileError, load

EXIT_OK = 0
EXIT_STEP_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_PREFLIGHT = 3
EXIT_INTERRUPTED = 130


def cmd_validate(args: argparse.Namespace) -> int:
    worst = EXIT_OK
    for path in args.profiles:
        try:
            profile = load(path)
        except ProfileError as exc:
            for problem in exc.problems:
                print(problem.render(path), file=sys.stderr)
            worst = EXIT_BAD_INPUT
            continue
        hosts = len(profile.hosts)
        print(f"{path}: ok — {profile.name}, {hosts} host{'s' if hosts != 1 else ''}, {profile.cluster.cni.value}")
    return worst


def cmd_tui(args: argparse.Namespace) -> int:
    try:
        from kwizard.screens.app import run_app  # noqa: PLC0415 - Textual loads only for the TUI
    except ImportError:
        print(
            "kwizard: the interactive wizard is not built yet; use `kwizard validate PROFILE` for now",
            file=sys.stderr,
        )
        return EXIT_STEP_FAILED
    return run_app(profile_path=getattr(args, "profile", None))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kwizard",
        description="Stand up a kubeadm Kubernetes cluster over SSH: a wizard, or headless from a profile.",
    )
    parser.add_argument("--version", action="version", version=f"kwizard {__version__}")
    parser.add_argument("--profile", metavar="FILE", help="open the wizard pre-filled from this profile")
    parser.set_defaults(handler=cmd_tui)
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    tui = commands.add_parser("tui", help="open the wizard (the same as no command)")
    tui.add_argument("--profile", metavar="FILE", help="open the wizard pre-filled from this profile")
    tui.set_defaults(handler=cmd_tui)

    validate = commands.add_parser("validate", help="check profile files without contacting any host")
    validate.add_argument("profiles", nargs="+", metavar="PROFILE")
    validate.set_defaults(handler=cmd_validate)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except KeyboardInterrupt:
        print("kwizard: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
