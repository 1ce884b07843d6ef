"""The shell the plan runs on hosts: one pure function per job, returning bash text.

Every script runs as root under `set -euo pipefail`. Scripts are written to
be safe to run twice (replace, don't append), and each job has a probe next to
it: a script that exits 0 when the job is already done on that host.
The commands are today's kubeadm forms (see KUBEADM.md), not the seed's 1.15.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable

KWIZARD_DIR = "/etc/kubernetes/kwizard"
ADMIN_CONF = "/etc/kubernetes/admin.conf"
KUBECTL = f"kubectl --kubeconfig={ADMIN_CONF}"
MODULES_FILE = "/etc/modules-load.d/kwizard-k8s.conf"
SYSCTL_FILE = "/etc/sysctl.d/99-kwizard-k8s.conf"
MODULES = ("overlay", "br_netfilter")
SYSCTLS = (
    ("net.ipv4.ip_forward", "1"),
    ("net.bridge.bridge-nf-call-iptables", "1"),
    ("net.bridge.bridge-nf-call-ip6tables", "1"),
)
LEFTOVER_PATHS = ("/etc/cni/net.d", "/var/lib/cni", "/run/flannel", "/var/lib/etcd")
LEFTOVER_INTERFACES = ("cni0", "flannel.1", "vxlan.calico", "tunl0", "weave")


def q(value: str) -> str:
    return shlex.quote(value)


def heredoc(path: str, content: str, mode: str = "0644") -> str:
    """Write `content` to `path` exactly (quoted heredoc: no expansion)."""
    body = content if content.endswith("\n") else content + "\n"
    return f"install -m {mode} /dev/null {q(path)}\ncat > {q(path)} <<'KWIZARD_EOF'\n{body}KWIZARD_EOF\n"


# --- /etc/hosts: a managed block, replaced on every run ---


def hosts_markers(profile_name: str) -> tuple[str, str]:
    return (f"# BEGIN kwizard {profile_name}", f"# END kwizard {profile_name}")


def hosts_block(entries: Iterable[tuple[str, str]]) -> str:
    return "\n".join(f"{address} {name}" for address, name in entries)


def _hosts_vars(profile_name: str, block: str) -> str:
    begin, end = hosts_markers(profile_name)
    return f"begin={q(begin)}\nend={q(end)}\nwanted={q(block)}\n"


def hosts_file(profile_name: str, block: str) -> str:
    return _hosts_vars(profile_name, block) + """\
others=$(awk -v b="$begin" -v e="$end" '$0==b{skip=1;next} $0==e{skip=0;next} !skip' /etc/hosts)
# Rewrite in place so /etc/hosts keeps its inode, owner and mode.
printf '%s\\n%s\\n%s\\n%s\\n' "$others" "$begin" "$wanted" "$end" > /etc/hosts
echo "/etc/hosts: kwizard block for $(printf '%s\\n' "$wanted" | wc -l) hosts written"
"""


def hosts_file_probe(profile_name: str, block: str) -> str:
    return _hosts_vars(profile_name, block) + """\
current=$(awk -v b="$begin" -v e="$end" '$0==b{f=1;next} $0==e{f=0} f' /etc/hosts)
[ "$current" = "$wanted" ]
"""


# --- kernel modules and sysctls, persisted ---


def _sysctl_text() -> str:
    return "\n".join(f"{key} = {value}" for key, value in SYSCTLS)


def kernel() -> str:
    loads = "\n".join(f"modprobe {m}" for m in MODULES)
    applies = "\n".join(f"sysctl -w {key}={value}" for key, value in SYSCTLS)
    return (
        heredoc(MODULES_FILE, "\n".join(MODULES))
        + loads
        + "\n"
        + heredoc(SYSCTL_FILE, _sysctl_text())
        + applies
        + "\n"
    )


def kernel_probe() -> str:
    checks = "\n".join(f'[ "$(sysctl -n {key})" = {value} ]' for key, value in SYSCTLS)
    return (
        f"[ \"$(cat {MODULES_FILE} 2>/dev/null)\" = {q(chr(10).join(MODULES))} ]\n"
        f"[ \"$(cat {SYSCTL_FILE} 2>/dev/null)\" = {q(_sysctl_text())} ]\n"
        + checks
        + "\n"
    )


# --- swap off, now and after reboot ---


def swap_off() -> str:
    return """\
