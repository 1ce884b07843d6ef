"""The shell the plan runs on hosts: one pure function per job, returning bash text.

Every script runs as root under `set -euo pipefail`. Scripts are written to
be safe to run twice (replace, don't append), and each job has a probe next to
it: a script that exits 0 when the job is already done on that host.
The commands are today's kubeadm forms (see KUBEADM.md), not the seed's 1.15.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable

from kwizard.kube.cri import CRI_SOCKET_PATHS

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
# The kubelet refuses to start with swap on (install-kubeadm.md, "Swap configuration").
# Swap comes back at boot from three places: /etc/fstab, systemd .swap units, and
# zram-generator (Fedora's default, configured in /usr/lib/systemd/zram-generator.conf).

ZRAM_DEFAULTS = "/usr/lib/systemd/zram-generator.conf"
ZRAM_OVERRIDE = "/etc/systemd/zram-generator.conf"
_FSTAB_SWAP = "'^[^#[:space:]][^#]*[[:space:]]swap[[:space:]]'"


def swap_off() -> str:
    return f"""\
# systemd.swap(5): every active swap is a .swap unit (fstab's, zram-generator's dev-zram0.swap);
# `systemctl mask` keeps it from starting at boot. Listed before swapoff, which deactivates them.
if command -v systemctl >/dev/null; then
  for unit in $(systemctl list-units --type=swap --state=active --plain --no-legend 2>/dev/null | awk '{{print $1}}'); do
    systemctl mask --now "$unit"
    echo "swap unit $unit masked (systemctl unmask $unit to undo)"
  done
fi
swapoff -a
# Comment out swap lines so the kubelet still starts after a reboot.
if grep -qE {_FSTAB_SWAP} /etc/fstab; then
  cp -p /etc/fstab /etc/fstab.kwizard-backup
  sed -i -E 's/^([^#[:space:]][^#]*[[:space:]]swap[[:space:]].*)$/# kwizard: \\1/' /etc/fstab
  echo "swap lines in /etc/fstab commented out (backup: /etc/fstab.kwizard-backup)"
fi
# zram-generator(8)/zram-generator.conf(5): the first config found wins, /etc before /usr/lib;
# an empty {ZRAM_OVERRIDE} makes no zram device (Fedora's documented way to turn zram swap off).
if [ -e {ZRAM_DEFAULTS} ] || [ -e {ZRAM_OVERRIDE} ]; then
  if [ -s {ZRAM_OVERRIDE} ] && grep -q '^\\[zram' {ZRAM_OVERRIDE}; then
    cp -p {ZRAM_OVERRIDE} {ZRAM_OVERRIDE}.kwizard-backup
    echo "{ZRAM_OVERRIDE} backed up to {ZRAM_OVERRIDE}.kwizard-backup"
  fi
  if [ ! -e {ZRAM_OVERRIDE} ] || grep -q '^\\[zram' {ZRAM_OVERRIDE}; then
    install -d -m 0755 /etc/systemd
    : > {ZRAM_OVERRIDE}
    echo "zram swap off at boot: empty {ZRAM_OVERRIDE} written"
  fi
fi
echo "swap is off"
"""


def swap_probe() -> str:
    return f"""\
[ "$(awk 'NR>1' /proc/swaps | wc -l)" -eq 0 ]
! grep -qE {_FSTAB_SWAP} /etc/fstab
if command -v systemctl >/dev/null; then
  [ -z "$(systemctl list-units --type=swap --state=active --plain --no-legend 2>/dev/null)" ]
fi
if [ -e {ZRAM_DEFAULTS} ] || [ -e {ZRAM_OVERRIDE} ]; then
  [ -e {ZRAM_OVERRIDE} ] && ! grep -q '^\\[zram' {ZRAM_OVERRIDE}
fi
"""


# --- firewalld: open what this node's role and the plugin need ---


def firewall(add_args: Iterable[str]) -> str:
    """`add_args` are firewall-cmd options: --add-port=6443/tcp, --add-protocol=4 (IP-in-IP)."""
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
    # firewall-cmd(1): --query-port / --query-protocol print yes/no and exit 0/1.
    queries = "\n".join(f"firewall-cmd {arg.replace('--add-', '--query-', 1)} >/dev/null" for arg in add_args)
    return f"systemctl is-active --quiet firewalld || exit 0\n{queries}\n"


def firewall_disable() -> str:
    """Calico's requirement, with the user's consent (cluster.cni_options.disable_firewalld)."""
    # tigera/docs calico/getting-started/kubernetes/requirements (_system-requirements.mdx): "If your
    # Linux distribution comes with installed Firewalld or another iptables manager it should be disabled."
    return """\
