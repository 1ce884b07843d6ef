"""The firewall's scripts: firewalld ports and protocols for each node's role and plugin, firewalld off for Calico (with consent), NetworkManager told to leave Calico's interfaces alone.
"""

from __future__ import annotations

from collections.abc import Iterable

from kwizard.plan.scripts import heredoc, q


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
