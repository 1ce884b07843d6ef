# kwizard lab simulator support -- NOT a real Kubernetes tool.
# `kubeadm join` for the lab: reaches the advertised API address over the lab
# network (a real TCP connect), then checks the token and the CA pin against the
# lab's cluster and answers the way kubeadm does when they are wrong.
from __future__ import annotations

import re
import socket
import time
from pathlib import Path

import common
import kubeadm_config
import kubeadm_init
import listener
import pki
import preflight

HASH_RE = re.compile(r"^sha256:([0-9a-f]*)$")
STACK_HINT = "To see the stack trace of this error execute with --v=5 or higher"
JOIN_DONE = """
This node has joined the cluster:
* Certificate signing request was sent to apiserver and a response was received.
* The Kubelet was informed of the new secure connection details.

Run 'kubectl get nodes' on the control-plane to see this node join the cluster.
"""


def _identity_error(message: str) -> int:
    common.fail(f"error execution phase preflight: couldn't validate the identity of the API Server: {message}\n"
                + STACK_HINT)
    return 1


def _validate_flags(endpoint: str | None, token: str, hashes: list[str], unsafe: bool) -> None:
    if not endpoint:
        common.fail("discovery.bootstrapToken.apiServerEndpoint: Invalid value: \"\": bootstrapToken.APIServerEndpoint "
                    "or file.KubeConfigPath must be set\n" + STACK_HINT)
    if not kubeadm_init.TOKEN_RE.match(token):
        common.fail(f'discovery.bootstrapToken.token: Invalid value: "{token}": the bootstrap token "{token}" was not '
                    'of the form "^([a-z0-9]{6})\\.([a-z0-9]{16})$"\n' + STACK_HINT)
    if not hashes and not unsafe:
        common.fail('discovery.bootstrapToken: Invalid value: "": using token-based discovery without caCertHashes '
                    "can be unsafe. Set unsafeSkipCAVerification as true in your kubeadm config file or pass "
                    "--discovery-token-unsafe-skip-ca-verification flag to continue\n" + STACK_HINT)
    for value in hashes:
        match = HASH_RE.match(value)
        if not value.startswith("sha256:"):
            kind = value.split(":")[0] if ":" in value else ""
            common.fail(f'invalid hash "{value}", expected a "type:value" with type sha256' if not kind
                        else f'unknown hash type "{kind}"')
        if not match or len(match[1]) != 64:
            found = len(value.removeprefix("sha256:")) // 2
            common.fail(f'invalid hash "{value}", expected a 32 byte SHA-256 hash, found {found} bytes')


# Flags that may go with --config (cmd/kubeadm/app/apis/kubeadm/validation/validation.go,
# ValidateMixedArguments: --config excludes the flags its file sets; these few are allowed beside it).
CONFIG_COMPANIONS = {"config", "ignore-preflight-errors", "dry-run", "skip-phases", "v", "allow-experimental-api"}


def _from_config(path: str, positional: list[str], flags: dict) -> tuple[str | None, str, list[str], bool, str | None, str | None]:
    mixed = sorted(f for f in flags if f not in CONFIG_COMPANIONS) + (["<endpoint>"] if positional else [])
    if mixed:
        common.fail(f"can not mix '--config' with arguments {mixed}\n{STACK_HINT}")
    try:
        text = Path(path).read_text()
    except OSError as error:
        common.fail(f'unable to read config from "{path}" : open {path}: {error.strerror.lower()}\n{STACK_HINT}')
    documents = common.load_yaml_documents(text)
    join_doc = next((d for d in documents if d.get("kind") == "JoinConfiguration"), None)
    if join_doc is None:
        common.fail(f"no JoinConfiguration kind was found in the YAML file\n{STACK_HINT}")
    try:
        kubeadm_config.check_api_version(join_doc.get("apiVersion", ""))
    except kubeadm_config.ConfigError as error:
        common.fail(f"{error}\n{STACK_HINT}")
    token_doc = (join_doc.get("discovery") or {}).get("bootstrapToken") or {}
    registration = join_doc.get("nodeRegistration") or {}
    return (token_doc.get("apiServerEndpoint"), str(token_doc.get("token") or ""), list(token_doc.get("caCertHashes") or []),
            bool(token_doc.get("unsafeSkipCAVerification")), registration.get("criSocket"), registration.get("name"))