if ! systemctl is-enabled --quiet firewalld 2>/dev/null && ! systemctl is-active --quiet firewalld; then
  echo "firewalld is not running or enabled: nothing to disable"
  exit 0
fi
systemctl disable --now firewalld
echo "firewalld stopped and disabled (Calico's requirement; cluster.cni_options.disable_firewalld)"
"""


def firewall_disable_probe() -> str:
    return "! systemctl is-active --quiet firewalld\n! systemctl is-enabled --quiet firewalld 2>/dev/null\n"


# tigera/docs calico/operations/troubleshoot/troubleshooting.mdx#configure-networkmanager (linked from
# calico/getting-started/kubernetes/requirements): NetworkManager must leave Calico's interfaces alone.
NETWORKMANAGER_CALICO_CONF = "/etc/NetworkManager/conf.d/calico.conf"
CALICO_INTERFACES = ("cali*", "tunl*", "vxlan.calico", "vxlan-v6.calico", "wireguard.cali", "wg-v6.cali")


def _networkmanager_conf() -> str:
    devices = ";".join(f"interface-name:{name}" for name in CALICO_INTERFACES)
    return f"[keyfile]\nunmanaged-devices={devices}\n"


def networkmanager_unmanaged() -> str:
    """Write Calico's conf.d file where NetworkManager is installed, and make a running one re-read it."""
    return f"""\
if [ ! -d /etc/NetworkManager ]; then
  echo "NetworkManager is not installed: nothing to configure"
  exit 0
fi
install -d -m 0755 /etc/NetworkManager/conf.d
{heredoc(NETWORKMANAGER_CALICO_CONF, _networkmanager_conf())}if systemctl is-active --quiet NetworkManager; then
  systemctl reload NetworkManager
fi
echo "NetworkManager: Calico's interfaces unmanaged ({NETWORKMANAGER_CALICO_CONF})"
"""


def networkmanager_unmanaged_probe() -> str:
    return f"[ ! -d /etc/NetworkManager ] || [ \"$(cat {NETWORKMANAGER_CALICO_CONF} 2>/dev/null)\" = {q(_networkmanager_conf().rstrip())} ]\n"


# --- packages: containerd, the tools kubeadm's preflight looks for, kubeadm/kubelet/kubectl ---
# One script per family, chosen from the host's facts (docs/upstream.md has the table):
#   apt    Debian, Ubuntu                    containerd and conntrack from the distribution
#   rhel   Rocky, RHEL, Alma, CentOS Stream  containerd.io from Docker's repository, conntrack-tools
#   fedora Fedora                            containerd and conntrack-tools from Fedora
# Without facts (a dry run that reached no host) the script picks the family at run time.

PACKAGE_FAMILIES = ("apt", "rhel", "fedora")
# kubernetes/kubernetes cmd/kubeadm/app/preflight/checks_linux.go addExecChecks: conntrack is
# mandatory below 1.32, ip/iptables/mount/nsenter always; ebtables/ethtool/socat/tc/touch warn.
# ip, mount, nsenter, tc and touch come with every base system; the rest are installed here.
PREFLIGHT_PACKAGES = {
    "apt": ("conntrack", "iptables", "ebtables", "ethtool", "socat"),
    # RHEL 9 / Fedora: ebtables is iptables-nft's ebtables-nft; iproute-tc brings tc.
    "rhel": ("conntrack-tools", "iptables-nft", "ethtool", "socat", "iproute-tc"),
    "fedora": ("conntrack-tools", "iptables-nft", "ethtool", "socat", "iproute-tc"),
}
PREFLIGHT_TOOLS = ("conntrack", "iptables", "ethtool", "socat")  # what the probe wants on every family
KUBE_PACKAGES = ("kubelet", "kubeadm", "kubectl")
# docs.docker.com/engine/install/centos (and /rhel): the repository file containerd.io comes from.
DOCKER_REPO = "https://download.docker.com/linux/{os}/docker-ce.repo"


