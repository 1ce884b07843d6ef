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
