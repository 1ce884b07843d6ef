"""The setup plan's cluster steps: images, kubeadm init, the kubeconfig, the network plugin, readiness, the taint, the join command, the workers' join, labels.
"""

from __future__ import annotations


from kwizard.cni import catalogue as cni
from kwizard.kube.preflight import diagnose_init_failure
from kwizard.plan import scripts
from kwizard.plan import cluster_scripts
from kwizard.plan.cni_steps import local_manifests, applied_probe, apply_script, fetch_and_patch
from kwizard.kube.diagnose import diagnose_not_ready
from kwizard.kube.join import make_join_command
from kwizard.kube.joincmd import FRESH_JOIN_COMMAND
from kwizard.kube.kubeconfig import write_kubeconfig
from kwizard.profile.model import Profile
from kwizard.kube.nodes import node_list
from kwizard.plan.steps import same_script, Step, StepFailed
from kwizard.plan.context import RemoteScript, RunContext, Upload
from kwizard.plan.decide import facts_of, init_config, join_command_text, resolve_cri_socket, resolve_kubernetes_version
from kwizard.kube.config import kubeadm_config_api


CONFIG_PATH = f"{scripts.KWIZARD_DIR}/kubeadm-config.yaml"
MANIFEST_DIR = f"{scripts.KWIZARD_DIR}/cni"


def _config_upload(profile: Profile, ctx: RunContext, host: str) -> Upload:
    text = init_config(profile, facts_of(ctx, host))
    return Upload(CONFIG_PATH, text.encode(), 0o600)


def images_step(profile: Profile, cp: tuple[str, ...]) -> Step:
    def script(ctx: RunContext, host: str) -> RemoteScript:
        return RemoteScript(cluster_scripts.images_pull(CONFIG_PATH), uploads=(_config_upload(profile, ctx, host),))

    return Step(
        id="images",
        title="Pull the control plane's images",
        hosts=cp,
        script=script,
        probe=same_script(cluster_scripts.control_plane_exists()),
        describe="kubeadm config images pull, so init does not wait on downloads",
        timeout=1800,
    )


def node_images_step(profile: Profile, workers: tuple[str, ...]) -> Step:
    """Each worker pulls what its pods will run while the control plane pulls and inits: joined, it
    would otherwise pull them one by one before its network plugin starts and the node is Ready."""
    plugin, images = _plugin(profile), plugin_node_images(profile)

    def version_and_socket(ctx: RunContext, host: str) -> tuple[str, str]:
        facts = facts_of(ctx, host)
        return resolve_kubernetes_version(profile, facts), resolve_cri_socket(profile, facts)

    def script(ctx: RunContext, host: str) -> RemoteScript:
        return RemoteScript(cluster_scripts.node_images_pull(*version_and_socket(ctx, host), images))

    def probe(ctx: RunContext, host: str) -> RemoteScript:
        return RemoteScript(cluster_scripts.node_images_present(*version_and_socket(ctx, host), images))

    from_plugin = ", ".join(images)
    plugin_part = (f", and {plugin.name}'s {from_plugin}" if from_plugin else
                   f" ({plugin.name}'s own are chosen by its operator when it runs)")
    return Step(
        id="node-images",
        title="Pull the images every worker runs",
        hosts=workers,
        script=script,
        probe=probe,
        describe=f"crictl pull, while the control plane inits, of kubeadm's kube-proxy and pause{plugin_part}: "
        "a joined node then starts its pods without downloads",
        timeout=1800,
    )


def plugin_node_images(profile: Profile) -> list[str]:
    """The images the plugin's DaemonSets run: from the profile's local manifest when it names one
    (unreadable: none, the fetch step says why), else the pinned release's."""
    local = profile.cluster.cni_options.manifest_file
    if not local:
        return list(_plugin(profile).node_images)
    try:
        texts = local_manifests(profile).values()
        return list(dict.fromkeys(i for t in texts for i in cni.daemonset_images(t.decode())))
    except (StepFailed, cni.ManifestError, UnicodeDecodeError):
        return []


def init_step(profile: Profile, cp: tuple[str, ...]) -> Step:
    def script(ctx: RunContext, host: str) -> RemoteScript:
        return RemoteScript(cluster_scripts.kubeadm_init(CONFIG_PATH), uploads=(_config_upload(profile, ctx, host),))

    return Step(
        id="init",
        title="kubeadm init on the control plane",
        hosts=cp,
        script=script,
        probe=same_script(cluster_scripts.control_plane_exists()),
        describe=f"from a config file: podSubnet {profile.cluster.pod_cidr}, serviceSubnet {profile.cluster.service_cidr}",
        timeout=900,
        diagnose=diagnose_init_failure,
    )


def kubeconfig_step(profile: Profile, cp: tuple[str, ...]) -> Step:
    user = profile.user_for(profile.control_plane)
    host = profile.control_plane.name

    async def fetch_admin_conf(ctx: RunContext) -> None:
        admin_conf = await (await ctx.session(host)).download(scripts.ADMIN_CONF, sudo=True)
        ctx.outcome.kubeconfig_path = write_kubeconfig(admin_conf, profile.name)
        ctx.note(host, f"admin kubeconfig saved locally: {ctx.outcome.kubeconfig_path} (mode 0600)")

    return Step(
        id="kubeconfig",
        title=f"kubeconfig for {user} on the control plane, and a local copy",
        hosts=cp,
        script=same_script(cluster_scripts.user_kubeconfig(user)),
        probe=same_script(cluster_scripts.user_kubeconfig_probe(user)),
        after=fetch_admin_conf,
        describe="~/.kube/config for the SSH user; admin.conf fetched to a 0600 file of its own (never ~/.kube/config)",
        timeout=60,
        # Its `after` leaves the local kubeconfig's path (in memory only): a resumed run (retry,
        # skip) must fetch it again, or the done screen says none was written. The probe skips
        # the script on the host when ~/.kube/config is already there.
        rerun_on_resume=True,
    )