def join(argv: list[str]) -> int:
    positional, flags = common.parse_args(
        argv, {"control-plane", "discovery-token-unsafe-skip-ca-verification", "dry-run"},
        repeatable={"discovery-token-ca-cert-hash"})
    if "config" in flags:
        endpoint, token, hashes, unsafe, cri, explicit_name = _from_config(flags["config"], positional, flags)
    else:
        endpoint = positional[0] if positional else None
        token = flags.get("token") or flags.get("discovery-token") or ""
        hashes = flags.get("discovery-token-ca-cert-hash", [])
        unsafe = "discovery-token-unsafe-skip-ca-verification" in flags
        cri, explicit_name = flags.get("cri-socket"), flags.get("node-name")
    _validate_flags(endpoint, token, hashes, unsafe)
    cri = cri or "unix:///var/run/containerd/containerd.sock"
    ignored = {n.strip().lower() for n in flags.get("ignore-preflight-errors", "").split(",") if n.strip()}
    try:
        node_name = kubeadm_config._node_name(explicit_name, socket.gethostname())
    except kubeadm_config.ConfigError as error:
        common.fail(f"{error}\n{STACK_HINT}")
    if not preflight.report("join", cri, ignored, node_name=node_name, control_plane_join="control-plane" in flags):
        return 1
    common.apply_command_faults("kubeadm join " + " ".join(argv))
    common.take_time("join")
    host, _, port = endpoint.rpartition(":")
    problem = listener.reachable(host, int(port or 6443))
    if problem:
        return _identity_error(f'Get "https://{endpoint}/api/v1/namespaces/kube-public/configmaps/cluster-info'
                               f'?timeout=10s": dial tcp {endpoint}: {problem}')
    state = common.read_state()
    cluster = state["cluster"]
    if not cluster:
        return _identity_error(f'Get "https://{endpoint}/api/v1/namespaces/kube-public/configmaps/cluster-info'
                               f'?timeout=10s": dial tcp {endpoint}: connect: connection refused')
    token_id = token.split(".")[0]
    known = {t["token"] for t in cluster["tokens"] if t["expires"] > time.time()}
    if token_id not in {t.split(".")[0] for t in known}:
        return _identity_error(f'could not find a JWS signature in the cluster-info ConfigMap for token ID "{token_id}"')
    if token not in known:
        return _identity_error("failed to verify JWS signature of received cluster info object, can't trust this API Server")
    if hashes and cluster["ca_hash"] not in hashes:
        return _identity_error(f'cluster CA found in cluster-info ConfigMap is invalid: none of the public keys '
                               f'"{cluster["ca_hash"]}" are pinned')
    control_plane = "control-plane" in flags
    if control_plane and not cluster.get("control_plane_endpoint"):
        common.fail("error execution phase preflight: \nOne or more conditions for hosting a new control plane "
                    "instance is not satisfied.\n\nunable to add a new control plane instance to a cluster that "
                    "doesn't have a stable controlPlaneEndpoint address\n\nPlease ensure that:\n"
                    "* The cluster has a stable controlPlaneEndpoint address.\n"
                    "* The certificates that must be shared among control plane instances are provided.\n\n" + STACK_HINT)
    name = node_name
    existing = state["nodes"].get(name)
    if existing and existing.get("kubelet"):
        common.fail(f'error execution phase kubelet-start: a Node with name "{name}" and status "Ready" already exists '
                    "in the cluster. You must delete the existing Node or change the name of this new joining Node\n"
                    + STACK_HINT)
    print('[preflight] Reading configuration from the "kubeadm-config" ConfigMap in namespace "kube-system"...\n'
          "[preflight] Use 'kubeadm init phase upload-config kubeadm --config your-config-file' to re-upload it.")
    ca_pem = cluster["ca_pem"].encode()
    (pki.PKI).mkdir(parents=True, exist_ok=True)
    (pki.PKI / "ca.crt").write_bytes(ca_pem)
    pki.write_private(Path("/etc/kubernetes/kubelet.conf"), pki.kubeconfig(
        f"https://{cluster['endpoint']}", ca_pem, f"system:node:{name}",
        cert_file="/var/lib/kubelet/pki/kubelet-client-current.pem"))
    pki.write_private(Path("/var/lib/kubelet/config.yaml"), "# kwizard lab placeholder\nkind: KubeletConfiguration\n")
    listener.start(listener.KUBELET_PORTS)
    kubeadm_init.set_kubelet(True)
    with common.locked_state() as fresh:
        kubeadm_init.register_node(fresh, name, kubeadm_config.default_address(), control_plane=control_plane)
    print('[kubelet-start] Writing kubelet configuration to file "/var/lib/kubelet/config.yaml"\n'
          '[kubelet-start] Writing kubelet environment file with flags to file "/var/lib/kubelet/kubeadm-flags.env"\n'
          "[kubelet-start] Starting the kubelet\n"
          "[kubelet-check] Waiting for a healthy kubelet at http://127.0.0.1:10248/healthz. This can take up to 4m0s\n"
          "[kubelet-check] The kubelet is healthy after 500.912ms\n"
          "[kubelet-start] Waiting for the kubelet to perform the TLS Bootstrap")
    print(JOIN_DONE, end="")
    return 0
