# kwizard lab simulator support -- NOT the real kubectl.
# `kubectl apply -f` / `create -f`: reads manifests (files, stdin, or a manifest
# URL answered with the lab's generated manifests), records each object in the lab state,
# and notes the network plugin and CIDR a manifest carries. Strict where kwizard depends on it:
#  - client-side apply stores the object in the kubectl.kubernetes.io/last-applied-configuration
#    annotation, and the API server refuses annotations over 262,144 bytes in total
#    (apimachinery pkg/api/validation/objectmeta.go, TotalAnnotationSizeLimitB): Calico's
#    installations.operator.tigera.io CRD cannot be applied client-side;
#  - `create` of an object that exists fails with AlreadyExists;
#  - `apply --server-side` (field manager "kubectl") keeps no annotation; a field another manager set
#    to another value is a conflict unless --force-conflicts (server-side-apply conflicts).
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


ANNOTATION_LIMIT = 262144  # apimachinery validation: TotalAnnotationSizeLimitB = 256 KiB
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
CONFLICT_HELP = """Please review the fields above--they currently have other managers. Here
are the ways you can resolve this warning:
* If you intend to manage all of these fields, please re-run the apply
  command with the `--force-conflicts` flag.
* If you do not intend to manage all of the fields, please edit your
  manifest to remove references to the fields that should keep their
  current managers.
* You may co-own fields by updating your manifest to match the existing
  value; in this case, you'll become the manager if the other manager(s)
  stop managing the field (remove it from their configuration).
See https://kubernetes.io/docs/reference/using-api/server-side-apply/#conflicts"""


def annotation_size(doc: dict) -> int:
    """The annotations' total size after client-side apply adds last-applied-configuration (keys + values)."""
    import json

    meta = dict(doc.get("metadata") or {})
    annotations = {k: v for k, v in (meta.get("annotations") or {}).items() if k != LAST_APPLIED}
    applied = json.dumps(doc, separators=(",", ":"))
    return sum(len(k) + len(str(v)) for k, v in annotations.items()) + len(LAST_APPLIED) + len(applied)


def field_hashes(doc: dict) -> dict:
    """Hash per field path two levels down (.spec.versions, .data.net-conf.json): what SSA conflicts name."""
    out = {}
    for key, value in doc.items():
        if key in ("apiVersion", "kind", "status"):
            continue
        if isinstance(value, dict) and value:
            for sub, inner in value.items():
                if key == "metadata" and sub not in ("labels", "annotations"):
                    continue
                out[f".{key}.{sub}"] = hash_of(inner)
        else:
            out[f".{key}"] = hash_of(value)
    return out


def apply(sources: list[str], create: bool, server_side: bool = False, force_conflicts: bool = False,
          dry_run: str | None = None) -> int:
    mode = "create" if create else "server-side" if server_side else "client-side"
    failed = False
    with common.locked_state() as state:
        objects = state.setdefault("objects", {})
        for source in sources:
            docs = common.load_yaml_documents(read_source(source))
            shown_source = source if source != "-" else "STDIN"
            carried = False
            for doc in docs:
                ok = _apply_one(state, objects, doc, shown_source, mode, force_conflicts, dry_run)
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


def _apply_one(state: dict, objects: dict, doc: dict, source: str, mode: str, force_conflicts: bool = False,
               dry_run: str | None = None) -> bool:
    create = mode == "create"
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
    existing = objects.get(key)
    if mode == "client-side":
        if existing and existing.get("manager") == "kubectl-create":
            plural = _plural(kind) + (f".{group}" if group else "")
            sys.stderr.write(f"Warning: resource {plural}/{name} is missing the {LAST_APPLIED} annotation which is "
                             "required by kubectl apply. kubectl apply should only be used on resources created "
                             "declaratively by either kubectl create --save-config or kubectl apply. The missing "
                             "annotation will be patched automatically.\n")
        if annotation_size(doc) > ANNOTATION_LIMIT:
            sys.stderr.write(f'The {kind} "{name}" is invalid: metadata.annotations: Too long: must have at most '
                             f"{ANNOTATION_LIMIT} bytes\n")
            return False
    fields = field_hashes(doc)
    manager = {"create": "kubectl-create", "client-side": "kubectl-client-side-apply", "server-side": "kubectl"}[mode]
    if mode == "server-side" and existing and existing.get("manager", manager) != manager and not force_conflicts:
        previous = existing.get("fields") or {}
        clashes = [path for path, value in fields.items() if path in previous and previous[path] != value]
        if clashes:
            api_version = doc.get("apiVersion", "")
            if len(clashes) == 1:
                head = (f'error: Apply failed with 1 conflict: conflict with "{existing["manager"]}" using '
                        f"{api_version}: {clashes[0]}")
            else:
                head = (f"error: Apply failed with {len(clashes)} conflicts: conflicts with "
                        f'"{existing["manager"]}" using {api_version}:\n' + "\n".join(f"- {c}" for c in clashes))
            sys.stderr.write(head + "\n" + CONFLICT_HELP + "\n")
            return False
    if mode == "server-side":
        verb = "serverside-applied"
    elif existing:
        verb = "unchanged" if existing.get("doc_hash") == hash_of(doc) else "configured"
    else:
        verb = "created"
    if dry_run:
        print(f"{resource}/{name} {verb} ({'server ' if dry_run == 'server' else ''}dry run)")
        return True
    record = {"kind": kind, "name": name, "namespace": namespace, "group": group, "doc_hash": hash_of(doc),
              "labels": meta.get("labels") or {}, "manager": manager, "fields": fields}
    if kind == "CustomResourceDefinition":
        record["crd_group"] = (doc.get("spec") or {}).get("group")
    if kind == "Secret":
        record["data_keys"] = sorted((doc.get("data") or {}) | (doc.get("stringData") or {}))
    objects[key] = record
    print(f"{resource}/{name} {verb}")
    return True


def hash_of(doc: dict) -> str:
    import hashlib
    import json

    return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()[:16]
