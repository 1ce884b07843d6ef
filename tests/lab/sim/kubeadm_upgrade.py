# kwizard lab simulator support -- NOT the real kubeadm.
# `kubeadm upgrade plan|apply|node`: kubeadm's output (abridged) and its refusals, from
# kubernetes/kubernetes cmd/kubeadm/app/cmd/upgrade/{plan,apply,node}.go and the version skew policy
# in cmd/kubeadm/app/phases/upgrade/policy.go (EnforceVersionPolicies). The cluster's version is
# `cluster.kubernetes_version` in the lab state; a node's kubelet version changes only when its
# kubelet package is upgraded and the kubelet restarted (sim/systemctl).
from __future__ import annotations

import os

import common

STACK_HINT = "To see the stack trace of this error execute with --v=5 or higher"
CONFIG_LINES = ('[upgrade] Reading configuration from the "kubeadm-config" ConfigMap in namespace "kube-system"...\n'
                "[upgrade] Use 'kubeadm init phase upload-config --config your-config-file' to re-upload it.")


def _parts(version: str) -> tuple[int, int, int]:
    major, minor, patch = (version.lstrip("v").split("-")[0].split(".") + ["0", "0"])[:3]
    return int(major), int(minor), int(patch)


def _cluster() -> dict:
    if not common.is_root():
        common.fail("error execution phase preflight: [preflight] Some fatal errors occurred:\n"
                    "\t[ERROR IsPrivilegedUser]: user is not running as root\n" + STACK_HINT)
    if not os.path.exists("/etc/kubernetes/kubelet.conf") and not os.path.exists("/etc/kubernetes/admin.conf"):
        common.fail("couldn't create a Kubernetes client from file \"/etc/kubernetes/admin.conf\": failed to load "
                    "admin kubeconfig: open /etc/kubernetes/admin.conf: no such file or directory\n" + STACK_HINT)
    cluster = common.read_state().get("cluster")
    if not cluster:
        common.fail("unable to fetch the kubeadm-config ConfigMap: the server could not be reached\n" + STACK_HINT)
    return cluster


def policy_errors(new: str, cluster: str, kubeadm: str) -> tuple[list[str], list[str]]:
    """(mandatory, skippable) as policy.go EnforceVersionPolicies words them."""
    n, c, k = _parts(new), _parts(cluster), _parts(kubeadm)
    mandatory, skippable = [], []
    if n[1] > c[1] + 1:
        mandatory.append(f'Specified version to upgrade to "{new}" is too high; kubeadm can upgrade only 1 minor '
                         "version at a time")
    if n[1] < c[1] - 1:
        mandatory.append(f'Specified version to downgrade to "{new}" is too low; kubeadm can downgrade only 1 minor '
                         "version at a time")
    if k < n:
        if n[1] > k[1]:
            mandatory.append(f'Specified version to upgrade to "{new}" is at least one minor release higher than the '
                             f"kubeadm minor release ({n[1]} > {k[1]}). Such an upgrade is not supported")
        else:
            skippable.append(f'Specified version to upgrade to "{new}" is higher than the kubeadm version "{kubeadm}". '
                             "Upgrade kubeadm first using the tool you used to install kubeadm")
    if k[1] > n[1]:
        skippable.append(f"Kubeadm version {kubeadm} can only be used to upgrade to Kubernetes version {k[0]}.{k[1]}")
    return mandatory, skippable


def plan(argv) -> int:
    cluster = _cluster()
    current, kubeadm = cluster["kubernetes_version"], common.tool_version("kubeadm")
    common.apply_command_faults("kubeadm upgrade plan " + " ".join(argv))
    print("[preflight] Running pre-flight checks.\n" + CONFIG_LINES)
    print("[upgrade] Running cluster health checks\n[upgrade] Fetching available versions to upgrade to")
    print(f"[upgrade/versions] Cluster version: {current}\n[upgrade/versions] kubeadm version: {kubeadm}")
    if _parts(kubeadm) <= _parts(current):
        print("[upgrade/versions] Target version: " + kubeadm)
        print("\nAwesome, you're up-to-date! Enjoy!")
        return 0
    state = common.read_state()
    print(f"[upgrade/versions] Target version: {kubeadm}")
    print("\nComponents that must be upgraded manually after you have upgraded the control plane with "
          "'kubeadm upgrade apply':\nCOMPONENT   NODE" + " " * 12 + "CURRENT   TARGET")
    for node in state["nodes"].values():
        print(f"kubelet     {node['name']:<16}{node.get('kubelet_version') or current:<10}{kubeadm}")
    print("\nUpgrade to the latest stable version:\n\nCOMPONENT                 NODE            CURRENT    TARGET")
    cp = cluster["control_plane"]
    for component in ("kube-apiserver", "kube-controller-manager", "kube-scheduler"):
        print(f"{component:<26}{cp:<16}{current:<11}{kubeadm}")
    print(f"{'kube-proxy':<42}{current.lstrip('v'):<11}{kubeadm}")
    print(f"\nYou can now apply the upgrade by executing the following command:\n\n\tkubeadm upgrade apply {kubeadm}\n")
    print("_" * 69)
    return 0


