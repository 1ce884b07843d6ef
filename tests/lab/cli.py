"""`python -m tests.lab up|down|status`: a lab a person can point kwizard (and ssh) at."""

from __future__ import annotations

import argparse
import sys

from . import naming, netns
from .lab import Lab, destroy, known_labs, reap_stale, start_lab
from .requirements import lab_unavailable_reason
from .scenario import NAMED, named


def _print_lab(lab: Lab, profile_path) -> None:
    print(f"lab {lab.name} up in {lab.started_seconds:.2f}s (scenario {lab.scenario.name}, subnet {lab.subnet})")
    if profile_path:
        print(f"profile:     {profile_path}")
    print(f"client key:  {lab.client_key}\nknown_hosts: {lab.known_hosts}")
    for host in lab.hosts:
        print(f"  {host.name:<12} {host.address:<15} {lab.ssh_command(host)}")
    if profile_path:
        print(f"\nkwizard check {profile_path}   # or: kwizard apply {profile_path}")
    print(f"take it down: python -m tests.lab down {lab.id}")


def cmd_up(args) -> int:
    reap_stale()
    lab = start_lab(args.hosts, named(args.scenario), persistent=True)
    try:
        profile_path = lab.write_profile(cni=args.cni)
    except ImportError:  # kwizard not installed: the lab is still usable with plain ssh
        profile_path = None
    _print_lab(lab, profile_path)
    return 0


def cmd_down(args) -> int:
    targets = args.ids or [lab["id"] for lab in known_labs() if lab.get("persistent") or args.all]
    for lab_id in targets:
        destroy(lab_id.removeprefix(naming.PREFIX))
        print(f"removed {naming.lab_name(lab_id.removeprefix(naming.PREFIX))}")
    for lab_id in reap_stale():
        print(f"reaped {naming.lab_name(lab_id)} (left by a run that died)")
    return 0


def cmd_status(args) -> int:
    labs = known_labs()
    if not labs:
        print("no labs running")
    for lab in labs:
        kind = "up (python -m tests.lab up)" if lab.get("persistent") else f"owned by pid {lab.get('owner_pid')}"
        print(f"{naming.lab_name(lab['id'])}  subnet {lab.get('subnet')}  scenario {lab.get('scenario', '?')}  {kind}")
        for host in lab.get("hosts", []):
            print(f"  {host['name']:<12} {host['address']:<15} netns {host['netns']}")
    stray = [n for n in netns.lab_netns_names() if not any(n.startswith(naming.lab_name(lab["id"])) for lab in labs)]
    if stray:
        print("namespaces without a lab folder (python -m tests.lab down reaps them): " + " ".join(stray))
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.lab", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="start a lab and print its profile and SSH details")
    up.add_argument("--hosts", type=int, default=3)
    up.add_argument("--scenario", default="default", choices=sorted(NAMED))
    up.add_argument("--cni", default="flannel", choices=["flannel", "calico", "weave"])
    down = sub.add_parser("down", help="remove labs started with `up` (or the named ones)")
    down.add_argument("ids", nargs="*", help="lab ids (kwl1a2b or 1a2b); default: every lab started with `up`")
    down.add_argument("--all", action="store_true", help="also labs owned by running test sessions")
    sub.add_parser("status", help="list running labs")
    args = parser.parse_args(argv)
    reason = lab_unavailable_reason()
    if reason and args.command != "status":
        print(f"cannot run a lab here: {reason}", file=sys.stderr)
        return 2
    return {"up": cmd_up, "down": cmd_down, "status": cmd_status}[args.command](args)
