"""The one script facts runs on each host, and the splitting of its answer into sections.

Everything is asked in one round trip: the script prints each answer under a
`==kwizard:NAME==` line. Each probe is allowed to fail (the host may lack the
tool) and slow tools get `timeout`, so one missing or stuck program costs a
section, never the whole answer. Names are looked up in parallel with a short
limit: a name nobody can resolve otherwise waits out the DNS timeouts
(20 s and more) one after another. Each lookup writes its own file, read back
by the shell itself: two processes per name (`timeout`, `getent`), not the
five of a pipeline in a subshell, which at 40 hosts × 40 names was the
largest part of the script. (Not one `timeout` over every lookup: on a busy
host the last lookups would start after it expired and read as unresolved.)
`ahostsv4`, not `hosts`: the cluster is IPv4, and `hosts` asks DNS for an
IPv6 address even for a name /etc/hosts has.
"""

from __future__ import annotations

import re
import shlex

from kwizard.kube.cri import CRI_SOCKET_PATHS

SECTION = re.compile(r"^==kwizard:([a-z_]+)==$", re.MULTILINE)

# kubeadm's own preflight (kubernetes/kubernetes cmd/kubeadm/app/preflight/checks_linux.go,
# addExecChecks): missing these is an error, missing those a warning; conntrack is an error
# only below Kubernetes 1.32 (kube-proxy stopped needing it, kubernetes/kubernetes#126952).
REQUIRED_BINARIES = ("ip", "iptables", "mount", "nsenter")
WANTED_BINARIES = ("ebtables", "ethtool", "socat", "tc", "touch")
REQUIRED_BELOW_1_32 = ("conntrack",)


CLUSTER_FILES = ("/etc/kubernetes/admin.conf", "/etc/kubernetes/kubelet.conf", "/etc/kubernetes/super-admin.conf")

_BODY = r"""
set +e +u +o pipefail
export PATH="$PATH:/usr/local/sbin:/usr/local/bin:/usr/sbin:/sbin"
section() { printf '\n==kwizard:%s==\n' "$1"; }
quick() { timeout 10 "$@" 2>/dev/null; }
section uid; id -u
section hostname; hostname
section os_release; cat /etc/os-release 2>/dev/null
section kernel; uname -r
section ip_addr; ip -j addr 2>/dev/null
section ip_route; ip -j route 2>/dev/null
section swaps; cat /proc/swaps 2>/dev/null
section meminfo; grep -E '^(MemTotal|SwapTotal):' /proc/meminfo
section cpus; nproc
section ip_forward; cat /proc/sys/net/ipv4/ip_forward 2>/dev/null
section bridge_nf; cat /proc/sys/net/bridge/bridge-nf-call-iptables 2>/dev/null
section product_uuid; cat /sys/class/dmi/id/product_uuid 2>/dev/null
section machine_id; cat /etc/machine-id 2>/dev/null
section binaries
for b in $BINARIES; do if command -v "$b" >/dev/null 2>&1; then echo "$b yes"; else echo "$b no"; fi; done
section kubeadm; command -v kubeadm >/dev/null && quick kubeadm version -o short
section kubelet; command -v kubelet >/dev/null && quick kubelet --version
section kubectl; command -v kubectl >/dev/null && quick kubectl version --client
section cri_sockets; for s in $CRI_SOCKETS; do [ -S "$s" ] && echo "$s"; done
section firewalld; quick systemctl is-active firewalld || quick firewall-cmd --state
section kubelet_enabled; quick systemctl is-enabled kubelet
section cluster_files
for f in $CLUSTER_FILES /etc/kubernetes/manifests/*.yaml; do [ -e "$f" ] && echo "$f"; done
section cluster_cidr; grep -ho -- '--cluster-cidr=[^"[:space:]]*' /etc/kubernetes/manifests/kube-controller-manager.yaml 2>/dev/null
section etcd_data; ls -A /var/lib/etcd 2>/dev/null | head -n 3
section listening; ss -ltnH 2>/dev/null
section resolves
me=$(hostname)
d=$(mktemp -d) && {
  i=0; for n in $NAMES "$me"; do timeout 2 getent ahostsv4 "$n" > "$d/$i" 2>/dev/null & i=$((i+1)); done
  wait
  i=0; for n in $NAMES "$me"; do a=; read -r a _ < "$d/$i"; echo "$n ${a:--}"; i=$((i+1)); done
  rm -rf "$d"
}
section cni_config; ls -1 /etc/cni/net.d 2>/dev/null
section cni_workloads
if [ -f /etc/kubernetes/admin.conf ] && command -v kubectl >/dev/null 2>&1; then
  for kind in daemonsets deployments; do
    quick kubectl --kubeconfig=/etc/kubernetes/admin.conf --request-timeout=5s get "$kind" -A -o name
  done
fi
section package_manager
for p in apt-get dnf yum zypper; do command -v "$p" >/dev/null 2>&1 && { echo "$p"; break; }; done
section selinux; command -v getenforce >/dev/null && quick getenforce
section swap_units; quick systemctl list-units --type=swap --state=active --plain --no-legend
section end
"""


def facts_script(names_to_resolve: list[str]) -> str:
    """The script, with the lists it loops over set as shell words."""
    variables = {
        "BINARIES": REQUIRED_BELOW_1_32 + REQUIRED_BINARIES + WANTED_BINARIES,
        "CRI_SOCKETS": CRI_SOCKET_PATHS,
        "CLUSTER_FILES": CLUSTER_FILES,
        "NAMES": tuple(names_to_resolve),
    }
    header = "\n".join(f"{name}={shlex.quote(' '.join(words))}" for name, words in variables.items())
    return header + _BODY


def split_sections(text: str) -> dict[str, str]:
    """{section name: its text, stripped}. Text before the first marker is dropped."""
    parts = SECTION.split(text)
    return {name: body.strip() for name, body in zip(parts[1::2], parts[2::2])}
