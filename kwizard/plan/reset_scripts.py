"""The reset plan's scripts: drain and delete a node, `kubeadm reset` with the right CRI socket, the clean-ups it leaves to the user, and what is left behind.
"""

from __future__ import annotations


from kwizard.plan.scripts import KUBECTL, KWIZARD_DIR, LEFTOVER_INTERFACES, LEFTOVER_PATHS, q


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
