# kwizard lab simulator support -- NOT the real kubeadm.
# `kubeadm certs check-expiration` and `kubeadm certs renew all`, as kubeadm prints them
# (cmd/kubeadm/app/cmd/certs.go: a tabwriter table, "Jan 02, 2006 15:04 MST", the residual time
# as duration.ShortHumanDuration). The expiry dates live in the cluster state ("certs"), made at
# init time: leaf certificates 1 year, CAs 10 years, as kubeadm's defaults.
from __future__ import annotations

import os
import time
from pathlib import Path

import common

YEAR = 365 * 86400
# name -> (what `renew` calls it, its CA); kubeadm's order (alphabetical)
LEAVES = {
    "admin.conf": ("certificate embedded in the kubeconfig file for the admin to use and for kubeadm itself", "ca"),
    "apiserver": ("certificate for serving the Kubernetes API", "ca"),
    "apiserver-etcd-client": ("certificate the apiserver uses to access etcd", "etcd-ca"),
    "apiserver-kubelet-client": ("certificate for the API server to connect to kubelet", "ca"),
    "controller-manager.conf": ("certificate embedded in the kubeconfig file for the controller manager to use", "ca"),
    "etcd-healthcheck-client": ("certificate for liveness probes to healthcheck etcd", "etcd-ca"),
    "etcd-peer": ("certificate for etcd nodes to communicate with each other", "etcd-ca"),
    "etcd-server": ("certificate for serving etcd", "etcd-ca"),
    "front-proxy-client": ("certificate for the front proxy client", "front-proxy-ca"),
    "scheduler.conf": ("certificate embedded in the kubeconfig file for the scheduler manager to use", "ca"),
    "super-admin.conf": ("certificate embedded in the kubeconfig file for the super-admin", "ca"),
}
CAS = ("ca", "etcd-ca", "front-proxy-ca")
STACK_HINT = "To see the stack trace of this error execute with --v=5 or higher"


def initial(now: float) -> dict:
    return {"leaves": {name: now + YEAR for name in LEAVES}, "cas": {name: now + 10 * YEAR for name in CAS}}


def short_human(seconds: float) -> str:
    """k8s.io/apimachinery/pkg/util/duration.ShortHumanDuration."""
    if seconds < -1:
        return "<invalid>"
    seconds = max(int(seconds), 0)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 48 * 3600:
        return f"{seconds // 3600}h"
    if seconds < 365 * 86400:
        return f"{seconds // 86400}d"
    return f"{seconds // (365 * 86400)}y"


def _when(ts: float) -> str:
    return time.strftime("%b %d, %Y %H:%M UTC", time.gmtime(ts))


def _table(headers: list[str], rows: list[list[str]]) -> str:
    # text/tabwriter with minwidth 10, padding 3 (kubeadm's printer), trailing cells padded too
    widths = [max(10, *(len(r[i]) for r in [headers, *rows])) + 3 for i in range(len(headers))]
    return "".join("".join(cell.ljust(widths[i]) if i < len(row) - 1 else cell + "      "
                           for i, cell in enumerate(row)).rstrip(" ") + ("\n" if row is headers else "      \n")
                   for row in [headers, *rows])


def _require_pki() -> dict:
    if not common.is_root():
        common.fail("failed to load existing certificate ca: open /etc/kubernetes/pki/ca.crt: permission denied\n"
                    + STACK_HINT)
    if not Path("/etc/kubernetes/pki/ca.crt").exists():
        common.fail("failed to load existing certificate ca: open /etc/kubernetes/pki/ca.crt: no such file or directory"
                    "\n" + STACK_HINT)
    cluster = common.read_state()["cluster"]
    if not cluster or "certs" not in cluster:
        common.fail("kwizard lab simulator: this host's PKI was not made by the simulated kubeadm init")
    return cluster


def check_expiration(argv: list[str]) -> int:
    certs = _require_pki()["certs"]
    now = time.time()
    print('[check-expiration] Reading configuration from the "kubeadm-config" ConfigMap in namespace "kube-system"...')
    print("[check-expiration] Use 'kubeadm init phase upload-config --config your-config-file' to re-upload it.\n")
    rows = [[name, _when(certs["leaves"][name]), short_human(certs["leaves"][name] - now), ca, "no"]
            for name, (_, ca) in LEAVES.items()]
    print(_table(["CERTIFICATE", "EXPIRES", "RESIDUAL TIME", "CERTIFICATE AUTHORITY", "EXTERNALLY MANAGED"], rows))
    rows = [[name, _when(certs["cas"][name]), short_human(certs["cas"][name] - now), "no"] for name in CAS]
    print(_table(["CERTIFICATE AUTHORITY", "EXPIRES", "RESIDUAL TIME", "EXTERNALLY MANAGED"], rows), end="")
    return 0


def renew(argv: list[str]) -> int:
    if not argv:
        common.fail('Error: missing subcommand; "renew" is not meant to be run on its own\n'
                    "See 'kubeadm certs renew -h' for help and examples")
    which = argv[0]
    if which != "all" and which not in LEAVES:
        common.fail(f'unknown command "{which}" for "kubeadm certs renew"')
    _require_pki()
    common.apply_command_faults("kubeadm certs renew " + " ".join(argv))
    print("[renew] Reading configuration from the cluster...")
    print("[renew] FYI: You can look at this config file with 'kubectl -n kube-system get cm kubeadm-config -o yaml'\n")
    names = list(LEAVES) if which == "all" else [which]
    with common.locked_state() as state:
        leaves = state["cluster"]["certs"]["leaves"]
        for name in names:
            leaves[name] = time.time() + YEAR
    for name in names:
        print(f"{LEAVES[name][0]} renewed")
    print("\nDone renewing certificates. You must restart the kube-apiserver, kube-controller-manager, "
          "kube-scheduler and etcd, so that they can use the new certificates.")
    return 0


def main(argv: list[str]) -> int:
    sub = argv[0] if argv else ""
    if sub == "check-expiration":
        return check_expiration(argv[1:])
    if sub == "renew":
        return renew(argv[1:])
    common.fail(f'unknown command "{sub}" for "kubeadm certs"\n'
                "(kwizard lab simulator: supports check-expiration, renew)")
    return 1


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))