def docker_repo_url(os_id: str) -> str:
    """RHEL itself has Docker's rhel repository; Rocky, Alma and CentOS Stream use the centos one."""
    return DOCKER_REPO.format(os="rhel" if os_id == "rhel" else "centos")


def kube_package_args(family: str, patch: str | None) -> str:
    """kubelet kubeadm kubectl, pinned to one patch release when the profile names one.

    apt takes `NAME=VERSION` with a glob over pkgs.k8s.io's revision (kubeadm=1.33.2-*, as
    kubernetes/website .../kubeadm/kubeadm-upgrade.md writes it); dnf takes `NAME-VERSION`
    (kubeadm-1.33.2, any release of that version).
    """
    if patch is None:
        return " ".join(KUBE_PACKAGES)
    form = "{name}={patch}-*" if family == "apt" else "{name}-{patch}"
    return " ".join(q(form.format(name=name, patch=patch)) for name in KUBE_PACKAGES)


def _apt_packages(minor: str, patch: str | None) -> str:
    base = f"https://pkgs.k8s.io/core:/stable:/v{minor}"
    tools = " ".join(PREFLIGHT_PACKAGES["apt"])
    return f"""\
export DEBIAN_FRONTEND=noninteractive
# kubernetes/website .../tools/kubeadm/install-kubeadm.md (Debian-based distributions)
apt-get update
apt-get install -y apt-transport-https ca-certificates curl gpg
# .../production-environment/container-runtimes.md (containerd): the distribution's containerd;
# cmd/kubeadm/app/preflight/checks_linux.go addExecChecks: the binaries kubeadm's preflight looks for
apt-get install -y containerd {tools}
echo "from the distribution, now present: containerd {tools}"
install -d -m 0755 /etc/apt/keyrings
curl -fsSL {base}/deb/Release.key | gpg --dearmor --yes -o /etc/apt/keyrings/kubernetes-apt-keyring.gpg
echo 'deb [signed-by=/etc/apt/keyrings/kubernetes-apt-keyring.gpg] {base}/deb/ /' > /etc/apt/sources.list.d/kubernetes.list
echo "apt repository pkgs.k8s.io v{minor}: /etc/apt/sources.list.d/kubernetes.list"
apt-get update
apt-get install -y {kube_package_args("apt", patch)}
apt-mark hold {" ".join(KUBE_PACKAGES)}
"""


def _selinux_permissive() -> str:
    return """\
# kubernetes/website .../tools/kubeadm/install-kubeadm.md (Red Hat-based distributions): SELinux permissive
if command -v getenforce >/dev/null && [ "$(getenforce)" = Enforcing ]; then
  setenforce 0
  echo "SELinux: Enforcing -> Permissive now (setenforce 0)"
fi
if [ -f /etc/selinux/config ] && grep -q '^SELINUX=enforcing$' /etc/selinux/config; then
  sed -i 's/^SELINUX=enforcing$/SELINUX=permissive/' /etc/selinux/config
  echo "SELinux: SELINUX=permissive in /etc/selinux/config (kept after a reboot)"
fi
"""


def _kubernetes_repo(minor: str) -> str:
    base = f"https://pkgs.k8s.io/core:/stable:/v{minor}"
    return f"""\
# kubernetes/website .../tools/kubeadm/install-kubeadm.md (Red Hat-based distributions): the yum repository
cat > /etc/yum.repos.d/kubernetes.repo <<'KWIZARD_EOF'
[kubernetes]
name=Kubernetes
baseurl={base}/rpm/
enabled=1
gpgcheck=1
gpgkey={base}/rpm/repodata/repomd.xml.key
exclude=kubelet kubeadm kubectl cri-tools kubernetes-cni
KWIZARD_EOF
echo "dnf repository pkgs.k8s.io v{minor}: /etc/yum.repos.d/kubernetes.repo"
"""


def _rhel_packages(minor: str, patch: str | None, docker_repo: str) -> str:
    tools = " ".join(PREFLIGHT_PACKAGES["rhel"])
    return (_selinux_permissive() + f"""\
# .../production-environment/container-runtimes.md (containerd) -> containerd's getting-started.md:
# RHEL, Rocky and Alma ship no containerd; docs.docker.com/engine/install/centos: Docker's repository
# has containerd.io (dnf config-manager comes with dnf-plugins-core)
dnf install -y dnf-plugins-core
dnf config-manager --add-repo {docker_repo}
echo "dnf repository Docker: {docker_repo}"
# cmd/kubeadm/app/preflight/checks_linux.go addExecChecks: the binaries kubeadm's preflight looks for
dnf install -y containerd.io {tools}
echo "now present: containerd.io (Docker's repository) {tools}"
""" + _kubernetes_repo(minor) + f"""\
dnf install -y {kube_package_args("rhel", patch)} --disableexcludes=kubernetes
""")


