"""The kwizard-side work a playbook hands back to kwizard: `python -m kwizard.export.helper ...`.

Two steps of the setup plan run partly on the kwizard side (`Step.after`):
the manifest patch (cni-fetch) and the join command's CA check
(join-command). An exported playbook runs them as tasks delegated to
localhost that call this module, so the code is kwizard's own
(kwizard.cni's patchers, kwizard.kube.joincmd's parser and CA pin), not a
second copy in Jinja or shell.

    patch-manifest --plugin ID --pod-cidr CIDR [--options JSON]
        stdin: the upstream manifest, base64; stdout: the patched one, base64
    verify-join --ca-b64 PEM_BASE64
        stdin: `kubeadm token create --print-join-command`'s output;
        stdout: the join command, rebuilt from its parsed parts, once its
        CA hash matches the CA (exit 1 otherwise; the token is never printed
        to stderr)

Base64 on both ends keeps the bytes exact (Ansible strips a final newline
from a command's stdout).
"""

from __future__ import annotations

import argparse
import base64
import binascii
import json
import sys
from collections.abc import Sequence

from kwizard.cni import catalogue as cni
from kwizard.kube.joincmd import JoinCommandError, parse_join_command, verify_join_command


def patch_manifest(plugin_id: str, manifest: str, pod_cidr: str, options: dict) -> str:
    return cni.patch_manifest(plugin_id, manifest, pod_cidr, **options)


def _patch(args: argparse.Namespace) -> int:
    try:
        original = base64.b64decode(sys.stdin.read(), validate=False).decode()
        options = json.loads(args.options)
        patched = patch_manifest(args.plugin, original, args.pod_cidr, options)
    except (binascii.Error, UnicodeDecodeError, json.JSONDecodeError, cni.ManifestError, ValueError) as exc:
        print(f"kwizard: cannot patch the {args.plugin} manifest: {exc}", file=sys.stderr)
        return 1
    sys.stdout.write(base64.b64encode(patched.encode()).decode() + "\n")
    return 0


def _verify(args: argparse.Namespace) -> int:
    try:
        ca_pem = base64.b64decode(args.ca_b64)
        join = parse_join_command(sys.stdin.read())
        verify_join_command(join, ca_pem)
    except (binascii.Error, JoinCommandError) as exc:
        print(f"kwizard: the join command was not verified: {exc}", file=sys.stderr)
        return 1
    sys.stdout.write(join.command() + "\n")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kwizard.export.helper")
    commands = parser.add_subparsers(required=True)
    patch = commands.add_parser("patch-manifest")
    patch.add_argument("--plugin", required=True, choices=sorted(cni.CATALOGUE))
    patch.add_argument("--pod-cidr", required=True)
    patch.add_argument("--options", default="{}")
    patch.set_defaults(handler=_patch)
    verify = commands.add_parser("verify-join")
    verify.add_argument("--ca-b64", required=True)
    verify.set_defaults(handler=_verify)
    args = parser.parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