def apply(argv) -> int:
    args, flags = common.parse_args(argv, {"y", "yes", "f", "force", "dry-run"})
    if not args:
        common.fail("error: missing one or more required arguments. Required arguments: [version]\n" + STACK_HINT)
    cluster = _cluster()
    new = args[0] if args[0].startswith("v") else "v" + args[0]
    current, kubeadm = cluster["kubernetes_version"], common.tool_version("kubeadm")
    print(CONFIG_LINES + "\n[upgrade/preflight] Running preflight checks\n[upgrade] Running cluster health checks")
    print(f'[upgrade/preflight] You have chosen to upgrade the cluster version to "{new}"')
    print(f"[upgrade/versions] Cluster version: {current}\n[upgrade/versions] kubeadm version: {kubeadm}", flush=True)
    mandatory, skippable = policy_errors(new, current, kubeadm)
    forced = "f" in flags or "force" in flags
    if mandatory or (skippable and not forced):
        # cmd/kubeadm/app/cmd/upgrade/common.go enforceRequirements -> policy.go; --force skips the skippable ones
        lines = "".join(f"\t- {e}\n" for e in mandatory or skippable)
        kind = "fatal errors" if mandatory else "skippable errors"
        hint = ("Please fix the misalignments highlighted above and try upgrading again" if mandatory else
                "Can be bypassed if you pass the --force flag")
        common.fail(f"[upgrade/version] FATAL: the --version argument is invalid due to these {kind}:\n\n{lines}\n"
                    f"{hint}\n{STACK_HINT}")
    if not ("y" in flags or "yes" in flags):
        common.fail("[upgrade] Are you sure you want to proceed? [y/N]: error execution phase preflight: won't "
                    "proceed; the user didn't answer (Y|y) in order to continue\n" + STACK_HINT)
    common.apply_command_faults("kubeadm upgrade apply " + " ".join(argv))
    print("[upgrade/preflight] Pulling images required for setting up a Kubernetes cluster")
    print(f'[upgrade/control-plane] Upgrading your static Pod-hosted control plane to version "{new}" (timeout: 5m0s)...')
    for component in ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"):
        print(f"[upgrade/staticpods] Component \"{component}\" upgraded successfully!")
    with common.locked_state() as state:
        for node in state["nodes"].values():  # the kubelets keep their version until they are upgraded
            node.setdefault("kubelet_version", current)
        state["cluster"]["kubernetes_version"] = new
    print("[upgrade/addons] Applied essential addon: CoreDNS\n[upgrade/addons] Applied essential addon: kube-proxy")
    print(f'\n[upgrade] SUCCESS! A control plane node of your cluster was upgraded to "{new}".\n\n'
          "[upgrade] Now please proceed with upgrading the rest of the nodes by following the right order.")
    return 0


def node(argv) -> int:
    cluster = _cluster()
    current, kubeadm = cluster["kubernetes_version"], common.tool_version("kubeadm")
    common.apply_command_faults("kubeadm upgrade node " + " ".join(argv))
    # cmd/kubeadm/app/cmd/upgrade/node.go: the kubelet config comes from the cluster's kubelet-config
    # ConfigMap; a kubeadm older than the control plane cannot write it (lab's wording).
    if _parts(kubeadm)[:2] < _parts(current)[:2]:
        common.fail(f"[upgrade] FATAL: kubeadm {kubeadm} is older than the control plane ({current}): upgrade "
                    "kubeadm first\n" + STACK_HINT)
    control_plane = os.path.exists("/etc/kubernetes/manifests/kube-apiserver.yaml")
    print(CONFIG_LINES + "\n[upgrade/preflight] Running pre-flight checks")
    if not control_plane:
        print("[upgrade/preflight] Skipping prepull. Not a control plane node.\n"
              "[upgrade/control-plane] Skipping phase. Not a control plane node.\n"
              "[upgrade/kubeconfig] Skipping phase. Not a control plane node.")
    print('[upgrade] Backing up kubelet config file to /etc/kubernetes/tmp/kubeadm-kubelet-config/config.yaml\n'
          '[kubelet-start] Writing kubelet configuration to file "/var/lib/kubelet/config.yaml"\n'
          "[upgrade/kubelet-config] The kubelet configuration for this node was successfully upgraded!")
    if not control_plane:
        print("[upgrade/addon] Skipping the addon/coredns phase. Not a control plane node.\n"
              "[upgrade/addon] Skipping the addon/kube-proxy phase. Not a control plane node.")
    return 0


def main(argv) -> int:
    sub, rest = (argv[0], argv[1:]) if argv else ("", [])
    handlers = {"plan": plan, "apply": apply, "node": node}
    if sub not in handlers:
        common.fail(f'unknown command "{sub}" for "kubeadm upgrade"\n(kwizard lab simulator: plan, apply, node)')
    return handlers[sub](rest)