def _plugin(profile: Profile) -> cni.CNIPlugin:
    return cni.get_plugin(profile.cluster.cni.value)


def _manifest_path(name: str) -> str:
    return f"{MANIFEST_DIR}/{name}"


def _patched_path(profile: Profile) -> str:
    return _manifest_path("kwizard-" + _plugin(profile).patched_manifest.filename)


def cni_fetch_step(profile: Profile, cp: tuple[str, ...]) -> Step:
    plugin = _plugin(profile)
    files = [(m.url, m.filename) for m in plugin.manifests]
    local = profile.cluster.cni_options.manifest_file
    return Step(
        id="cni-fetch",
        title=f"Fetch the {plugin.name} {plugin.version} manifest and set the pod CIDR in it",
        hosts=cp,
        script=None if local else same_script(cluster_scripts.fetch_manifests(files, MANIFEST_DIR)),
        after=fetch_and_patch(profile, cp[0], MANIFEST_DIR, _patched_path(profile)),
        describe=(
            f"pinned upstream URLs, downloaded on the control plane; {profile.cluster.pod_cidr} written into "
            f"{plugin.patched_manifest.filename}" + (f" (from the local file {local})" if local else "")
        ),
        timeout=300,
    )


def cni_apply_step(profile: Profile, cp: tuple[str, ...]) -> Step:
    plugin = _plugin(profile)
    return Step(
        id="cni-apply",
        title=f"Apply {plugin.name}",
        hosts=cp,
        script=apply_script(profile, MANIFEST_DIR, _patched_path(profile)),
        probe=same_script(applied_probe(profile, MANIFEST_DIR, _patched_path(profile))),
        describe=" then ".join(f"kubectl {m.verb} {m.filename}" for m in plugin.manifests)
        + "; done when every object of every file exists",
        timeout=300,
    )


def ready_step(profile: Profile, cp: tuple[str, ...], nodes: tuple[str, ...], step_id: str, title: str) -> Step:
    async def record_nodes(ctx: RunContext) -> None:
        ctx.outcome.nodes = tuple(await node_list(await ctx.session(cp[0])))

    wait_s = profile.cluster.wait_ready_seconds
    return Step(
        id=step_id,
        title=title,
        hosts=cp,
        script=same_script(cluster_scripts.wait_ready(nodes, wait_s)),
        after=record_nodes,
        describe=f"wait up to {_duration(wait_s)} for {', '.join(nodes)} Ready and CoreDNS Running",
        timeout=wait_s + 60,
        diagnose=lambda tail: diagnose_not_ready(tail, profile),
    )


def _duration(seconds: int) -> str:
    return f"{seconds // 60} min" if seconds % 60 == 0 else f"{seconds} s"


def untaint_step(profile: Profile, cp: tuple[str, ...]) -> Step:
    node = profile.control_plane.name
    return Step(
        id="untaint",
        title="Let ordinary pods run on the control plane",
        hosts=cp,
        script=same_script(cluster_scripts.untaint(node)),
        probe=same_script(cluster_scripts.untaint_probe(node)),
        describe=f"kubectl taint nodes {node} {cluster_scripts.UNTAINT_KEY}- (\"not found\" means already done)",
        timeout=60,
    )


def join_command_step(profile: Profile, cp: tuple[str, ...]) -> Step:
    return Step(
        id="join-command",
        title="A fresh join command, its CA hash checked",
        hosts=cp,
        after=make_join_command(cp[0]),
        rerun_on_resume=True,  # the token is secret, so it is never kept for a resume
        describe=f"{FRESH_JOIN_COMMAND}; the hash is compared with /etc/kubernetes/pki/ca.crt",
        timeout=120,
    )


def join_step(profile: Profile, workers: tuple[str, ...]) -> Step:
    def script(ctx: RunContext, host: str) -> RemoteScript:
        facts = facts_of(ctx, host)
        cri = resolve_cri_socket(profile, facts)
        version = (facts.kubeadm_version if facts is not None else None) or f"v{profile.cluster.kubernetes_version}"
        return RemoteScript(cluster_scripts.kubeadm_join(
            join_command_text(ctx), node_name=host, cri_socket=None if cri.startswith("<") else cri,
            config_api=kubeadm_config_api(version),
        ))

    return Step(
        id="join",
        title="Join the workers",
        hosts=workers,
        script=script,
        probe=same_script(cluster_scripts.joined()),
        describe="kubeadm join on every worker at once; nodes already joined are skipped",
        timeout=600,
    )


def labels_step(profile: Profile, cp: tuple[str, ...]) -> Step:
    script = "".join(cluster_scripts.label_node(h.name, h.labels) for h in profile.hosts if h.labels)
    return Step(
        id="labels",
        title="Label the nodes",
        hosts=cp,
        script=same_script(script),
        describe="the labels the profile gives each host (kubectl label --overwrite)",
        timeout=60,
    )