swapoff -a
# Comment out swap lines so the kubelet still starts after a reboot.
if grep -qE '^[^#[:space:]][^#]*[[:space:]]swap[[:space:]]' /etc/fstab; then
  cp -p /etc/fstab /etc/fstab.kwizard-backup
  sed -i -E 's/^([^#[:space:]][^#]*[[:space:]]swap[[:space:]].*)$/# kwizard: \\1/' /etc/fstab
  echo "swap lines in /etc/fstab commented out (backup: /etc/fstab.kwizard-backup)"
fi
echo "swap is off"
"""


def swap_probe() -> str:
    return """\
[ "$(awk 'NR>1' /proc/swaps | wc -l)" -eq 0 ]
! grep -qE '^[^#[:space:]][^#]*[[:space:]]swap[[:space:]]' /etc/fstab
"""


# --- firewalld: open what this node's role and the plugin need ---


def firewall(add_args: Iterable[str]) -> str:
    """`add_args` are firewall-cmd options: --add-port=6443/tcp, --add-protocol=ipip."""
    adds = " ".join(add_args)
    return f"""\
if ! systemctl is-active --quiet firewalld; then
  echo "firewalld is not running: nothing to open"
  exit 0
fi
firewall-cmd --permanent {adds}
firewall-cmd --reload
echo "firewalld: opened {adds.replace('--add-port=', '').replace('--add-protocol=', 'protocol ')}"
"""


def firewall_probe(add_args: Iterable[str]) -> str:
    queries = "\n".join(f"firewall-cmd {arg.replace('--add-', '--query-', 1)} >/dev/null" for arg in add_args)
    return f"systemctl is-active --quiet firewalld || exit 0\n{queries}\n"


# --- packages: containerd and kubeadm/kubelet/kubectl from pkgs.k8s.io ---


def packages(minor: str) -> str:
    """Install for apt or dnf hosts; the repo is per minor version (pkgs.k8s.io)."""
    base = f"https://pkgs.k8s.io/core:/stable:/v{minor}"
    return f"""\
if command -v apt-get >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update
  apt-get install -y apt-transport-https ca-certificates curl gpg containerd
  install -d -m 0755 /etc/apt/keyrings
  curl -fsSL {base}/deb/Release.key | gpg --dearmor --yes -o /etc/apt/keyrings/kubernetes-apt-keyring.gpg
  echo 'deb [signed-by=/etc/apt/keyrings/kubernetes-apt-keyring.gpg] {base}/deb/ /' > /etc/apt/sources.list.d/kubernetes.list
  apt-get update
  apt-get install -y kubelet kubeadm kubectl
  apt-mark hold kubelet kubeadm kubectl
elif command -v dnf >/dev/null; then
  cat > /etc/yum.repos.d/kubernetes.repo <<'KWIZARD_EOF'
[kubernetes]
name=Kubernetes
baseurl={base}/rpm/
enabled=1
gpgcheck=1
gpgkey={base}/rpm/repodata/repomd.xml.key
exclude=kubelet kubeadm kubectl cri-tools kubernetes-cni
KWIZARD_EOF
  dnf install -y containerd kubelet kubeadm kubectl --disableexcludes=kubernetes
else
  echo "no apt-get or dnf on this host: install containerd, kubelet, kubeadm and kubectl {minor} by hand" >&2
  exit 1
fi
# A packaged containerd may ship with the CRI plugin disabled; kubeadm's kubelet
# uses the systemd cgroup driver, so containerd must too.
install -d -m 0755 /etc/containerd
containerd config default | sed 's/SystemdCgroup = false/SystemdCgroup = true/' > /etc/containerd/config.toml
systemctl restart containerd
systemctl enable --now containerd
systemctl enable --now kubelet
"""


def packages_probe(minor: str) -> str:
    return f"""\
for tool in kubeadm kubelet kubectl; do command -v "$tool" >/dev/null; done
case "$(kubeadm version -o short)" in v{minor}.*) ;; *) exit 1 ;; esac
grep -q 'SystemdCgroup = true' /etc/containerd/config.toml
"""


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
    lines = []
    for argv in commands:
        verb, path = argv[1], argv[-1]
        lines.append(f"{KUBECTL} {verb} -f {q(path)}")
    return "\n".join(lines) + "\n"


def resource_exists(kind: str, name: str, namespace: str | None = None) -> str:
    ns = f" -n {q(namespace)}" if namespace else ""
    return f"{KUBECTL} get {kind} {q(name)}{ns} >/dev/null 2>&1\n"


def wait_ready(node_names: Iterable[str], timeout_s: int, interval_s: int = 2) -> str:
    """Poll until every named node is Ready and CoreDNS runs; show what is wrong on timeout."""
    names = " ".join(q(n) for n in node_names)
    return f"""\
