# kwizard lab simulator support -- NOT a real Kubernetes component.
# What the lab's "cluster" looks like right now, derived from the shared state:
# which network plugin was applied with which CIDR, whether nodes are Ready,
# and the pods (control plane, kube-proxy, CoreDNS, the CNI's) with their status
# and logs. The rule that matters: nodes become Ready only when a network plugin
# whose CIDR matches the cluster's podSubnet is applied; Flannel without a
# podSubnet crash-loops with "pod cidr not assigned" (the seed's failure).
from __future__ import annotations

import json

import common

SUFFIX = "bcdfghjklmnpqrstvwxz2456789"
NOT_READY = ("container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady "
             "message:Network plugin returns error: cni plugin not initialized")


def _within(cidr: str, subnet: str) -> bool:
    import ipaddress

    return ipaddress.ip_network(cidr).subnet_of(ipaddress.ip_network(subnet))


def suffix(seed: str, length: int = 5) -> str:
    import hashlib  # here, not at the top: most kubectl calls name no pod (OpenSSL's load is ~4 ms a process)

    digest = hashlib.sha256(seed.encode()).digest()
    return "".join(SUFFIX[b % len(SUFFIX)] for b in digest[:length])


# --- recognising a network plugin in applied objects --------------------------


def cni_of(doc: dict) -> tuple[str, str | None] | None:
    """(plugin, CIDR it carries) for the objects that decide a plugin's network, else None."""
    kind, meta = doc.get("kind"), doc.get("metadata") or {}
    name = meta.get("name", "")
    if kind == "ConfigMap" and name == "kube-flannel-cfg":
        net = json.loads((doc.get("data") or {}).get("net-conf.json", "{}"))
        return "flannel", net.get("Network")
    if kind == "Installation":
        pools = ((doc.get("spec") or {}).get("calicoNetwork") or {}).get("ipPools") or []
        return "calico", pools[0].get("cidr") if pools else None
    if kind == "DaemonSet" and name in ("weave-net", "calico-node"):
        plugin = "weave" if name == "weave-net" else "calico"
        wanted = "IPALLOC_RANGE" if plugin == "weave" else "CALICO_IPV4POOL_CIDR"
        default = "10.32.0.0/12" if plugin == "weave" else None
        for container in ((doc.get("spec") or {}).get("template") or {}).get("spec", {}).get("containers") or []:
            for env in container.get("env") or []:
                if env.get("name") == wanted and env.get("value"):
                    return plugin, env["value"]
        return plugin, default
    return None


def network(state: dict) -> dict | None:
    """The applied network plugin: {name, cidr, problem}; problem says why pods cannot work."""
    plugins = [m for m in state.get("manifests", []) if m.get("cni")]
    if not plugins:
        return None
    latest = plugins[-1]
    cluster = state.get("cluster") or {}
    pod_subnet, cidr, name = cluster.get("pod_subnet"), latest.get("cidr"), latest["cni"]
    problem = None
    if name == "calico" and not _has(state, "Deployment", "tigera-operator") and latest.get("kind") == "Installation":
        problem = "operator missing"
    elif name == "flannel" and not pod_subnet:
        problem = "pod cidr not assigned"
    elif name == "flannel" and cidr != pod_subnet:
        problem = f'subnet "{cidr}" specified in the flannel net config doesn\'t contain'
    elif pod_subnet and cidr and not _within(cidr, pod_subnet):
        problem = f"IP pool CIDR {cidr} is not within the cluster's podSubnet {pod_subnet}"
    return {"name": name, "cidr": cidr or pod_subnet, "problem": problem, "applied": latest["applied"]}


def _has(state: dict, kind: str, name: str) -> bool:
    return any(o["kind"] == kind and o["name"] == name for o in state.get("objects", {}).values())


# --- nodes ---------------------------------------------------------------------


def node_ready(state: dict, node: dict) -> bool:
    import time

    at = ready_at(state, node)
    return at is not None and time.time() >= at


