"""The headless commands: plan, check, apply, reset, join-command, kubeconfig.

Each loads the profile (exit 2 on any problem, nothing contacted), then calls
kwizard.service, the same calls the TUI makes, and turns its outcome into an exit code.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import signal
import sys
from pathlib import Path

from kwizard.files import NotARegularFile, refuse_non_regular
from kwizard.kube import kubeconfig
from kwizard.kube.join import require_cluster
from kwizard.plan import scripts
from kwizard.checks.findings import format_finding
from kwizard.facts.model import HostError, HostFacts
from kwizard.cli.printers import JsonPrinter, TextPrinter, print_finish
from kwizard.run.timeline import text_timeline
from kwizard.profile.model import HostKeyPolicy, Profile
from kwizard.plan.setup import build_setup_plan
from kwizard.plan.view import format_plan
from kwizard.profile.store import ProfileError, load
from kwizard.plan.reset import ResetOptions, build_reset_plan

from kwizard.cli.exitcodes import EXIT_BAD_INPUT, EXIT_INTERRUPTED, EXIT_OK, EXIT_PREFLIGHT, EXIT_STEP_FAILED


class BadInput(Exception):
    """A problem with what the user gave (exit 2), said in one line."""


def load_profile(path: str) -> Profile:
    try:
        return load(path)
    except ProfileError as exc:
        raise BadInput("\n".join(p.render(path) for p in exc.problems)) from None


def _is_terminal() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()


def read_sudo_password(args: argparse.Namespace, profile: Profile | None = None) -> str | None:
    if not getattr(args, "sudo_password_stdin", False):
        name = profile.ssh.sudo_password_env if profile is not None else None
        if name and not os.environ.get(name):
            raise BadInput(
                f"ssh.sudo_password_env names the variable {name}, which is not set here: "
                f"export {name} before running kwizard, or pipe the password in with --sudo-password-stdin"
            )
        return None
    line = sys.stdin.readline()
    if not line:
        raise BadInput("--sudo-password-stdin: nothing on standard input; pipe the password in")
    return line.rstrip("\n")


async def _ask_on_terminal(host: str, address: str, key_type: str, fingerprint: str) -> bool:
    prompt = (
        f"The host key of {host} ({address}) is not known yet.\n"
        f"  {key_type} key fingerprint is {fingerprint}\n"
        "Compare it with the host's own (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub). Trust it? [y/N] "
    )
    return (await asyncio.to_thread(_ask, prompt)).strip().lower() in {"y", "yes"}


def _ask(prompt: str) -> str:
    """Questions go to stderr, so stdout stays clean for `--output jsonl`."""
    print(prompt, end="", file=sys.stderr, flush=True)
    return sys.stdin.readline()


def host_key_decision(profile: Profile, args: argparse.Namespace):
    """Who answers "trust this new key?": never anyone under strict; a flag or a person under accept-new."""
    from kwizard.ssh import accept_new_keys, refuse_new_keys  # noqa: PLC0415 - asyncssh only when connecting

    if profile.ssh.host_key_policy is not HostKeyPolicy.ACCEPT_NEW:
        return refuse_new_keys
    if getattr(args, "accept_new_host_keys", False):
        return accept_new_keys
    return _ask_on_terminal if _is_terminal() else refuse_new_keys


def open_fleet(profile: Profile, args: argparse.Namespace):
    """The Fleet every command runs over: the service's, as the TUI opens it."""
    from kwizard.service import open_fleet  # noqa: PLC0415

    return open_fleet(profile, decide_host_key=host_key_decision(profile, args), sudo_password=read_sudo_password(args, profile))


def listeners_for(args: argparse.Namespace):
    return [JsonPrinter() if getattr(args, "output", "text") == "jsonl" else TextPrinter()]


# --- plan ---


