"""The `kwizard` command: the TUI by default, headless subcommands for scripts.

Exit codes (headless): 0 ok, 1 a step failed, 2 bad input, 3 preflight
errors, 130 interrupted. Nothing here imports Textual unless the TUI is asked
for, so `--version` and `validate` start fast.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence

from kwizard import __version__
from kwizard.cli.exitcodes import EXIT_BAD_INPUT, EXIT_BROKEN_PIPE, EXIT_INTERRUPTED, EXIT_OK, EXIT_STEP_FAILED

# The commands' modules (pydantic, asyncssh, Textual) load only when their
# command runs, so `kwizard --version` and `--help` answer at once.


def _command(name: str) -> Callable[[argparse.Namespace], int]:
    def handler(args: argparse.Namespace) -> int:
        from kwizard.cli import commands as cli_commands  # noqa: PLC0415

        return getattr(cli_commands, name)(args)

    handler.__name__ = name
    return handler


cmd_apply = _command("cmd_apply")
cmd_check = _command("cmd_check")
cmd_join_command = _command("cmd_join_command")
cmd_kubeconfig = _command("cmd_kubeconfig")
cmd_unlock = _command("cmd_unlock")
cmd_plan = _command("cmd_plan")
cmd_reset = _command("cmd_reset")


def _day2(name: str) -> Callable[[argparse.Namespace], int]:
    def handler(args: argparse.Namespace) -> int:
        from kwizard.cli import day2_commands  # noqa: PLC0415

        return getattr(day2_commands, name)(args)

    handler.__name__ = name
    return handler


cmd_status = _day2("cmd_status")
cmd_certs = _day2("cmd_certs")
cmd_backup = _day2("cmd_backup")
cmd_remove_node = _day2("cmd_remove_node")
cmd_upgrade = _day2("cmd_upgrade")


def cmd_export(args: argparse.Namespace) -> int:
    from kwizard.cli.export_command import cmd_export as run  # noqa: PLC0415

    return run(args)


def cmd_validate(args: argparse.Namespace) -> int:
    from kwizard.checks.offline import field_of, profile_findings  # noqa: PLC0415
    from kwizard.profile.store import ProfileError, load  # noqa: PLC0415

    worst = EXIT_OK
    for path in args.profiles:
        try:
            profile = load(path)
        except ProfileError as exc:
            for problem in exc.problems:
                print(problem.render(path), file=sys.stderr)
            worst = EXIT_BAD_INPUT
            continue
        findings = profile_findings(profile)  # what can be known without contacting a host
        for finding in findings:
            fix = f" — fix: {finding.fix}" if finding.fix else ""
            print(f"{path}: {finding.level.value}: {field_of(finding)}: {finding.message}{fix}", file=sys.stderr)
        if findings:
            print(f"{path}: (checked without the hosts; `kwizard check` also checks their networks)", file=sys.stderr)
        if any(f.is_error for f in findings):
            worst = EXIT_BAD_INPUT
            continue
        hosts = len(profile.hosts)
        print(f"{path}: ok — {profile.name}, {hosts} host{'s' if hosts != 1 else ''}, {profile.cluster.cni.value}")
    return worst


def cmd_tui(args: argparse.Namespace) -> int:
    profile_path = getattr(args, "profile", None)
    if profile_path is not None:
        # A profile named on the command line must load before the wizard opens:
        # a script that typed a wrong path gets exit 2, not a terminal UI.
        from kwizard.profile.store import ProfileError, load  # noqa: PLC0415

        try:
            load(profile_path)
        except ProfileError as exc:
            for problem in exc.problems:
                print(f"kwizard: {problem.render(profile_path)}", file=sys.stderr)
            return EXIT_BAD_INPUT
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

    plan = commands.add_parser("plan", help="print the steps and the exact commands per host; nothing runs")
    plan.add_argument("profile", metavar="PROFILE")
    plan.add_argument("--reset", action="store_true", help="show the reset plan instead of the setup plan")
    plan.add_argument("--upgrade-to", metavar="VERSION",
                      help="show the plan of `kwizard upgrade --to VERSION` instead (1.34 or 1.34.1)")
    _add_reset_flags(plan)
    plan.set_defaults(handler=cmd_plan)

    check = commands.add_parser("check", help="connect, gather facts, run preflight (exit 3 on errors)")
    check.add_argument("profile", metavar="PROFILE")
    _add_connection_flags(check)
    _add_output_flag(check)
    check.set_defaults(handler=cmd_check)

    apply = commands.add_parser("apply", help="set up the cluster the profile describes")
    apply.add_argument("profile", metavar="PROFILE")
    apply.add_argument("--yes", action="store_true", help="do not ask for confirmation (needed without a terminal)")
    apply.add_argument("--resume", action="store_true", help="continue the last unfinished run of this profile")
    _add_run_flags(apply)
    _add_connection_flags(apply)
    _add_output_flag(apply)
    apply.set_defaults(handler=cmd_apply)

    reset = commands.add_parser("reset", help="tear the cluster down (kubeadm reset on every host)")
    reset.add_argument("profile", metavar="PROFILE")
    reset.add_argument("--yes", action="store_true", help="do not ask for confirmation (needed without a terminal)")
    reset.add_argument("--resume", action="store_true", help="continue the last unfinished reset of this profile")
    _add_run_flags(reset)
    _add_reset_flags(reset)
    _add_connection_flags(reset)
    _add_output_flag(reset)
    reset.set_defaults(handler=cmd_reset)

    unlock = commands.add_parser("unlock", help="clear the cluster lock a crashed run left on the control plane")
    unlock.add_argument("profile", metavar="PROFILE")
    unlock.add_argument("--yes", action="store_true", help="do not ask for confirmation (needed without a terminal)")
    _add_connection_flags(unlock)
    unlock.set_defaults(handler=cmd_unlock)

    join = commands.add_parser("join-command", help="print a fresh worker join command (CA hash verified)")
    join.add_argument("profile", metavar="PROFILE")
    _add_connection_flags(join)
    join.set_defaults(handler=cmd_join_command)

    kubeconfig = commands.add_parser("kubeconfig", help="fetch the admin kubeconfig to a local 0600 file")
    kubeconfig.add_argument("profile", metavar="PROFILE")
    kubeconfig.add_argument("-o", "--output-file", metavar="FILE", help="where to write it (default: kwizard's config dir)")
    kubeconfig.add_argument("--force", action="store_true", help="replace FILE if it exists")
    _add_connection_flags(kubeconfig)
    kubeconfig.set_defaults(handler=cmd_kubeconfig)
    _add_export(commands)
    _add_day2(commands)
    return parser


def _add_day2(commands) -> None:
    status = commands.add_parser("status", help="the cluster at a glance: nodes, versions, readiness, plugin, certificates")
    status.add_argument("profile", metavar="PROFILE")
    _add_connection_flags(status)
    _add_output_flag(status)
    status.set_defaults(handler=cmd_status)

    certs = commands.add_parser("certs", help="show the certificates' expiry; --renew renews them all")
    certs.add_argument("profile", metavar="PROFILE")
    certs.add_argument("--renew", action="store_true", help="kubeadm certs renew all, then restart the control plane")
    certs.add_argument("--yes", action="store_true", help="with --renew: do not ask for confirmation")
    certs.add_argument("--resume", action="store_true", help="with --renew: continue the last unfinished renewal")
    _add_connection_flags(certs)
    _add_output_flag(certs)
    certs.set_defaults(handler=cmd_certs)

    backup = commands.add_parser("backup", help="an etcd snapshot and the PKI, in a local 0600 tar.gz")
    backup.add_argument("profile", metavar="PROFILE")
    backup.add_argument("-o", "--output-file", metavar="FILE", required=True, help="where to write the archive")
    backup.add_argument("--force", action="store_true", help="replace FILE if it exists")
    backup.add_argument("--resume", action="store_true", help="continue the last unfinished backup")
    _add_connection_flags(backup)
    _add_output_flag(backup)
    backup.set_defaults(handler=cmd_backup)

    remove = commands.add_parser("remove-node", help="drain a worker, delete it, reset it, remove it from the profile")
    remove.add_argument("profile", metavar="PROFILE")
    remove.add_argument("node", metavar="NAME")
    remove.add_argument("--yes", action="store_true", help="do not ask for confirmation (needed without a terminal)")
    remove.add_argument("--resume", action="store_true", help="continue the last unfinished removal")
    _add_connection_flags(remove)
    _add_output_flag(remove)
    remove.set_defaults(handler=cmd_remove_node)

    upgrade = commands.add_parser("upgrade", help="upgrade the cluster one minor release: control plane, then each worker")
    upgrade.add_argument("profile", metavar="PROFILE")
    upgrade.add_argument("--to", metavar="VERSION", required=True, help="1.34 (its newest patch) or 1.34.1")
    upgrade.add_argument("--yes", action="store_true", help="do not ask for confirmation (needed without a terminal)")
    upgrade.add_argument("--resume", action="store_true", help="continue the last unfinished upgrade")
    upgrade.add_argument("--parallel", metavar="N", type=int, default=1, help="upgrade N workers at a time (default 1)")
    _add_connection_flags(upgrade)
    _add_output_flag(upgrade)
    upgrade.set_defaults(handler=cmd_upgrade)


def _add_export(commands) -> None:
    export = commands.add_parser("export", help="write the setup plan as an Ansible playbook, shell runbooks or kubeadm files")
    export.add_argument("format", choices=("ansible", "script", "kubeadm"), help="what to write")
    export.add_argument("profile", metavar="PROFILE")
    export.add_argument("-o", "--output-dir", metavar="DIR", required=True, help="where to write (an empty or new folder)")
    export.add_argument("--force", action="store_true", help="write into DIR even if it is not empty")
    export.add_argument(
        "--offline", action="store_true", help="do not connect; needs cluster.advertise_address and cluster.cri_socket set"
    )
    _add_connection_flags(export)
    export.set_defaults(handler=cmd_export)


def _step_timeout(text: str) -> tuple[str, int]:
    step, sep, seconds = text.partition("=")
    from kwizard.profile.model import MAX_STEP_TIMEOUT, STEP_IDS  # noqa: PLC0415 - pydantic loads only when used

    if not sep or not step or not seconds.isdigit() or not 10 <= int(seconds) <= MAX_STEP_TIMEOUT:
        raise argparse.ArgumentTypeError(f"{text!r}: write STEP=SECONDS, e.g. images=3600 (10 to 86400 seconds)")
    if step not in STEP_IDS:
        raise argparse.ArgumentTypeError(f"no step {step!r}; the steps are {', '.join(STEP_IDS)}")
    return step, int(seconds)


def _add_run_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--step-timeout", action="append", type=_step_timeout, default=[], metavar="STEP=SECONDS",
        help="how long each host may take for that step (repeatable; over cluster.step_timeouts)",
    )
    parser.add_argument(
        "--schedule", choices=("graph", "lockstep"), default="graph",
        help="graph: each host goes on as soon as what it needs is done (default); lockstep: v1's order",
    )


def _add_connection_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--accept-new-host-keys",
        action="store_true",
        help="with host_key_policy accept-new: trust keys never seen before (changed keys are always refused)",
    )
    parser.add_argument(
        "--sudo-password-stdin", action="store_true", help="read the sudo password from the first line of stdin"
    )


def _add_output_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--output", choices=("text", "jsonl"), default="text", help="text for people, jsonl (one event per line) for scripts"
    )


def _add_reset_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--flush-iptables", action="store_true", help="also flush iptables rules after kubeadm reset")
    parser.add_argument("--clear-ipvs", action="store_true", help="also clear IPVS tables (ipvsadm --clear)")
    parser.add_argument("--remove-cni-config", action="store_true", help="also remove /etc/cni/net.d")


RESET_FLAGS = ("flush_iptables", "clear_ipvs", "remove_cni_config")


def _refuse_flags_that_would_do_nothing(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if args.handler is cmd_plan and args.reset and args.upgrade_to:
        parser.error("--reset and --upgrade-to show different plans: give one of them")
    if args.handler is cmd_plan and not args.reset:
        given = [f"--{name.replace('_', '-')}" for name in RESET_FLAGS if getattr(args, name, False)]
        if given:
            parser.error(f"{', '.join(given)} only change the reset plan: add --reset, or leave {'them' if len(given) > 1 else 'it'} out")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _refuse_flags_that_would_do_nothing(parser, args)
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except KeyboardInterrupt:
        print("kwizard: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # `kwizard plan … | head`: the reader has what it wanted. Point stdout at /dev/null so
        # the interpreter's own flush at exit does not fail again, and exit as `head`'s writers do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE


if __name__ == "__main__":
    sys.exit(main())
