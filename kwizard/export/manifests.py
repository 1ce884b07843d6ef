"""The plugin's manifest, patched ahead of time, for exports that cannot call kwizard at run time (the runbooks).

A shell runbook runs on the hosts alone, so the one kwizard-side edit of the
setup plan (the pod CIDR written into the plugin's manifest, by kwizard.cni)
is done when exporting: from the profile's `cni_options.manifest_file` when
it names one (kwizard then uploads those files too, as `kwizard apply`
does), else from the catalogue's pinned URLs, downloaded here once. The
runbook checks that what the control plane downloaded hashes the same as
what was patched, so a different file is never applied in its place.
"""

from __future__ import annotations

import hashlib
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from kwizard.cni import catalogue as cni
from kwizard.export import walk as plan_walk
from kwizard.plan.cni_steps import patch_options
from kwizard.profile.model import Profile

DOWNLOAD_TIMEOUT = 30.0


@dataclass(frozen=True)
class PatchedManifest:
    originals: dict[str, bytes]  # file name -> content, uploaded by the runbook only for a local manifest_file
    source_name: str  # the manifest that carries the pod CIDR
    source_sha256: str
    patched: bytes  # what goes to walk.patched_manifest_path(profile)


def _download(url: str) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT) as answer:  # noqa: S310 - the catalogue's https URL
            return answer.read()
    except (urllib.error.URLError, OSError) as exc:
        raise plan_walk.ExportRefused(
            f"cannot download {url} to patch it ahead of time ({exc}); the runbook carries the patched manifest: "
            "set cni_options.manifest_file in the profile to a local copy of the plugin's manifest(s)"
        ) from None


def patched_manifest(profile: Profile) -> PatchedManifest:
    plugin = plan_walk.plugin_of(profile)
    local = plan_walk.local_manifests(profile)
    target = plugin.patched_manifest
    if local:
        originals = {name: Path(path).read_bytes() for name, path in local.items()}
        source = originals[target.filename]
    else:
        originals = {}
        source = _download(target.url)
    try:
        patched = cni.patch_manifest(plugin.id, source.decode(), profile.cluster.pod_cidr, **patch_options(profile))
    except (cni.ManifestError, ValueError, UnicodeDecodeError) as exc:
        raise plan_walk.ExportRefused(f"{target.filename}: {exc}") from None
    return PatchedManifest(originals, target.filename, hashlib.sha256(source).hexdigest(), patched.encode())