def ready_at(state: dict, node: dict) -> float | None:
    """When the node reports Ready, None while it cannot (no kubelet, no working plugin).

    With realistic durations the kubelet pulls, one image at a time (serializeImagePulls),
    what it does not have yet: pause and kube-proxy from the moment the node exists (the
    kube-proxy DaemonSet is there since init), then the plugin's images once the plugin is
    applied; the node is Ready `cni-start` after its plugin pod can start. A worker that
    pulled them beforehand (kwizard's node-images step) only waits for the start.
    """
    import images

    net = network(state)
    if not (bool(node.get("kubelet")) and net is not None and net["problem"] is None):
        return None
    host, created = node.get("host", ""), node.get("created", 0.0)
    pause_and_proxy = images.node_needs(state, net["name"])[:2]
    proxy_done = created + common.duration("image-pull", images.missing_by(state, host, pause_and_proxy, created))
    plugin_from = max(net["applied"], proxy_done)
    plugin = images.plugin_node_images(net["name"])
    pulls = images.missing_by(state, host, plugin, plugin_from)
    return plugin_from + common.duration("image-pull", pulls) + common.duration("cni-start")


def node_status(state: dict, node: dict) -> str:
    status = "Ready" if node_ready(state, node) else "NotReady"
    return status + (",SchedulingDisabled" if node.get("unschedulable") else "")


def node_taints(state: dict, node: dict) -> list[dict]:
    taints = list(node.get("taints", []))
    if not node_ready(state, node):
        taints.append({"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"})
    if node.get("unschedulable"):
        taints.append({"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"})
    return taints


# --- pods ----------------------------------------------------------------------


# The labels the real pods carry, so `-l k8s-app=kube-dns` and friends select them.
LABELS = {
    "coredns": {"k8s-app": "kube-dns"}, "kube-proxy": {"k8s-app": "kube-proxy"},
    "flannel": {"app": "flannel", "k8s-app": "flannel", "tier": "node"}, "weave-net": {"name": "weave-net"},
    "calico-node": {"k8s-app": "calico-node"}, "calico-kube-controllers": {"k8s-app": "calico-kube-controllers"},
    "tigera-operator": {"k8s-app": "tigera-operator", "name": "tigera-operator"},
}


def _pod(ns, name, node, status="Running", ready="1/1", restarts=0, since=0.0, owner=None, app=None,
         container=None, message=None):
    app = app or name
    labels = LABELS.get(app, {"component": app, "tier": "control-plane"})
    return {"namespace": ns, "name": name, "node": node, "status": status, "ready": ready, "restarts": restarts,
            "created": since, "owner": owner, "app": app, "labels": labels, "container": container or app,
            "message": message}