def cmd_plan(args: argparse.Namespace) -> int:
    try:
        profile = load_profile(args.profile)
    except BadInput as exc:
        print(f"kwizard: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.upgrade_to:
        from kwizard.cli.day2_commands import upgrade_plan_to_show  # noqa: PLC0415

        try:
            plan = upgrade_plan_to_show(profile, args.upgrade_to)
        except BadInput as exc:
            print(f"kwizard: {exc}", file=sys.stderr)
            return EXIT_BAD_INPUT
    elif args.reset:
        plan = build_reset_plan(profile, _reset_options(args))
    else:
        plan = build_setup_plan(profile)
    print(format_plan(plan, profile.name))
    return EXIT_OK


# --- check ---


async def _check(args: argparse.Namespace) -> int:
    from kwizard.service import check  # noqa: PLC0415

    profile = load_profile(args.profile)
    async with open_fleet(profile, args) as fleet:
        result = await check(profile, fleet)
        from kwizard.service import certificate_findings  # noqa: PLC0415 - day two: certificates expiring soon

        result.findings.extend(await certificate_findings(profile, fleet, result.facts))
    if args.output == "jsonl":
        from kwizard.run.events import FindingReported  # noqa: PLC0415

        for finding in result.findings:
            print(FindingReported(finding).to_json())
    else:
        for host, facts in result.facts.items():
            print(f"{host}: {_facts_line(facts)}")
        for finding in result.findings:
            print(format_finding(finding))
        errors = sum(f.is_error for f in result.findings)
        print(f"{errors} error(s), {len(result.findings) - errors} other finding(s)")
    return EXIT_OK if result.ok else EXIT_PREFLIGHT


def _facts_line(facts: HostFacts | HostError) -> str:
    if isinstance(facts, HostFacts):
        return facts.summary()
    return f"{facts.kind}: {facts.message}"  # the fix follows in the finding below


# --- apply / reset ---


def _confirm_or_refuse(args: argparse.Namespace, what: str) -> None:
    if args.yes:
        return
    if not _is_terminal():
        raise BadInput(f"refusing to {what} without --yes: not on a terminal, so nobody can confirm")
    answer = _ask(f"{what[0].upper()}{what[1:]}? Type yes to go on: ")
    if answer.strip().lower() != "yes":
        raise BadInput("not confirmed; nothing was changed")


async def _run_plan_command(args: argparse.Namespace, command: str, what: str, listeners=None) -> tuple[int, Profile, object]:
    """apply and reset: load, confirm, run the plan over one fleet, turn the outcome into an exit code."""
    profile = load_profile(args.profile)
    _confirm_or_refuse(args, what.format(hosts=", ".join(h.name for h in profile.hosts)))
    from kwizard.service import RunRequest, run_reset, run_setup  # noqa: PLC0415 - asyncssh loads only to connect

    request = RunRequest(profile, Path(args.profile), resume=args.resume, listeners=listeners or listeners_for(args),
                         step_timeouts=dict(args.step_timeout), schedule=args.schedule)
    started = RunStartedRecorder()
    request = dataclasses.replace(request, listeners=[*request.listeners, started])
    try:
        async with open_fleet(profile, args) as fleet:
            if command == "apply":
                result = await run_setup(request, fleet)
            else:
                result = await run_reset(request, fleet, _reset_options(args))
    except asyncio.CancelledError:
        # Ctrl-C, SIGTERM or SIGHUP: the runner stopped the remote commands and marked the run cancelled.
        _say_interrupted(started.run_dir, command, args)
        raise
    if result.failed_step == "preflight":
        return EXIT_PREFLIGHT, profile, result
    if not result.ok:
        if result.status == "cancelled":
            _say_interrupted(str(result.run_dir), command, args)
            return EXIT_INTERRUPTED, profile, result
        _say_failed(result, command, args)
        return EXIT_STEP_FAILED, profile, result
    return EXIT_OK, profile, result


class RunStartedRecorder:
    """Remembers the run directory from RunStarted, to name it if the run is interrupted."""

    def __init__(self) -> None:
        self.run_dir: str | None = None

    def __call__(self, event) -> None:
        if event.kind == "RunStarted":
            self.run_dir = event.run_dir


def resume_command(command: str, args: argparse.Namespace) -> str:
    """The command that continues this run, with --yes when the run had it."""
    yes = " --yes" if getattr(args, "yes", False) else ""
    return f"kwizard {command} --resume{yes} {args.profile}"


async def _apply(args: argparse.Namespace) -> int:
    listeners = listeners_for(args)
    code, profile, result = await _run_plan_command(args, "apply", "set up a Kubernetes cluster on {hosts}", listeners)
    if code == EXIT_OK and args.output == "text":
        print_finish(profile, result.outcome, args.profile)
    for printer in (p for p in listeners if isinstance(p, TextPrinter) and p.events):  # the run's timeline, last
        print("\n" + "\n".join(text_timeline(printer.events)))
    return code


async def _reset(args: argparse.Namespace) -> int:
    code, _profile, _result = await _run_plan_command(args, "reset", "tear down Kubernetes on {hosts} (kubeadm reset)")
    return code


def _say_failed(result, command: str, args: argparse.Namespace) -> None:
    where = f" on {', '.join(result.failed_hosts)}" if result.failed_hosts else ""
    print(
        f"kwizard: step '{result.failed_step}' failed{where}; logs in {result.run_dir}\n"
        f"         fix the cause, then continue with: {resume_command(command, args)}",
        file=sys.stderr,
    )


def _say_interrupted(run_dir: str | None, command: str, args: argparse.Namespace) -> None:
    logs = f"; logs in {run_dir}" if run_dir else ""
    print(
        f"kwizard: interrupted: the remote commands were stopped and the run is marked cancelled{logs}\n"
        f"         continue with: {resume_command(command, args)}",
        file=sys.stderr,
    )


def _reset_options(args: argparse.Namespace) -> ResetOptions:
    return ResetOptions(
        flush_iptables=getattr(args, "flush_iptables", False),
        clear_ipvs=getattr(args, "clear_ipvs", False),
        remove_cni_config=getattr(args, "remove_cni_config", False),
    )


# --- join-command / kubeconfig ---


async def _join_command(args: argparse.Namespace) -> int:
    from kwizard.service import new_join_command  # noqa: PLC0415 - asyncssh loads only to connect

    profile = load_profile(args.profile)
    async with open_fleet(profile, args) as fleet:
        join = await new_join_command(profile, fleet)
    print(join.command())
    return EXIT_OK


async def _kubeconfig(args: argparse.Namespace) -> int:
    profile = load_profile(args.profile)
    dest = Path(args.output_file).expanduser() if args.output_file else None
    if dest is not None:
        try:
            refuse_non_regular(dest)  # before connecting: --force never replaces a device or a folder
        except NotARegularFile as exc:
            raise BadInput(f"--output-file: {exc}") from None
    if dest is not None and dest.exists() and not args.force:
        raise BadInput(f"--output-file: {dest} already exists; choose another path or add --force to replace it")
    async with open_fleet(profile, args) as fleet:
        session = await fleet.session(profile.control_plane.name)
        await require_cluster(session, profile.control_plane.name)
        admin_conf = await session.download(scripts.ADMIN_CONF, sudo=True)
    try:
        path = kubeconfig.write_kubeconfig(
            admin_conf, profile.name, dest_dir=dest.parent if dest else None, file_name=dest.name if dest else None
        )
    except (kubeconfig.KubeconfigError, NotARegularFile, OSError) as exc:
        raise BadInput(f"cannot write the kubeconfig: {exc}") from None
    print(f"admin kubeconfig for {profile.name} written to {path} (mode 0600)")
    for line in kubeconfig.kubeconfig_instructions(path):
        print(f"  {line}")
    return EXIT_OK


class Interrupted(Exception):
    """SIGTERM or SIGHUP arrived: handled like Ctrl-C."""


async def _stopped_by_signals(work):
    """Run `work` with SIGTERM and SIGHUP cancelling it the way Ctrl-C does (the run is left resumable)."""
    task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    received: list[int] = []

    def stop(signum: int) -> None:
        received.append(signum)
        task.cancel()

    for signum in (signal.SIGTERM, signal.SIGHUP):
        loop.add_signal_handler(signum, stop, signum)
    try:
        return await work
    except asyncio.CancelledError:
        if received:
            raise Interrupted(signal.Signals(received[0]).name) from None
        raise
    finally:
        for signum in (signal.SIGTERM, signal.SIGHUP):
            loop.remove_signal_handler(signum)


def run_async(coroutine_function):
    """An argparse handler running an async command, mapping failures to exit codes."""

    def handler(args: argparse.Namespace) -> int:
        from kwizard.ssh import SSHError  # noqa: PLC0415
        from kwizard.plan.steps import StepFailed  # noqa: PLC0415

        from kwizard.run.lock import LockHeld  # noqa: PLC0415

        try:
            return asyncio.run(_stopped_by_signals(coroutine_function(args)))
        except BadInput as exc:
            print(f"kwizard: {exc}", file=sys.stderr)
            return EXIT_BAD_INPUT
        except LockHeld as exc:  # another run of this cluster: refused before anything was written or changed
            print(f"kwizard: {exc}", file=sys.stderr)
            return EXIT_PREFLIGHT
        except (SSHError, StepFailed) as exc:
            print(f"kwizard: {exc}", file=sys.stderr)
            return EXIT_STEP_FAILED
        except (asyncio.CancelledError, Interrupted):
            return EXIT_INTERRUPTED

    return handler


cmd_check = run_async(_check)
cmd_apply = run_async(_apply)
cmd_reset = run_async(_reset)
async def _unlock(args: argparse.Namespace) -> int:
    """Show who holds the control plane's lock and clear it, after the user confirms."""
    from kwizard.plan.context import RemoteScript  # noqa: PLC0415
    from kwizard.run.lock import HOLDER_FILE, UNLOCK_SCRIPT, Holder  # noqa: PLC0415

    profile = load_profile(args.profile)
    cp = profile.control_plane.name
    async with open_fleet(profile, args) as fleet:
        session = await fleet.session(cp)
        _, out, _ = await session.capture(RemoteScript(f"cat {HOLDER_FILE} 2>/dev/null || true\n"), timeout=60)
        if not out.strip():
            print(f"the cluster on {cp} is not locked")
            return EXIT_OK
        holder = Holder.from_json(out)
        print(f"the cluster on {cp} is locked by {holder.describe() if holder else 'an unreadable holder'}")
        _confirm_or_refuse(args, "clear this lock (only if that run is certainly not running any more)")
        await session.capture(RemoteScript(UNLOCK_SCRIPT), timeout=60)
    print(f"lock cleared on {cp}")
    return EXIT_OK


cmd_join_command = run_async(_join_command)
cmd_unlock = run_async(_unlock)
cmd_kubeconfig = run_async(_kubeconfig)