def _fedora_packages(minor: str, patch: str | None) -> str:
    tools = " ".join(PREFLIGHT_PACKAGES["fedora"])
    return (_selinux_permissive() + f"""\
# .../production-environment/container-runtimes.md (containerd): Fedora ships containerd itself;
# cmd/kubeadm/app/preflight/checks_linux.go addExecChecks: the binaries kubeadm's preflight looks for
dnf install -y containerd {tools}
echo "from Fedora, now present: containerd {tools}"
""" + _kubernetes_repo(minor) + f"""\
dnf install -y {kube_package_args("fedora", patch)} --disableexcludes=kubernetes
""")


def _containerd_and_services() -> str:
    return """\
# .../production-environment/container-runtimes.md (containerd, "Configuring the systemd cgroup driver"):
# a packaged containerd may ship with the CRI plugin disabled (containerd.io does); kubeadm's kubelet
# uses the systemd cgroup driver, so containerd must too.
install -d -m 0755 /etc/containerd
containerd config default | sed 's/SystemdCgroup = false/SystemdCgroup = true/' > /etc/containerd/config.toml
echo "containerd: /etc/containerd/config.toml from 'containerd config default', SystemdCgroup = true"
systemctl restart containerd
systemctl enable --now containerd
# install-kubeadm.md: enable the kubelet (it restarts in a loop until kubeadm init/join configures it)
systemctl enable --now kubelet
echo "installed: $(kubeadm version -o short 2>/dev/null || echo 'kubeadm ?'); $(kubelet --version 2>/dev/null || echo 'kubelet ?')"
"""


def packages(minor: str, patch: str | None = None, family: str | None = None, os_id: str = "") -> str:
    """Install for one family (see PACKAGE_FAMILIES), or, with no family, pick it on the host at run time.

    `patch` ("1.33.2") pins kubeadm/kubelet/kubectl to that release; without it the newest
    patch of the minor's pkgs.k8s.io repository is installed.
    """
    if family == "apt":
        body = _apt_packages(minor, patch)
    elif family == "rhel":
        body = _rhel_packages(minor, patch, docker_repo_url(os_id))
    elif family == "fedora":
        body = _fedora_packages(minor, patch)
    elif family is None:
        body = f"""\
. /etc/os-release
if command -v apt-get >/dev/null; then
{_indent(_apt_packages(minor, patch))}elif command -v dnf >/dev/null && [ "$ID" = fedora ]; then
{_indent(_fedora_packages(minor, patch))}elif command -v dnf >/dev/null && [ "$ID" = rhel ]; then
{_indent(_rhel_packages(minor, patch, docker_repo_url("rhel")))}elif command -v dnf >/dev/null; then
{_indent(_rhel_packages(minor, patch, docker_repo_url("centos")))}else
  echo "no apt-get or dnf on this host: install containerd, conntrack, kubelet, kubeadm and kubectl {minor} by hand" >&2
  exit 1
fi
"""
    else:
        raise ValueError(f"no package script for {family!r}")
    return body + _containerd_and_services()


def _indent(text: str) -> str:
    """Indent every line but heredoc bodies (their text and end marker must stay as written)."""
    out, in_heredoc = [], False
    for line in text.splitlines():
        out.append(line if in_heredoc or not line else "  " + line)
        if line.rstrip().endswith("<<'KWIZARD_EOF'"):
            in_heredoc = True
        elif line == "KWIZARD_EOF":
            in_heredoc = False
    return "\n".join(out) + "\n"


def installed_versions() -> str:
    """What the packages step installed, in the facts script's sections (read back by the step's after-work)."""
    sockets = " ".join(CRI_SOCKET_PATHS)
    return f"""\
set +e
printf '==kwizard:kubeadm==\\n'; kubeadm version -o short 2>/dev/null
printf '==kwizard:kubelet==\\n'; kubelet --version 2>/dev/null
printf '==kwizard:kubectl==\\n'; kubectl version --client 2>/dev/null
printf '==kwizard:cri_sockets==\\n'; for s in {sockets}; do [ -S "$s" ] && echo "$s"; done
printf '==kwizard:end==\\n'
exit 0
"""


