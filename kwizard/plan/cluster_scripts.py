"""The cluster's scripts: images, `kubeadm init`, the user's kubeconfig, the network plugin's manifests, waiting for Ready, the control-plane taint, labels, and joining the workers.
"""

from __future__ import annotations

from collections.abc import Iterable

from kwizard.plan.scripts import ADMIN_CONF, KUBECTL, q


# --- control plane ---


def images_pull(config_path: str) -> str:
    return f"kubeadm config images pull --config {q(config_path)}\n"


def control_plane_exists() -> str:
    return f"test -f {ADMIN_CONF} && test -f /etc/kubernetes/manifests/kube-apiserver.yaml\n"


def kubeadm_init(config_path: str) -> str:
    # kubeadm starts the kubelet but warns when it is not enabled (it would not come back after a reboot).
    # The token is masked in the logs; the join command is made fresh later.
    return f"systemctl enable kubelet\nkubeadm init --config {q(config_path)}\n"


def user_kubeconfig(user: str) -> str:
    return f"""\
home=$(getent passwd {q(user)} | cut -d: -f6)
group=$(id -gn {q(user)})
install -d -m 0700 -o {q(user)} -g "$group" "$home/.kube"
install -m 0600 -o {q(user)} -g "$group" {ADMIN_CONF} "$home/.kube/config"
echo "kubeconfig for {user}: $home/.kube/config"
"""


def user_kubeconfig_probe(user: str) -> str:
    return f'home=$(getent passwd {q(user)} | cut -d: -f6)\ncmp -s {ADMIN_CONF} "$home/.kube/config"\n'


def fetch_manifests(files: Iterable[tuple[str, str]], folder: str) -> str:
    """Download pinned manifests on the control plane (url, file name)."""
    lines = [f"install -d -m 0700 {q(folder)}"]
    for url, name in files:
        lines.append(f"curl -fsSL --retry 3 -o {q(folder + '/' + name)} {q(url)}")
        lines.append(f"echo 'fetched {name}'")
    return "\n".join(lines) + "\n"


def apply_manifests(commands: Iterable[list[str]]) -> str:
    """One kubectl line per file: `kubectl apply [--server-side --force-conflicts] -f PATH` (kwizard.cni)."""
    lines = []
    for argv in commands:
        words, path = argv[1:-2], argv[-1]  # argv: kubectl VERB [FLAGS] -f PATH
        lines.append(f"{KUBECTL} {' '.join(words)} -f {q(path)}")
    return "\n".join(lines) + "\n"


def manifests_applied(paths: Iterable[str]) -> str:
    """Exit 0 only when every object of every file exists: `kubectl get -f` fails on the first one missing."""
    # kubectl get -f FILE: NotFound for any object of FILE that the API server does not have (exit 1).
    # The last file first: it is the one missing when the step did not finish, so the answer comes soonest.
    return "".join(f"{KUBECTL} get -f {q(path)} -o name >/dev/null 2>&1\n" for path in reversed(list(paths)))


def resource_exists(kind: str, name: str, namespace: str | None = None) -> str:
    ns = f" -n {q(namespace)}" if namespace else ""
    return f"{KUBECTL} get {kind} {q(name)}{ns} >/dev/null 2>&1\n"


def wait_ready(node_names: Iterable[str], timeout_s: int, interval_s: int = 1) -> str:
    """Poll until every named node is Ready and CoreDNS runs; show what is wrong on timeout.

    One `kubectl get nodes` per poll (its table is also what the log shows) whatever the number of nodes (one call per node made
    polling N+1 calls; at 40 nodes that was most of the step), CoreDNS asked only once every
    node is Ready. The STATUS column is "Ready" when the node's Ready condition is True, with
    ",SchedulingDisabled" appended for a cordoned node (kubectl's printNode,
    pkg/printers/internalversion/printers.go).
    """
    names = " ".join(node_names)
    return f"""\
deadline=$(( $(date +%s) + {timeout_s} ))
while :; do
  nodes=$({KUBECTL} get nodes 2>/dev/null || true)
  missing=$(printf '%s\\n' "$nodes" | awk -v want={q(names)} '
    NR > 1 && ($2 == "Ready" || $2 ~ /^Ready,/) {{ ready[$1] = 1 }}
    END {{ n = split(want, w, " "); for (i = 1; i <= n; i++) if (!(w[i] in ready)) printf " %s", w[i] }}')
  dns=0
  if [ -z "$missing" ]; then
    dns=$({KUBECTL} -n kube-system get pods -l k8s-app=kube-dns --no-headers 2>/dev/null | awk '$3=="Running"' | wc -l || true)
  fi
  if [ -z "$missing" ] && [ "$dns" -gt 0 ]; then
    printf '%s\\n' "$nodes"
    echo "all nodes Ready; CoreDNS Running"
    exit 0
  fi
  if [ "$(date +%s)" -ge "$deadline" ]; then
    echo "timed out after {timeout_s}s: not Ready:${{missing:- none}}; CoreDNS pods running: $dns" >&2
    {KUBECTL} get nodes || true
    {KUBECTL} get pods -A || true
    for pod in $({KUBECTL} get pods -A --no-headers 2>/dev/null | awk '$4!="Running" && $4!="Completed" {{print $1"/"$2}}'); do
      echo "--- logs of $pod" >&2
      {KUBECTL} -n "${{pod%%/*}}" logs "${{pod#*/}}" --tail=20 2>&1 | sed 's/^/  /' >&2 || true
    done
    exit 1
  fi
  sleep {interval_s}
done
"""


UNTAINT_KEY = "node-role.kubernetes.io/control-plane"


