"""The packages step's scripts: the container runtime, the tools kubeadm's preflight looks for, and kubeadm/kubelet/kubectl from pkgs.k8s.io, one script per distribution family.
"""

from __future__ import annotations


from kwizard.kube.cri import CRI_SOCKET_PATHS
from kwizard.plan.scripts import q


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
