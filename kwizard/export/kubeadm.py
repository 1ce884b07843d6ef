"""kubeadm's own files (`kwizard export kubeadm`): the init config kwizard would use, a JoinConfiguration template.

The init config is the init step's upload, byte for byte (rendered from the
hosts' facts, or from the profile's fields with --offline). The join
template is what kwizard's join step says on the command line
(`kubeadm join ENDPOINT --token --discovery-token-ca-cert-hash --node-name
--cri-socket`) in kubeadm's JoinConfiguration, in the same config API as the
init config, with placeholders where the token and the CA hash go: those
exist only once the control plane does, and are never written here.
"""

from __future__ import annotations

import yaml

from kwizard.kube.config import parse_init_config
from kwizard.kube.joincmd import FRESH_JOIN_COMMAND
from kwizard.plan.setup_cluster import CONFIG_PATH
from kwizard.profile.model import Profile
from kwizard.export.walk import ExportRefused, ExportStep
from kwizard.export.runbook import CA_HASH_COMMAND

INIT_FILE = "kubeadm-config.yaml"
JOIN_FILE = "join-config.yaml"
TOKEN_PLACEHOLDER = "<token: from kubeadm token create>"
CA_HASH_PLACEHOLDER = "<sha256:the control plane's CA hash>"
NODE_NAME_PLACEHOLDER = "<this worker's node name>"


def init_config(steps: list[ExportStep]) -> str:
    """The init step's upload of the kubeadm config, as the plan renders it."""
    for step in steps:
        if step.id != "init":
            continue
        for group in step.groups:
            for upload in group.script.uploads if group.script else ():
                if upload.path == CONFIG_PATH:
                    return upload.content.decode()
    raise ExportRefused("the setup plan has no kubeadm init config")


def _worker_cri_sockets(steps: list[ExportStep]) -> set[str]:
    found = set()
    for step in steps:
        if step.id == "join":
            for group in step.groups:
                words = (group.script.script if group.script else "").split()
                if "--cri-socket" in words:
                    found.add(words[words.index("--cri-socket") + 1].strip("'"))
    return found


def join_template(profile: Profile, steps: list[ExportStep]) -> str:
    documents = parse_init_config(init_config(steps))
    init = documents["InitConfiguration"]
    endpoint = f"{init['localAPIEndpoint']['advertiseAddress']}:{init['localAPIEndpoint']['bindPort']}"
    sockets = _worker_cri_sockets(steps)
    cri = sockets.pop() if len(sockets) == 1 else init["nodeRegistration"]["criSocket"]
    join = {
        "apiVersion": init["apiVersion"],
        "kind": "JoinConfiguration",
        "discovery": {
            "bootstrapToken": {
                "apiServerEndpoint": endpoint,
                "token": TOKEN_PLACEHOLDER,
                "caCertHashes": [CA_HASH_PLACEHOLDER],
            }
        },
        "nodeRegistration": {"name": NODE_NAME_PLACEHOLDER, "criSocket": cri},
    }
    header = (
        f"# kwizard export kubeadm: a JoinConfiguration template for the workers of {profile.name}.\n"
        f"# Replace the <...> values: the token from `{FRESH_JOIN_COMMAND}` on the control plane,\n"
        f"# the CA hash from `{CA_HASH_COMMAND}` there (sha256:<hex>), the node name. Then, as root:\n"
        f"#   kubeadm join --config {JOIN_FILE}\n"
    )
    return header + yaml.safe_dump(join, sort_keys=False, explicit_start=True)


def readme(profile: Profile) -> str:
    cp = profile.control_plane.name
    workers = ", ".join(h.name for h in profile.workers) or "(none)"
    return "\n".join([
        f"# kubeadm files for {profile.name}",
        "",
        "Written by `kwizard export kubeadm` from kwizard's setup plan.",
        "",
        f"- `{INIT_FILE}`: InitConfiguration and ClusterConfiguration, exactly the file kwizard",
        f"  puts at {CONFIG_PATH} on {cp}. There, as root: `kubeadm init --config {INIT_FILE}`.",
        f"- `{JOIN_FILE}`: a JoinConfiguration template for the workers ({workers}), with",
        "  placeholders for the token, the CA hash and the node name (kwizard never writes real ones).",
        "",
        "kwizard also prepares the hosts (kernel modules, sysctls, swap, firewall, packages, /etc/hosts)",
        "and installs the network plugin; `kwizard plan PROFILE` shows those steps, and",
        "`kwizard export script PROFILE -o DIR` writes them as runbooks.",
        "",
    ])


def render(profile: Profile, steps: list[ExportStep]) -> dict[str, str]:
    files = {INIT_FILE: init_config(steps)}
    if profile.workers:
        files[JOIN_FILE] = join_template(profile, steps)
    files["README.md"] = readme(profile)
    return files