def _taint_keys(node: str) -> str:
    """The node's taint keys, one per line; the command fails when the node is not there."""
    return f"{KUBECTL} get node {q(node)} -o jsonpath='{{.spec.taints[*].key}}'"


def untaint(node: str) -> str:
    # kubectl taint: removing a taint the node lacks fails `taint "KEY" not found`; a missing node fails
    # `nodes "NAME" not found`. Only the first is "already done": ask the node itself, never grep the error.
    return f"""\
if out=$({KUBECTL} taint nodes {q(node)} {UNTAINT_KEY}- 2>&1); then
  echo "$out"
elif keys=$({_taint_keys(node)} 2>&1) && ! printf '%s\\n' $keys | grep -qxF {q(UNTAINT_KEY)}; then
  echo "{node} has no control-plane taint: already schedulable"
else
  echo "$out" >&2
  exit 1
fi
"""


def untaint_probe(node: str) -> str:
    return f"keys=$({_taint_keys(node)})\n! printf '%s\\n' $keys | grep -qxF {q(UNTAINT_KEY)}\n"


def label_node(node: str, labels: dict[str, str]) -> str:
    pairs = " ".join(q(f"{key}={value}") for key, value in labels.items())
    return f"{KUBECTL} label node {q(node)} {pairs} --overwrite\n"


# Of kubeadm's images, the ones every node runs: pause (each pod's sandbox) and kube-proxy (a DaemonSet).
NODE_IMAGES_OF_KUBEADM = ("kube-proxy", "pause")


# crictl comes with cri-tools (a dependency of pkgs.k8s.io's kubeadm); without it the kubelet pulls after joining.
_WITHOUT_CRICTL = ("command -v crictl >/dev/null || { echo 'crictl is not installed (cri-tools): "
                   "the kubelet pulls these images after the node joins'; exit 0; }\n")


def _for_each_node_image(kubernetes_version: str, plugin_images: Iterable[str], command: str) -> str:
    """Run `command` (which reads "$image") for kubeadm's node images of the version (their registry
    and pause tag are kubeadm's to decide), then the plugin's."""
    wanted = "|".join(NODE_IMAGES_OF_KUBEADM)
    extra = "".join(f" {q(i)}" for i in plugin_images)
    return (_WITHOUT_CRICTL
            + f"listed=$(kubeadm config images list --kubernetes-version {q(kubernetes_version)})\n"
            + f"images=\"$(printf '%s\\n' \"$listed\" | grep -E '/({wanted}):' || true){extra}\"\n"
            + "case $images in *kube-proxy*) ;; *) echo \"kubeadm listed no kube-proxy image: $listed\" >&2; exit 1 ;; esac\n"
            + f"for image in $images; do\n  {command}\ndone\n")


def node_images_pull(kubernetes_version: str, cri_socket: str, plugin_images: Iterable[str]) -> str:
    return _for_each_node_image(kubernetes_version, plugin_images,
                                f"crictl --runtime-endpoint {q(cri_socket)} pull \"$image\"")


def node_images_present(kubernetes_version: str, cri_socket: str, plugin_images: Iterable[str]) -> str:
    return _for_each_node_image(kubernetes_version, plugin_images,
                                f"crictl --runtime-endpoint {q(cri_socket)} inspecti -q \"$image\" >/dev/null 2>&1")


def joined() -> str:
    return "test -f /etc/kubernetes/kubelet.conf\n"


def kubeadm_join(join_command: str, *, node_name: str, cri_socket: str | None, config_api: str) -> str:
    """Join this node with a JoinConfiguration file instead of flags, so the token never shows in `ps`.

    The join command's words become the shell's positional parameters (`set`
    is a builtin: no process gets them as arguments), `echo` (a builtin too)
    writes the token and CA pins into a 0600 file in a private temp folder,
    and the folder is removed however the script ends. Field names: kubeadm's
    JoinConfiguration (cmd/kubeadm/app/apis/kubeadm/v1beta4/types.go,
    Discovery.BootstrapToken: APIServerEndpoint, Token, CACertHashes).
    """
    cri_line = f"  printf '  criSocket: %s\\n' {q(cri_socket)}\n" if cri_socket else ""
    return (
        "systemctl enable kubelet\n"
        f"set -- {join_command}\n"
        '[ "$1 $2" = "kubeadm join" ] || { echo "kwizard: not a kubeadm join command" >&2; exit 1; }\n'
        "endpoint=$3\n"
        "shift 3\n"
        'token="" pins=""\n'
        "while [ $# -gt 1 ]; do\n"
        "  case $1 in\n"
        "    --token) token=$2 ;;\n"
        '    --discovery-token-ca-cert-hash) pins="$pins $2" ;;\n'
        '    *) echo "kwizard: unexpected join argument $1" >&2; exit 1 ;;\n'
        "  esac\n"
        "  shift 2\n"
        "done\n"
        "folder=$(mktemp -d)\n"
        "trap 'rm -rf \"$folder\"' EXIT\n"
        "trap 'exit 143' TERM HUP INT\n"
        "umask 077\n"
        "{\n"
        f'  echo "apiVersion: {config_api}"\n'
        '  echo "kind: JoinConfiguration"\n'
        '  echo "discovery:"\n'
        '  echo "  bootstrapToken:"\n'
        '  echo "    apiServerEndpoint: \\"$endpoint\\""\n'
        '  echo "    token: \\"$token\\""\n'
        '  echo "    caCertHashes:"\n'
        '  for pin in $pins; do echo "    - \\"$pin\\""; done\n'
        '  echo "nodeRegistration:"\n'
        f"  printf '  name: %s\\n' {q(node_name)}\n"
        f"{cri_line}"
        '} > "$folder/join.yaml"\n'
        'kubeadm join --config "$folder/join.yaml"\n'
    )