deadline=$(( $(date +%s) + {timeout_s} ))
while :; do
  missing=""
  for node in {names}; do
    status=$({KUBECTL} get node "$node" -o jsonpath='{{.status.conditions[?(@.type=="Ready")].status}}' 2>/dev/null || true)
    [ "$status" = "True" ] || missing="$missing $node"
  done
  dns=$({KUBECTL} -n kube-system get pods -l k8s-app=kube-dns --no-headers 2>/dev/null | awk '$3=="Running"' | wc -l)
  if [ -z "$missing" ] && [ "$dns" -gt 0 ]; then
    {KUBECTL} get nodes
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


def untaint(node: str) -> str:
    return f"""\
if out=$({KUBECTL} taint nodes {q(node)} {UNTAINT_KEY}- 2>&1); then
  echo "$out"
elif printf '%s' "$out" | grep -q 'not found'; then
  echo "{node} has no control-plane taint: already schedulable"
else
  echo "$out" >&2
  exit 1
fi
"""


def untaint_probe(node: str) -> str:
    return f"! {KUBECTL} get node {q(node)} -o jsonpath='{{.spec.taints}}' | grep -q {q(UNTAINT_KEY)}\n"


def label_node(node: str, labels: dict[str, str]) -> str:
    pairs = " ".join(q(f"{key}={value}") for key, value in labels.items())
    return f"{KUBECTL} label node {q(node)} {pairs} --overwrite\n"


def joined() -> str:
    return "test -f /etc/kubernetes/kubelet.conf\n"


# --- reset ---


def drain_and_delete(node: str) -> str:
    return f"""\
if ! {KUBECTL} get node {q(node)} >/dev/null 2>&1; then
  echo "{node} is not in the cluster: nothing to drain"
  exit 0
fi
{KUBECTL} drain {q(node)} --delete-emptydir-data --force --ignore-daemonsets --timeout=120s
{KUBECTL} delete node {q(node)}
"""



def kubeadm_reset(flush_iptables: bool, clear_ipvs: bool, remove_cni_config: bool) -> str:
    lines = ["kubeadm reset -f"]
    if flush_iptables:
        lines.append("iptables -F && iptables -t nat -F && iptables -t mangle -F && iptables -X")
        lines.append("echo 'iptables rules flushed'")
    if clear_ipvs:
        lines.append("if command -v ipvsadm >/dev/null; then ipvsadm --clear; echo 'IPVS tables cleared'; fi")
    if remove_cni_config:
        lines.append("rm -rf /etc/cni/net.d && echo 'removed /etc/cni/net.d'")
    return "\n".join(lines) + "\n"


def reset_probe() -> str:
    return "! test -e /etc/kubernetes/kubelet.conf && ! test -e /etc/kubernetes/admin.conf && ! ls /etc/kubernetes/manifests/*.yaml >/dev/null 2>&1\n"


def leftovers(user: str) -> str:
    """Say what kubeadm reset does not clean, so the user can decide."""
    paths = " ".join(LEFTOVER_PATHS)
    links = " ".join(LEFTOVER_INTERFACES)
    return f"""\
found=0
for path in {paths}; do
  if [ -e "$path" ] && [ -n "$(ls -A "$path" 2>/dev/null)" ]; then echo "remains: $path"; found=1; fi
done
for link in {links}; do
  if ip link show "$link" >/dev/null 2>&1; then echo "remains: interface $link (ip link delete $link)"; found=1; fi
done
home=$(getent passwd {q(user)} | cut -d: -f6)
if [ -n "$home" ] && [ -e "$home/.kube/config" ]; then echo "remains: $home/.kube/config"; found=1; fi
if iptables-save 2>/dev/null | grep -q KUBE-; then echo "remains: iptables rules with KUBE- chains (reset --flush-iptables)"; found=1; fi
[ "$found" = 1 ] || echo "nothing left behind"
"""
