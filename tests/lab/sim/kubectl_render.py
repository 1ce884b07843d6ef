# kwizard lab simulator support -- NOT the real kubectl.
# Nodes and pods as the API returns them (-o json/yaml) and as kubectl prints
# them (tables, -o wide, -o name), built from cluster.py's view of the state.
from __future__ import annotations

import json

import cluster
import common


def node_object(state: dict, node: dict) -> dict:
    ready = cluster.node_ready(state, node)
    condition = {"type": "Ready", "status": "True" if ready else "False",
                 "reason": "KubeletReady" if ready else ("KubeletNotReady" if node.get("kubelet") else "NodeStatusUnknown"),
                 "message": "kubelet is posting ready status" if ready else
                 (cluster.NOT_READY if node.get("kubelet") else "Kubelet stopped posting node status."),
                 "lastHeartbeatTime": common.iso(node["created"]), "lastTransitionTime": common.iso(node["created"])}
    if not node.get("kubelet"):
        condition["status"] = "Unknown"
    spec = {"taints": cluster.node_taints(state, node)}
    if node.get("pod_cidr"):
        spec.update(podCIDR=node["pod_cidr"], podCIDRs=[node["pod_cidr"]])
    if node.get("unschedulable"):
        spec["unschedulable"] = True
    version = kubelet_version(state, node)
    return {
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": node["name"], "labels": node["labels"], "creationTimestamp": common.iso(node["created"]),
                     "uid": cluster.suffix(node["name"], 8)},
        "spec": spec,
        "status": {
            "addresses": [{"type": "InternalIP", "address": node["address"]}, {"type": "Hostname", "address": node["name"]}],
            "conditions": [condition],
            "nodeInfo": {"kubeletVersion": version, "kubeProxyVersion": version, "containerRuntimeVersion":
                         "containerd://1.7.27", "osImage": "kwizard lab (simulated node)", "operatingSystem": "linux",
                         "architecture": "amd64"},
        },
    }


def pod_object(pod: dict) -> dict:
    running = pod["status"] == "Running"
    state = {"running": {"startedAt": common.iso(pod["created"])}} if running else \
        {"waiting": {"reason": pod["status"], "message": pod.get("message") or ""}}
    phase = "Pending" if pod["status"] == "Pending" else "Running"
    obj = {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": pod["name"], "namespace": pod["namespace"], "labels": pod["labels"],
                     "creationTimestamp": common.iso(pod["created"])},
        "spec": {"nodeName": pod["node"], "containers": [{"name": pod["container"]}]} if pod["node"]
        else {"containers": [{"name": pod["container"]}]},
        "status": {"phase": phase, "conditions": [{"type": "Ready", "status": "True" if running else "False"}]},
    }
    if pod["owner"]:
        kind, name = pod["owner"].split("/")
        obj["metadata"]["ownerReferences"] = [{"kind": kind, "name": name, "controller": True}]
    if phase == "Pending":
        obj["status"]["conditions"] = [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                                        "message": "0/{n} nodes are available: {n} node(s) had untolerated taint "
                                                   "{node.kubernetes.io/not-ready: }."}]
    else:
        obj["status"]["containerStatuses"] = [{"name": pod["container"], "ready": running, "restartCount": pod["restarts"],
                                               "state": state}]
    return obj


def as_list(items: list[dict]) -> dict:
    return {"apiVersion": "v1", "kind": "List", "items": items, "metadata": {"resourceVersion": ""}}


def table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(r[i])) for r in [headers] + rows) for i in range(len(headers))]
    lines = ["   ".join(str(cell).ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in [headers] + rows]
    return "\n".join(lines)


def kubelet_version(state: dict, node: dict) -> str:
    """What the node's kubelet reports: its own once an upgrade restarted it, else the cluster's version."""
    return node.get("kubelet_version") or (state.get("cluster") or {}).get("kubernetes_version", common.K8S_VERSION)


def node_rows(state: dict, nodes: list[dict], now: float, wide: bool) -> str:
    headers = ["NAME", "STATUS", "ROLES", "AGE", "VERSION"] + (["INTERNAL-IP", "EXTERNAL-IP", "OS-IMAGE"] if wide else [])
    rows = []
    for node in nodes:
        roles = "control-plane" if "node-role.kubernetes.io/control-plane" in node["labels"] else "<none>"
        row = [node["name"], cluster.node_status(state, node), roles, common.age(node["created"], now),
               kubelet_version(state, node)]
        rows.append(row + ([node["address"], "<none>", "kwizard lab (simulated node)"] if wide else []))
    return table(headers, rows)


def pod_rows(pods: list[dict], now: float, all_namespaces: bool, wide: bool) -> str:
    headers = (["NAMESPACE"] if all_namespaces else []) + ["NAME", "READY", "STATUS", "RESTARTS", "AGE"] + \
        (["NODE"] if wide else [])
    rows = []
    for pod in pods:
        restarts = str(pod["restarts"]) + (f" ({max(int(now - pod['created']) % 300, 1)}s ago)" if pod["restarts"] else "")
        row = ([pod["namespace"]] if all_namespaces else []) + [pod["name"], pod["ready"], pod["status"], restarts,
                                                                common.age(pod["created"], now)]
        rows.append(row + ([pod["node"] or "<none>"] if wide else []))
    return table(headers, rows)


def dump(obj: dict, output: str) -> str:
    if output == "json":
        return json.dumps(obj, indent=4)
    yaml = common.yaml_module()
    return yaml.safe_dump(obj, sort_keys=False).rstrip("\n")
