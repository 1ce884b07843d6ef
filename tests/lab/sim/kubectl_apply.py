# kwizard lab simulator support -- NOT the real kubectl.
# `kubectl apply -f` / `create -f`: reads manifests (files, stdin, or a manifest
# URL answered with the lab's generated manifests), records each object in the lab state,
# and notes the network plugin and CIDR a manifest carries.
from __future__ import annotations

import sys
import time
from pathlib import Path

import cluster
import common

BUILTIN_GROUPS = {"", "apps", "rbac.authorization.k8s.io", "apiextensions.k8s.io", "policy", "batch",
                  "networking.k8s.io", "storage.k8s.io", "scheduling.k8s.io", "admissionregistration.k8s.io",
                  "apiregistration.k8s.io", "coordination.k8s.io", "discovery.k8s.io", "node.k8s.io",
                  "certificates.k8s.io", "autoscaling", "flowcontrol.apiserver.k8s.io"}
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition", "PriorityClass",
                  "StorageClass", "Installation", "APIServer", "Goldmane", "Whisker", "PodSecurityPolicy",
                  "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration", "APIService", "Node",
                  "IngressClass", "RuntimeClass", "CSIDriver"}
BUILTIN_NAMESPACES = {"default", "kube-system", "kube-public", "kube-node-lease"}


def _plural(kind: str) -> str:
    lower = kind.lower()
    if lower.endswith("y"):
        return lower[:-1] + "ies"
    return lower + ("es" if lower.endswith("s") else "s")


def read_source(source: str) -> str:
    if source == "-":
        return sys.stdin.read()
    if source.startswith(("http://", "https://")):
        text = common.manifest_for_url(source)
        if text is None:
            host = source.split("/")[2]
            common.fail(f'error: unable to read URL "{source}", server reported dial tcp: lookup {host}: no such host')
        return text
    try:
        return Path(source).read_text()
    except OSError:
        common.fail(f'error: the path "{source}" does not exist')


def apply(sources: list[str], create: bool) -> int:
    failed = False
    with common.locked_state() as state:
        objects = state.setdefault("objects", {})
        for source in sources:
            docs = common.load_yaml_documents(read_source(source))
            shown_source = source if source != "-" else "STDIN"
            carried = False
            for doc in docs:
                ok = _apply_one(state, objects, doc, shown_source, create)
                failed |= not ok
                found = cluster.cni_of(doc) if ok else None
                if found:  # only what the API server accepted decides the network
                    carried = True
                    state["manifests"].append({"source": shown_source, "cni": found[0], "cidr": found[1],
                                               "kind": doc.get("kind"), "applied": time.time()})
            if not carried:
                state["manifests"].append({"source": shown_source, "cni": None, "cidr": None,
                                           "kind": docs[0].get("kind") if docs else None, "applied": time.time()})
    return 1 if failed else 0


def _known_groups(objects: dict) -> set[str]:
    groups = {o.get("crd_group") for o in objects.values() if o["kind"] == "CustomResourceDefinition"}
    if any(o["kind"] == "Deployment" and o["name"] == "tigera-operator" for o in objects.values()):
        groups.add("operator.tigera.io")  # the operator serves its own kinds once it runs
    return BUILTIN_GROUPS | groups


def _apply_one(state: dict, objects: dict, doc: dict, source: str, create: bool) -> bool:
    api, kind = doc.get("apiVersion", ""), doc.get("kind", "")
    group = api.rpartition("/")[0] if "/" in api else ""
    meta = doc.get("metadata") or {}
    name = meta.get("name", "")
    namespace = "" if kind in CLUSTER_SCOPED else meta.get("namespace") or "default"
    if group not in _known_groups(objects):
        sys.stderr.write(f'error: resource mapping not found for name: "{name}" namespace: "{meta.get("namespace", "")}" '
                         f'from "{source}": no matches for kind "{kind}" in version "{api}"\n'
                         "ensure CRDs are installed first\n")
        return False
    if namespace and namespace not in BUILTIN_NAMESPACES and f"/Namespace//{namespace}" not in objects:
        sys.stderr.write(f'Error from server (NotFound): error when creating "{source}": namespaces "{namespace}" '
                         "not found\n")
        return False
    key = f"{group}/{kind}/{namespace}/{name}"
    resource = kind.lower() + (f".{group}" if group else "")
    if key in objects and create:
        plural = _plural(kind) + (f".{group}" if group else "")
        sys.stderr.write(f'Error from server (AlreadyExists): error when creating "{source}": {plural} "{name}" '
                         "already exists\n")
        return False
    verb = "created"
    if key in objects:
        verb = "unchanged" if objects[key].get("doc_hash") == hash_of(doc) else "configured"
    record = {"kind": kind, "name": name, "namespace": namespace, "group": group, "doc_hash": hash_of(doc),
              "labels": meta.get("labels") or {}}
    if kind == "CustomResourceDefinition":
        record["crd_group"] = (doc.get("spec") or {}).get("group")
    objects[key] = record
    print(f"{resource}/{name} {verb}")
    return True


def hash_of(doc: dict) -> str:
    import hashlib
    import json

    return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()[:16]
