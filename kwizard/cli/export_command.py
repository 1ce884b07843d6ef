"""`kwizard export FORMAT PROFILE -o DIR`: the setup plan as an Ansible playbook, shell runbooks or kubeadm files.

The scripts come from the plan (kwizard.export.walk). What only the hosts can
tell (the advertise address, the CRI socket, kubeadm's version) comes from
their facts: export connects and checks like `kwizard check` (through
kwizard.service), unless `--offline`, which needs the profile to set
cluster.advertise_address and cluster.cri_socket. Exit codes: 0 written,
1 hosts unreachable, 2 bad input (the field named), 3 preflight errors.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from kwizard.checks.findings import format_finding
from kwizard.cli.commands import BadInput, load_profile, open_fleet, run_async
from kwizard.cli.exitcodes import EXIT_OK, EXIT_PREFLIGHT, EXIT_STEP_FAILED
from kwizard.export import walk
from kwizard.export.output import OutputRefused, check_output_dir, write_files
from kwizard.facts.model import HostFacts
from kwizard.profile.model import Profile

FORMATS = ("ansible", "script", "kubeadm")


class HostsUnreachable(Exception):
    """Facts could not be gathered from every host (exit 1)."""


def render(fmt: str, profile: Profile, steps: list[walk.ExportStep], profile_path: str) -> dict[str, str]:
    if fmt == "ansible":
        from kwizard.export import ansible  # noqa: PLC0415

        return ansible.render(profile, steps)
    if fmt == "script":
        from kwizard.export import runbook  # noqa: PLC0415

        return runbook.render(profile, steps, profile_path)
    from kwizard.export import kubeadm  # noqa: PLC0415

    return kubeadm.render(profile, steps)


async def gather(profile: Profile, args: argparse.Namespace) -> dict[str, HostFacts]:
    """Every host's facts (service.check, as `kwizard check`); stop on unreachable hosts and preflight errors."""
    from kwizard.service import check  # noqa: PLC0415 - asyncssh loads only to connect

    async with open_fleet(profile, args) as fleet:
        result = await check(profile, fleet)
    failed = {host: found for host, found in result.facts.items() if not isinstance(found, HostFacts)}
    if failed:
        reasons = "; ".join(f"{host}: {error}" for host, error in failed.items())
        raise HostsUnreachable(
            f"cannot gather facts from {', '.join(failed)} ({reasons}). Export renders the scripts with the "
            "hosts' facts (advertise address, CRI socket, kubeadm version): make the hosts reachable, or set "
            "cluster.advertise_address and cluster.cri_socket in the profile and export with --offline"
        )
    errors = [f for f in result.findings if f.is_error]
    if errors:
        for finding in errors:
            print(format_finding(finding), file=sys.stderr)
        raise _PreflightErrors(f"preflight found {len(errors)} error(s) (above); nothing was written. Fix them, or see `kwizard check {args.profile}`")
    return {host: found for host, found in result.facts.items() if isinstance(found, HostFacts)}


class _PreflightErrors(Exception):
    pass


async def _export(args: argparse.Namespace) -> int:
    profile = load_profile(args.profile)
    folder = Path(args.output_dir).expanduser()
    try:
        check_output_dir(folder, args.force)
    except OutputRefused as exc:
        raise BadInput(str(exc)) from None
    if args.offline:
        undecided = walk.needs_facts(profile)
        if undecided:
            raise BadInput(
                f"--offline: {' and '.join(undecided)} {'are' if len(undecided) > 1 else 'is'} 'auto', which only the "
                f"hosts' facts decide; set {'them' if len(undecided) > 1 else 'it'} in {args.profile}, or export without --offline"
            )
        facts: dict[str, HostFacts] = {}
    else:
        try:
            facts = await gather(profile, args)
        except HostsUnreachable as exc:
            print(f"kwizard: {exc}", file=sys.stderr)
            return EXIT_STEP_FAILED
        except _PreflightErrors as exc:
            print(f"kwizard: {exc}", file=sys.stderr)
            return EXIT_PREFLIGHT
    try:
        steps = walk.walk(profile, facts)
        files = render(args.format, profile, steps, args.profile)
    except walk.ExportRefused as exc:
        raise BadInput(str(exc)) from None
    try:
        written = write_files(folder, files)
    except OSError as exc:
        raise BadInput(f"--output-dir: cannot write into {folder}: {exc}") from None
    print(f"kwizard: {args.format} export of {profile.name} written to {folder}:")
    for path in written:
        print(f"  {path}")
    return EXIT_OK


cmd_export = run_async(_export)