def packages_probe(minor: str, patch: str | None = None, family: str | None = None) -> str:
    wanted = f"v{patch}" if patch else f"v{minor}.*"
    selinux = "" if family == "apt" else """\
if command -v getenforce >/dev/null; then [ "$(getenforce)" != Enforcing ]; fi
if [ -f /etc/selinux/config ]; then ! grep -q '^SELINUX=enforcing$' /etc/selinux/config; fi
"""
    return f"""\
for tool in kubeadm kubelet kubectl containerd {" ".join(PREFLIGHT_TOOLS)}; do command -v "$tool" >/dev/null; done
case "$(kubeadm version -o short)" in {wanted}) ;; *) exit 1 ;; esac
grep -q 'SystemdCgroup = true' /etc/containerd/config.toml
systemctl is-enabled --quiet kubelet
""" + selinux


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



def _cri_socket_choice(cri_socket: str | None) -> str:
    """Set $cri: the socket the profile or the facts chose; else the one socket the host has.

    kubeadm reset on a node without a cluster config (a worker, or a second reset) detects the
    socket itself and refuses when it finds several (cmd/kubeadm/app/cmd/reset.go newResetData ->
    utilruntime.DetectCRISocket): the kubelet's own setting (kubeadm-flags.env) decides then.
    """
    if cri_socket:
        return f"cri={q(cri_socket)}\n"
    from kwizard.kube.cri import CRI_SOCKET_PATHS  # noqa: PLC0415 - kube.cri imports nothing of the plan

    paths = " ".join(CRI_SOCKET_PATHS)
    return f"""\
cri=""
found=""
for s in {paths}; do if [ -S "$s" ]; then found="$found unix://$s"; fi; done
set -- $found
if [ "$#" -eq 1 ]; then
  cri=$1
elif [ "$#" -gt 1 ]; then
  cri=$(sed -n 's/.*--container-runtime-endpoint=\\([^" ]*\\).*/\\1/p' /var/lib/kubelet/kubeadm-flags.env 2>/dev/null | head -n 1)
  if [ -z "$cri" ]; then
    echo "several container runtime sockets ($found) and no kubelet setting says which: set cluster.cri_socket in the profile" >&2
    exit 1
  fi
fi
"""


def kubeadm_reset(cri_socket: str | None = None) -> str:
    """kubeadm reset with the CRI socket named, then kwizard's own files (manifests, a Weave password left by a failed step)."""
    # cmd/kubeadm/app/cmd/reset.go: `kubeadm reset -f [--cri-socket URL]`; phases/reset/cleanupnode.go
    # removes /etc/kubernetes/{manifests,pki,*.conf} but not other folders under /etc/kubernetes.
    return _cri_socket_choice(cri_socket) + f"""\
kubeadm reset -f ${{cri:+--cri-socket "$cri"}}
rm -rf {KWIZARD_DIR}
echo "removed {KWIZARD_DIR} (kwizard's kubeadm config and network plugin manifests)"
"""


def reset_cleanups(flush_iptables: bool, clear_ipvs: bool, remove_cni_config: bool) -> str:
    """What the user asked for besides kubeadm reset; every line safe to run again."""
    # kubeadm reset's own closing words (phases/reset/cleanupnode.go): it does not clean CNI config,
    # iptables rules or IPVS tables and says to use iptables / ipvsadm --clear / remove /etc/cni/net.d.
    lines = []
    if flush_iptables:
        lines.append("iptables -F && iptables -t nat -F && iptables -t mangle -F && iptables -X")
        lines.append("echo 'iptables rules flushed'")
    if clear_ipvs:
        lines.append("if command -v ipvsadm >/dev/null; then ipvsadm --clear; echo 'IPVS tables cleared'; fi")
    if remove_cni_config:
        lines.append("rm -rf /etc/cni/net.d && echo 'removed /etc/cni/net.d'")
    return "\n".join(lines) + "\n" if lines else ""


def reset_probe() -> str:
    return (
        "! test -e /etc/kubernetes/kubelet.conf && ! test -e /etc/kubernetes/admin.conf && "
        f"! ls /etc/kubernetes/manifests/*.yaml >/dev/null 2>&1 && ! test -e {KWIZARD_DIR}\n"
    )


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
