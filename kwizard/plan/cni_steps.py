"""The network plugin's part of the plan: fetch, make it match the pod CIDR, apply.

The manifests are fetched on the control plane (it has the internet access a
cluster needs anyway) or uploaded from a local file the profile names; kwizard
edits the one that carries the pod CIDR in Python (kwizard.cni) and puts the
result back next to the originals, so what is applied can be read on the host.
"""

from __future__ import annotations

import os
from pathlib import Path

from kwizard.cni import catalogue as cni
from kwizard.plan import scripts
from kwizard.plan import cluster_scripts
from kwizard.profile.model import Profile
from kwizard.plan.steps import LocalWork, StepFailed
from kwizard.plan.context import RemoteScript
from kwizard.plan.context import RunContext

WEAVE_SECRET_FILE = "weave-passwd"


def _plugin(profile: Profile) -> cni.CNIPlugin:
    return cni.get_plugin(profile.cluster.cni.value)


def patch_options(profile: Profile, advertise_address: str | None = None) -> dict:
    """The plugin's knobs from the profile, in the keywords kwizard.cni's patchers take."""
    options = profile.cluster.cni_options
    plugin_id = profile.cluster.cni.value
    if plugin_id == "flannel":
        return {"iface": options.interface} if options.interface else {}
    if plugin_id == "calico":
        found = {"mtu": options.mtu} if options.mtu else {}
        if options.interface:
            found["autodetect_interface"] = options.interface
        return found
    found = {"password_secret": bool(options.encryption_password_env)}
    if options.mtu:
        found["mtu"] = options.mtu
    return found


def local_manifests(profile: Profile) -> dict[str, bytes]:
    """file name -> content, from the profile's manifest_file (a file, or a folder of them)."""
    plugin = _plugin(profile)
    source = Path(os.path.expanduser(profile.cluster.cni_options.manifest_file or ""))
    if source.is_dir():
        missing = [m.filename for m in plugin.manifests if not (source / m.filename).is_file()]
        if missing:
            raise StepFailed(f"cni_options.manifest_file: {source} lacks {', '.join(missing)}")
        return {m.filename: (source / m.filename).read_bytes() for m in plugin.manifests}
    if len(plugin.manifests) > 1:
        raise StepFailed(
            f"cni_options.manifest_file: {plugin.name} needs {len(plugin.manifests)} files "
            f"({', '.join(m.filename for m in plugin.manifests)}); name a folder holding them"
        )
    try:
        return {plugin.manifests[0].filename: source.read_bytes()}
    except OSError as exc:
        raise StepFailed(f"cni_options.manifest_file: cannot read {source}: {exc.strerror}") from None


def fetch_and_patch(profile: Profile, host: str, folder: str, patched_path: str) -> LocalWork:
    plugin = _plugin(profile)
    target = plugin.patched_manifest

    async def work(ctx: RunContext) -> None:
        session = await ctx.session(host)
        if profile.cluster.cni_options.manifest_file:
            for name, content in local_manifests(profile).items():
                await session.upload(f"{folder}/{name}", content, 0o600)
                ctx.note(host, f"uploaded {name} from the local manifest")
        original = (await session.download(f"{folder}/{target.filename}")).decode()
        try:
            patched = cni.patch_manifest(plugin.id, original, profile.cluster.pod_cidr, **patch_options(profile))
        except (cni.ManifestError, ValueError) as exc:
            raise StepFailed(f"{target.filename}: {exc}") from None
        await session.upload(patched_path, patched.encode(), 0o600)
        ctx.note(host, f"pod CIDR {profile.cluster.pod_cidr} written into {patched_path}")

    return work


def apply_commands(profile: Profile, folder: str, patched_path: str) -> list[list[str]]:
    return [m.command(patched_path if m.patched else f"{folder}/{m.filename}") for m in _plugin(profile).manifests]


def apply_script(profile: Profile, folder: str, patched_path: str):
    """The apply step's script; Weave's encryption password goes in a Secret first."""
    body = cluster_scripts.apply_manifests(apply_commands(profile, folder, patched_path))
    env_name = profile.cluster.cni_options.encryption_password_env

    def script_for(ctx: RunContext, host: str) -> RemoteScript:
        if not env_name:
            return RemoteScript(body)
        if ctx.dry_run:
            password = f"<the Weave Net password from ${env_name}>"
        else:
            password = os.environ.get(env_name, "")
            if not password:
                raise StepFailed(f"cni_options.encryption_password_env: set {env_name} to the Weave Net password")
            ctx.add_secret(password)
        # The password never lands in a file kwizard leaves behind: it is written by a shell builtin
        # (printf: no argv) into a private temp folder that is removed however the script ends.
        create = (
            "secret_dir=$(mktemp -d)\n"
            "trap 'rm -rf \"$secret_dir\"' EXIT\n"
            "trap 'exit 143' TERM HUP INT\n"
            f"(umask 077; printf '%s' {scripts.q(password)} > \"$secret_dir/{WEAVE_SECRET_FILE}\")\n"
            f"{scripts.KUBECTL} -n kube-system create secret generic weave-passwd "
            f"--from-file=weave-passwd=\"$secret_dir/{WEAVE_SECRET_FILE}\" --dry-run=client -o yaml | {scripts.KUBECTL} apply -f -\n"
        )
        return RemoteScript(create + body)

    return script_for


def applied_probe(profile: Profile, folder: str, patched_path: str) -> str:
    """Done only when every object of every applied file exists (Calico: all CRDs, the operator, the Installation).

    A step cut after its first file must not look done: `kubectl get -f` each file, not one marker object.
    """
    return cluster_scripts.manifests_applied(argv[-1] for argv in apply_commands(profile, folder, patched_path))