def pods(state: dict, now: float) -> list[dict]:
    cluster = state.get("cluster")
    if not cluster:
        return []
    nodes = list(state["nodes"].values())
    cp = cluster["control_plane"]
    result = [_pod("kube-system", f"{c}-{cp}", cp, since=cluster["created"], app=c, container=c)
              for c in ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler")]
    for node in nodes:
        result.append(_pod("kube-system", f"kube-proxy-{suffix(node['name'] + 'proxy')}", node["name"],
                           since=node["created"], owner="DaemonSet/kube-proxy", app="kube-proxy"))
    ready_nodes = [n["name"] for n in nodes if node_ready(state, n)]
    for i in range(2):
        name = f"coredns-674b8bbfcf-{suffix(cluster['ca_hash'] + str(i))}"
        if ready_nodes:
            result.append(_pod("kube-system", name, ready_nodes[i % len(ready_nodes)], since=cluster["created"],
                               owner="ReplicaSet/coredns-674b8bbfcf", app="coredns"))
        else:
            result.append(_pod("kube-system", name, None, "Pending", "0/1", since=cluster["created"],
                               owner="ReplicaSet/coredns-674b8bbfcf", app="coredns"))
    net = network(state)
    if net:
        result += _cni_pods(state, net, nodes, now)
    return result


def _cni_pods(state: dict, net: dict, nodes: list[dict], now: float) -> list[dict]:
    since = net["applied"]
    # Restarts grow while a pod crash-loops, as kubectl would show them over time.
    restarts = 1 + int(now - since) // 20
    out = []
    if net["name"] == "flannel":
        for node in nodes:
            name = f"kube-flannel-ds-{suffix(node['name'] + 'flannel')}"
            if net["problem"]:
                out.append(_pod("kube-flannel", name, node["name"], "CrashLoopBackOff", "0/1", restarts, since,
                                "DaemonSet/kube-flannel-ds", "flannel", "kube-flannel",
                                f"back-off 5m0s restarting failed container=kube-flannel pod={name}_kube-flannel"))
            else:
                out.append(_pod("kube-flannel", name, node["name"], since=since, owner="DaemonSet/kube-flannel-ds",
                                app="flannel", container="kube-flannel"))
    elif net["name"] == "weave":
        for node in nodes:
            out.append(_pod("kube-system", f"weave-net-{suffix(node['name'] + 'weave')}", node["name"], ready="2/2",
                            since=since, owner="DaemonSet/weave-net", app="weave-net", container="weave"))
    else:
        if _has(state, "Deployment", "tigera-operator"):
            out.append(_pod("tigera-operator", f"tigera-operator-{suffix('op', 10)}-{suffix('op2')}",
                            state["cluster"]["control_plane"], since=since, owner="ReplicaSet/tigera-operator",
                            app="tigera-operator"))
        if not net["problem"]:
            for node in nodes:
                out.append(_pod("calico-system", f"calico-node-{suffix(node['name'] + 'calico')}", node["name"],
                                since=since, owner="DaemonSet/calico-node", app="calico-node"))
            out.append(_pod("calico-system", f"calico-kube-controllers-{suffix('kc', 10)}-{suffix('kc2')}",
                            state["cluster"]["control_plane"], since=since, app="calico-kube-controllers"))
    return out


def logs(state: dict, pod: dict) -> list[str]:
    when = pod["created"]
    if pod["app"] != "flannel":
        return [common.klog("I", "main.go:42", f"kwizard lab: {pod['name']} running (simulated)", when)]
    node = pod["node"]
    lines = [
        common.klog("I", "main.go:211", "CLI flags config: {etcdEndpoints:http://127.0.0.1:4001,http://127.0.0.1:2379 "
                    "etcdPrefix:/coreos.com/network kubeSubnetMgr:true kubeAnnotationPrefix:flannel.alpha.coreos.com "
                    "iface:[] ifaceRegex:[] ipMasq:true subnetFile:/run/flannel/subnet.env "
                    "netConfPath:/etc/kube-flannel/net-conf.json setNodeNetworkUnavailable:true}", when),
        common.klog("W", "client_config.go:659", "Neither --kubeconfig nor --master was specified.  Using the "
                    "inClusterConfig.  This might not work.", when),
        common.klog("I", "kube.go:139", "Waiting 10m0s for node controller to sync", when),
        common.klog("I", "kube.go:469", "Starting kube subnet manager", when),
        common.klog("I", "kube.go:146", "Node controller sync successful", when),
        common.klog("I", "main.go:231", f"Created subnet manager: Kubernetes Subnet Manager - {node}", when),
        common.klog("I", "main.go:234", "Installing signal handlers", when),
        common.klog("I", "main.go:468", "Found network config - Backend type: vxlan", when),
    ]
    net = network(state) or {}
    problem = net.get("problem")
    node_cidr = (state["nodes"].get(node) or {}).get("pod_cidr")
    if problem == "pod cidr not assigned":
        lines.append(common.klog("E", "main.go:359", f'Error registering network: failed to acquire lease: node '
                                 f'"{node}" pod cidr not assigned', when))
        lines.append(common.klog("I", "main.go:448", "Stopping shutdownHandler...", when))
    elif problem:
        lines.append(common.klog("E", "main.go:359", f"Error registering network: failed to acquire lease: {problem} "
                                 f'"{node_cidr}" PodCIDR of the "{node}" node', when))
        lines.append(common.klog("I", "main.go:448", "Stopping shutdownHandler...", when))
    else:
        lines.append(common.klog("I", "kube.go:636", f"List of node({node}) annotations: "
                                 '{"flannel.alpha.coreos.com/backend-type":"vxlan"}', when))
        lines.append(common.klog("I", "main.go:382", f"Wrote subnet file to /run/flannel/subnet.env "
                                 f"(FLANNEL_NETWORK={net.get('cidr')} FLANNEL_SUBNET={node_cidr})", when))
        lines.append(common.klog("I", "main.go:386", "Running backend.", when))
    return lines
