# kwizard lab simulator support -- NOT the real kubectl.
# `kubectl get` for everything that is not a node or a pod: the objects the
# lab's manifests created (daemonsets, configmaps, namespaces, CRs, ...), so
# "is it applied already?" probes get the API server's answers.
from __future__ import annotations

import sys
import time

import common
import kubectl_apply
import kubectl_render as render

SHORT = {"ds": "daemonset", "deploy": "deployment", "cm": "configmap", "ns": "namespace", "sa": "serviceaccount",
         "svc": "service", "crd": "customresourcedefinition", "rs": "replicaset", "sts": "statefulset"}
BUILTIN = {"daemonset": "apps", "deployment": "apps", "configmap": "", "namespace": "", "serviceaccount": "",
           "service": "", "secret": "", "clusterrole": "rbac.authorization.k8s.io",
           "clusterrolebinding": "rbac.authorization.k8s.io", "role": "rbac.authorization.k8s.io",
           "rolebinding": "rbac.authorization.k8s.io", "customresourcedefinition": "apiextensions.k8s.io"}
SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


def _singular(word: str, objects: list[dict]) -> tuple[str, str] | None:
    """(kind in lower case, group) for a resource word: ds, daemonsets, daemonset.apps, installations.operator.tigera.io."""
    base, _, group = word.lower().partition(".")
    base = SHORT.get(base, base)
    for obj in objects:
        if base in (obj["kind"].lower(), kubectl_apply._plural(obj["kind"])) and (not group or group == obj["group"]):
            return obj["kind"].lower(), obj["group"]
    for kind, kind_group in BUILTIN.items():
        if base in (kind, kubectl_apply._plural(kind)):
            return kind, kind_group
    return None


def get(state: dict, word: str, names: list[str], flags: dict, output: str, show) -> int:
    objects = list(state.get("objects", {}).values())
    created = (state.get("cluster") or {}).get("created", time.time())
    objects += [{"kind": "Namespace", "name": n, "namespace": "", "group": "", "labels": {}} for n in SYSTEM_NAMESPACES]
    found = _singular(word, objects)
    if found is None:
        common.fail(f'error: the server doesn\'t have a resource type "{word}"')
    kind, group = found
    all_ns = "A" in flags or "all-namespaces" in flags
    namespace = flags.get("n") or flags.get("namespace") or "default"
    matches = [o for o in objects if o["kind"].lower() == kind and o["group"] == group
               and (all_ns or not o["namespace"] or o["namespace"] == namespace)
               and (not names or o["name"] in names)]
    resource = kubectl_apply._plural(kind) + (f".{group}" if group else "")
    missing = [n for n in names if n not in {o["name"] for o in matches}]
    if missing:
        common.fail(f'Error from server (NotFound): {resource} "{missing[0]}" not found')
    api = f"{group}/v1" if group else "v1"
    items = [{"apiVersion": api, "kind": o["kind"], "metadata": {"name": o["name"], "labels": o["labels"],
              **({"namespace": o["namespace"]} if o["namespace"] else {})}} for o in matches]
    if output == "name":
        text = [f"{kind}{'.' + group if group else ''}/{o['name']}" for o in matches]
    else:
        rows = [([o["namespace"]] if all_ns else []) + [o["name"], common.age(created)] for o in matches]
        text = render.table((["NAMESPACE"] if all_ns else []) + ["NAME", "AGE"], rows) if rows else ""
    show(items, names, output, text, flags, namespaced=any(o["namespace"] for o in matches) or kind != "namespace")
    return 0


def get_files(state: dict, sources: list[str], flags: dict, output: str) -> int:
    """`kubectl get -f FILE...`: every object the files name, looked up; NotFound (exit 1) for each one missing.

    As kubectl does (resource.Builder with FilenameParam, then a GET per object): the objects that exist are
    printed, each missing one is an `Error from server (NotFound)` line, and the exit status is 1 if any is missing.
    """
    objects = state.get("objects", {})
    printed, missing = [], []
    for source in sources:
        for doc in common.load_yaml_documents(kubectl_apply.read_source(source)):
            items = doc.get("items") if str(doc.get("kind", "")).endswith("List") else [doc]
            for item in items or []:
                api, kind = item.get("apiVersion", ""), item.get("kind", "")
                group = api.rpartition("/")[0] if "/" in api else ""
                meta = item.get("metadata") or {}
                name = meta.get("name", "")
                namespace = "" if kind in kubectl_apply.CLUSTER_SCOPED else meta.get("namespace") or "default"
                resource = kubectl_apply._plural(kind) + (f".{group}" if group else "")
                present = f"{group}/{kind}/{namespace}/{name}" in objects or (
                    kind == "Namespace" and name in SYSTEM_NAMESPACES)
                if present:
                    printed.append(f"{kind.lower()}{'.' + group if group else ''}/{name}")
                else:
                    missing.append(f'Error from server (NotFound): {resource} "{name}" not found')
    if printed:
        print("\n".join(printed) if output == "name" else "\n".join(p.split("/", 1)[1] for p in printed))
    for line in missing:
        print(line, file=sys.stderr)
    return 1 if missing else 0
