"""The headless day-two commands: status, certs, backup, remove-node, upgrade.

Same shape as cli/commands.py: load the profile (exit 2, nothing contacted), open the fleet the
way every command does, call the service, print text or JSON Lines, return an exit code.
Runs (certs --renew, backup, remove-node) go through the service's Plan/runner, so they have a
run directory, events and `--resume`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from kwizard.cli.commands import (
    BadInput,
    _confirm_or_refuse,
    listeners_for,
    load_profile,
    open_fleet,
    run_async,
)
from kwizard.cli.exitcodes import EXIT_INTERRUPTED, EXIT_OK, EXIT_PREFLIGHT, EXIT_STEP_FAILED
from kwizard.files import NotARegularFile, refuse_non_regular

# The seconds the control-plane manifests stay out on renewal (the lab's tests shorten it).
STATIC_POD_WAIT_ENV = "KWIZARD_STATIC_POD_WAIT"


def _say_failed(result, command: str, profile_path: str) -> None:
    hosts = ", ".join(result.failed_hosts) or "kwizard itself"
    print(f"kwizard: step '{result.failed_step}' failed on {hosts}; logs in {result.run_dir}\n"
          f"         fix the cause, then continue with: kwizard {command} --resume {profile_path}", file=sys.stderr)


async def _run(args: argparse.Namespace, profile, make_plan, command: str) -> int:
    from kwizard.service import RunRequest, run_plan  # noqa: PLC0415

    request = RunRequest(profile, Path(args.profile), resume=getattr(args, "resume", False),
                         listeners=listeners_for(args))
    async with open_fleet(profile, args) as fleet:
        result = await run_plan(make_plan(fleet), fleet, request)
    if result.failed_step == "connect":
        _say_failed(result, command, args.profile)
        return EXIT_PREFLIGHT
    if not result.ok:
        _say_failed(result, command, args.profile)
        return EXIT_INTERRUPTED if result.status == "cancelled" else EXIT_STEP_FAILED
    return EXIT_OK


# --- status ---


async def _status(args: argparse.Namespace) -> int:
    from kwizard.service import cluster_status  # noqa: PLC0415

    profile = load_profile(args.profile)
    async with open_fleet(profile, args) as fleet:
        status = await cluster_status(profile, fleet)
    if args.output == "jsonl":
        for record in status.records():
            print(json.dumps(record, separators=(",", ":")))
    else:
        print(f"{profile.name}:")
        print("\n".join(status.lines()))
    return EXIT_OK


# --- certs ---


async def _certs(args: argparse.Namespace) -> int:
    from kwizard.day2.certs import expiry_findings  # noqa: PLC0415
    from kwizard.service import certificate_expiry, renew_certs_plan  # noqa: PLC0415

    profile = load_profile(args.profile)
    if args.renew:
        _confirm_or_refuse(args, f"renew the certificates on {profile.control_plane.name} and restart its control plane")
        wait = os.environ.get(STATIC_POD_WAIT_ENV)
        code = await _run(args, profile, lambda fleet: renew_certs_plan(profile, fleet, int(wait) if wait else None),
                          "certs --renew")
        if code != EXIT_OK:
            return code
    async with open_fleet(profile, args) as fleet:
        certs = await certificate_expiry(profile, fleet)
    findings = expiry_findings(certs, profile.control_plane.name)
    if args.output == "jsonl":
        for cert in certs:
            print(json.dumps({"type": "certificate", **cert.to_json()}, separators=(",", ":")))
        for f in findings:
            print(json.dumps({"type": "finding", "level": f.level.value, "code": f.code, "message": f.message,
                              "fix": f.fix, "host": f.host}, separators=(",", ":")))
        return EXIT_OK
    print(f"{'CERTIFICATE':26} {'EXPIRES':22} {'RESIDUAL':9} AUTHORITY")
    for cert in certs:
        print(f"{cert.name:26} {cert.expires:%Y-%m-%d %H:%M UTC}   {cert.residual:9} {cert.authority or '(CA)'}")
    for f in findings:
        print(f"{f.level.value}: {f.message} — fix: {f.fix}")
    return EXIT_OK


# --- backup ---


async def _backup(args: argparse.Namespace) -> int:
    from kwizard.service import backup_plan  # noqa: PLC0415

    profile = load_profile(args.profile)
    dest = Path(args.output_file).expanduser().absolute()
    try:
        refuse_non_regular(dest)
    except NotARegularFile as exc:
        raise BadInput(f"--output-file: {exc}") from None
    if dest.exists() and not args.force:
        raise BadInput(f"--output-file: {dest} already exists; choose another path or add --force to replace it")
    if not dest.parent.is_dir():
        raise BadInput(f"--output-file: the folder {dest.parent} does not exist")
    code = await _run(args, profile, lambda fleet: backup_plan(profile, fleet, dest), "backup")
    if code == EXIT_OK and args.output == "text":
        print(f"\netcd backup of {profile.name} written to {dest} (mode 0600: it holds the cluster's private keys).")
        print("How to restore it: docs/backup.md")
    return code


# --- remove-node ---


async def _remove_node(args: argparse.Namespace) -> int:
    from kwizard.day2.nodes import CannotRemove, removable  # noqa: PLC0415
    from kwizard.service import remove_node_plan  # noqa: PLC0415

    profile = load_profile(args.profile)
    try:
        removable(profile, args.node)
    except CannotRemove as exc:
        raise BadInput(str(exc)) from None
    _confirm_or_refuse(args, f"drain {args.node}, delete it from the cluster, reset it and remove it from {args.profile}")
    return await _run(args, profile, lambda fleet: remove_node_plan(profile, fleet, args.node, Path(args.profile)),
                      "remove-node")


# --- upgrade ---


async def _upgrade(args: argparse.Namespace) -> int:
    from kwizard.day2.upgrade_checks import UpgradeRefused, parse_target  # noqa: PLC0415
    from kwizard.service import RunRequest, start_upgrade  # noqa: PLC0415

    profile = load_profile(args.profile)
    try:
        parse_target(args.to)
    except UpgradeRefused as exc:
        raise BadInput(str(exc)) from None
    if args.parallel < 1:
        raise BadInput("--parallel: 1 or more workers at a time")
    _confirm_or_refuse(args, f"upgrade {profile.name} to {args.to}: the control plane, then the workers "
                             f"{args.parallel} at a time (each drained, upgraded, uncordoned), and {args.profile}")
    request = RunRequest(profile, Path(args.profile), resume=args.resume, listeners=listeners_for(args))
    async with open_fleet(profile, args) as fleet:
        result = await start_upgrade(request, fleet, args.to, args.parallel)
    if not result.ok:
        _say_failed(result, f"upgrade --to {args.to}", args.profile)
        if result.failed_step == "preflight":
            return EXIT_PREFLIGHT
        return EXIT_INTERRUPTED if result.status == "cancelled" else EXIT_STEP_FAILED
    if args.output == "text":
        print(f"\n{profile.name} upgraded to {args.to}; {args.profile} updated (cluster.kubernetes_version).")
    return EXIT_OK


cmd_status = run_async(_status)
cmd_certs = run_async(_certs)
cmd_backup = run_async(_backup)
cmd_remove_node = run_async(_remove_node)
cmd_upgrade = run_async(_upgrade)


def upgrade_plan_to_show(profile, to: str):
    """`kwizard plan --upgrade-to`: the upgrade's plan, built without connecting (BadInput for a bad version)."""
    from kwizard.day2.upgrade_checks import UpgradeRefused, parse_target  # noqa: PLC0415
    from kwizard.service import upgrade_plan  # noqa: PLC0415

    try:
        parse_target(to)
    except UpgradeRefused as exc:
        raise BadInput(str(exc).replace("--to", "--upgrade-to", 1)) from None
    return upgrade_plan(profile, None, to)  # the fleet is only used when it runs
