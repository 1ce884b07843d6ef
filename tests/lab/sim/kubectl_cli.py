# kwizard lab simulator: the body of `kubectl` (sim/kubectl) -- NOT the real kubectl.
# Installed only inside kwizard lab hosts. Finds its kubeconfig and reaches the
# API address in it (a real TCP connect over the lab network, so a reset or
# unreachable control plane answers like the real one), then serves get, apply,
# create, taint, drain, cordon, delete node, logs and wait from the lab state.
# A module rather than the script itself: Python caches a module's compiled code (__pycache__, made
# when the lab starts), while a script is compiled again on every run (about 12 ms for this one).
import base64
import os
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

import cluster
import common
import kubectl_render as render
import listener

BOOLEANS = {"A", "all-namespaces", "all", "client", "ignore-daemonsets", "delete-emptydir-data", "force", "p",
            "previous", "overwrite", "all-containers", "disable-eviction", "short", "wait", "no-headers",
            "server-side", "force-conflicts", "save-config"}
RESOURCES = {"node": "nodes", "nodes": "nodes", "no": "nodes", "pod": "pods", "pods": "pods", "po": "pods"}


def connect(flags):
    """The kubeconfig's server, reachable and holding the same CA; else kubectl's own error."""
    path = flags.get("kubeconfig") or (os.environ.get("KUBECONFIG") or "").split(":")[0] or \
        os.path.expanduser("~/.kube/config")
    if not os.path.exists(path):
        common.fail("The connection to the server localhost:8080 was refused - did you specify the right host or port?")
    try:
        config = common.load_yaml_documents(Path(path).read_text())[0]
    except PermissionError:
        common.fail(f'error: error loading config file "{path}": open {path}: permission denied')
    context = next(c["context"] for c in config["contexts"] if c["name"] == config["current-context"])
    entry = next(c["cluster"] for c in config["clusters"] if c["name"] == context["cluster"])
    server = urlparse(entry["server"])
    problem = listener.reachable(server.hostname, server.port or 443)
    if problem:
        common.fail(f"The connection to the server {server.netloc} was refused - did you specify the right host or port?"
                    if "refused" in problem else f"Unable to connect to the server: dial tcp {server.netloc}: {problem}")
    state = common.read_state()
    ca = base64.b64decode(entry.get("certificate-authority-data", "")).decode(errors="replace")
    if not state["cluster"] or ca.strip() != state["cluster"]["ca_pem"].strip():
        common.fail('Unable to connect to the server: tls: failed to verify certificate: x509: certificate signed by '
                    'unknown authority (possibly because of "crypto/rsa: verification error" while trying to verify '
                    'candidate authority certificate "kubernetes")')
    return state


def _selector(flags):
    wanted = {}
    for part in (flags.get("l") or flags.get("selector") or "").split(","):
        if "=" in part:
            key, value = part.split("=", 1)
            wanted[key.strip()] = value.strip()
    return wanted


def _pods(state, flags, now):
    pods = cluster.pods(state, now)
    if not ("A" in flags or "all-namespaces" in flags):
        namespace = flags.get("n") or flags.get("namespace") or "default"
        pods = [p for p in pods if p["namespace"] == namespace]
    wanted = _selector(flags)
    return [p for p in pods if all(p["labels"].get(k) == v for k, v in wanted.items())]


def _print(objects, names, output, table_text, flags, namespaced=True):
    """One place for every output format of `get`."""
    single = len(names) == 1 and len(objects) == 1
    if output in ("json", "yaml"):
        print(render.dump(objects[0] if single else render.as_list(objects), output))
    elif output.startswith("jsonpath="):
        import kubectl_jsonpath

        print(kubectl_jsonpath.render(output[len("jsonpath="):], objects[0] if single else render.as_list(objects)),
              end="")
    elif output == "name":
        print("\n".join(name for name in table_text))
    elif output and output != "wide":
        common.fail(f"error: output format {output.split('=')[0]!r} is not supported by the kwizard lab simulator "
                    "(json, yaml, wide, name, jsonpath)")
    elif not objects:
        scope = "" if "A" in flags or "all-namespaces" in flags or not namespaced else \
            f" in {flags.get('n') or flags.get('namespace') or 'default'} namespace"
        sys.stderr.write(f"No resources found{scope}.\n")
    else:
        text = table_text
        print(text.split("\n", 1)[1] if "no-headers" in flags and "\n" in text else
              "" if "no-headers" in flags else text)


def get(args, flags):
    state = connect(flags)
    sources = flags.get("f", []) + flags.get("filename", [])
    if sources:
        import kubectl_objects

        return kubectl_objects.get_files(state, sources, flags, flags.get("o") or flags.get("output") or "")
    if not args:
        common.fail("You must specify the type of resource to get. Use \"kubectl api-resources\" for a complete list.")
    if "/" in args[0]:  # node/kw-cp-1, daemonset.apps/kube-flannel-ds
        args = args[0].split("/", 1) + args[1:]
    kind = RESOURCES.get(args[0].split(".")[0])
    names, now, output = args[1:], time.time(), flags.get("o") or flags.get("output") or ""
    all_ns = "A" in flags or "all-namespaces" in flags
    if kind is None:
        import kubectl_objects

        return kubectl_objects.get(state, args[0], names, flags, output, _print)
    if kind == "nodes":
        items = [n for n in state["nodes"].values() if not names or n["name"] in names]
        missing = [n for n in names if n not in state["nodes"]]
        objects = [render.node_object(state, n) for n in items]
    else:
        items = [p for p in _pods(state, flags, now) if not names or p["name"] in names]
        missing = [n for n in names if n not in {p["name"] for p in items}]
        objects = [render.pod_object(p) for p in items]
    if missing:
        common.fail(f'Error from server (NotFound): {kind} "{missing[0]}" not found')
    if output == "name":
        table_text = [f"{kind[:-1]}/{o['metadata']['name']}" for o in objects]
    elif kind == "nodes":
        table_text = render.node_rows(state, items, now, output == "wide") if items else ""
    else:
        table_text = render.pod_rows(items, now, all_ns, output == "wide") if items else ""
    _print(objects, names, output, table_text, flags, namespaced=kind == "pods")
    return 0


def taint(args, flags):
    connect(flags)
    if not args or args[0] not in ("node", "nodes", "no"):
        common.fail("error: kwizard lab simulator: only `kubectl taint nodes ...` is supported")
    targets, specs = (None, args[1:]) if "all" in flags else (args[1:2], args[2:])
    errors = []  # like kubectl: report per node, keep going, exit 1 at the end
    with common.locked_state() as state:
        for name in list(state["nodes"]) if targets is None else targets:
            node = state["nodes"].get(name)
            if node is None:
                errors.append(f'Error from server (NotFound): nodes "{name}" not found')
                continue
            for spec in specs:
                if spec.endswith("-"):
                    key = spec[:-1].split(":")[0]
                    if not any(t["key"] == key for t in node["taints"]):
                        errors.append(f'error: taint "{spec[:-1]}" not found')
                        continue
                    node["taints"] = [t for t in node["taints"] if t["key"] != key]
                    print(f"node/{name} untainted")
                else:
                    key_value, _, effect = spec.partition(":")
                    key, _, value = key_value.partition("=")
                    node["taints"].append({"key": key, "effect": effect, **({"value": value} if value else {})})
                    print(f"node/{name} tainted")
    if errors:
        common.fail("\n".join(errors))
    return 0


def cordon(args, flags, on=True):
    connect(flags)
    with common.locked_state() as state:
        for name in args:
            if name not in state["nodes"]:
                common.fail(f'Error from server (NotFound): nodes "{name}" not found')
            already = state["nodes"][name]["unschedulable"] == on
            state["nodes"][name]["unschedulable"] = on
            print(f"node/{name} {'already ' if already else ''}{'cordoned' if on else 'uncordoned'}")
    return 0


def label(args, flags):
    """`kubectl label node NAME k=v ... [--overwrite]`, with kubectl's refusal to change a value silently."""
    connect(flags)
    if len(args) < 3 or args[0] not in ("node", "nodes", "no"):
        common.fail("error: kwizard lab simulator: only `kubectl label node NAME KEY=VALUE...` is supported")
    name, specs = args[1], args[2:]
    with common.locked_state() as state:
        node = state["nodes"].get(name)
        if node is None:
            common.fail(f'Error from server (NotFound): nodes "{name}" not found')
        changed = False
        for spec in specs:
            key, _, value = spec.partition("=")
            old = node["labels"].get(key)
            if old is not None and old != value and "overwrite" not in flags:
                common.fail(f"error: '{key}' already has a value ({old}), and --overwrite is false")
            changed |= old != value
            node["labels"][key] = value
    print(f"node/{name} {'labeled' if changed else 'not labeled'}")
    return 0


def drain(args, flags):
    if "delete-local-data" in flags:
        common.fail("error: unknown flag: --delete-local-data\nSee 'kubectl drain --help' for usage.")
    state = connect(flags)
    for name in args:
        if name not in state["nodes"]:
            common.fail(f'Error from server (NotFound): nodes "{name}" not found')
    cordon(args, flags)
    with common.locked_state() as state:  # the lab's record of drains (tests read it: a resume must not re-drain)
        state.setdefault("drains", []).extend({"node": name, "at": time.time()} for name in args)
    state = common.read_state()
    for name in args:
        daemon = [f"{p['namespace']}/{p['name']}" for p in cluster.pods(state, time.time())
                  if p["node"] == name and (p["owner"] or "").startswith("DaemonSet/")]
        if daemon and "ignore-daemonsets" not in flags:
            common.fail(f'error: unable to drain node "{name}" due to error: cannot delete DaemonSet-managed Pods '
                        f"(use --ignore-daemonsets to ignore): {', '.join(daemon)}, continuing command...\n"
                        f"There are pending nodes to be drained:\n {name}\n"
                        f"cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore): {', '.join(daemon)}")
        if daemon:
            print(f"Warning: ignoring DaemonSet-managed Pods: {', '.join(daemon)}")
        print(f"node/{name} drained")
    return 0


def delete(args, flags):
    connect(flags)
    if not args or args[0] not in ("node", "nodes", "no"):
        common.fail("error: kwizard lab simulator: only `kubectl delete node NAME` is supported")
    with common.locked_state() as state:
        for name in args[1:]:
            if state["nodes"].pop(name, None) is None:
                common.fail(f'Error from server (NotFound): nodes "{name}" not found')
            print(f'node "{name}" deleted')
    return 0


def logs(args, flags):
    state = connect(flags)
    pods = _pods(state, flags, time.time())
    target = args[0] if args else None
    if target and "/" in target:  # ds/kube-flannel-ds, daemonset/..., deployment/...
        owner = target.split("/", 1)[1]
        chosen = [p for p in pods if (p["owner"] or "").endswith("/" + owner) or p["name"].startswith(owner)][:1]
    elif target:
        chosen = [p for p in pods if p["name"] == target]
    else:
        chosen = pods if _selector(flags) else []
    if not chosen:
        common.fail(f'Error from server (NotFound): pods "{target}" not found' if target else
                    "error: expected 'logs [-f] [-p] (POD | TYPE/NAME) [-c CONTAINER]'.")
    tail = int(flags.get("tail", -1))
    for pod in chosen:
        if pod["app"] == "flannel" and "c" not in flags and "container" not in flags:
            sys.stderr.write(f'Defaulted container "kube-flannel" out of: kube-flannel, install-cni-plugin (init), '
                             "install-cni (init)\n")
        lines = cluster.logs(state, pod)
        print("\n".join(lines[-tail:] if tail >= 0 else lines))
    return 0


def wait(args, flags):
    condition = flags.get("for", "")
    kind = RESOURCES.get(args[0]) if args else None
    if condition.lower() != "condition=ready" or kind is None:
        common.fail("error: kwizard lab simulator: only `kubectl wait --for=condition=Ready nodes|pods ...` is supported")
    timeout = float(flags.get("timeout", "30s").rstrip("s").replace("m", "")) * (60 if "m" in flags.get("timeout", "") else 1)
    deadline = time.time() + timeout
    while True:
        state = connect(flags)
        if kind == "nodes":
            items = [n for n in state["nodes"].values() if "all" in flags or n["name"] in args[1:]]
            pending = [n["name"] for n in items if not cluster.node_ready(state, n)]
        else:
            items = _pods(state, flags, time.time())
            items = [p for p in items if "all" in flags or _selector(flags) or p["name"] in args[1:]]
            pending = [p["name"] for p in items if p["status"] != "Running"]
        if not pending:
            print("\n".join(f"{kind[:-1]}/{i['name']} condition met" for i in items))
            return 0
        if time.time() >= deadline:
            common.fail(f"error: timed out waiting for the condition on {kind}/{pending[0]}")
        time.sleep(0.5)


def create_secret(args, flags):
    """`kubectl create secret generic NAME --from-file=[key=]path --from-literal=k=v [--dry-run=client -o yaml]`."""
    if len(args) < 2 or args[0] != "generic":
        common.fail("error: kwizard lab simulator: only `kubectl create secret generic NAME ...` is supported")
    name, namespace = args[1], flags.get("n") or flags.get("namespace") or "default"
    data = {}
    for spec in flags.get("from-file", []):
        key, _, path = spec.partition("=") if "=" in spec else (os.path.basename(spec), "", spec)
        try:
            data[key] = base64.b64encode(Path(path).read_bytes()).decode()
        except OSError as error:
            common.fail(f"error: error reading {path}: {error.strerror.lower()}")
    for spec in flags.get("from-literal", []):
        key, _, value = spec.partition("=")
        data[key] = base64.b64encode(value.encode()).decode()
    secret = {"apiVersion": "v1", "data": data, "kind": "Secret",
              "metadata": {"creationTimestamp": None, "name": name, "namespace": namespace}}
    output = flags.get("o") or flags.get("output")
    if flags.get("dry-run") == "client":
        if output in ("yaml", "json"):
            print(render.dump(secret, output))
        else:
            print(f"secret/{name} created (dry run)")
        return 0
    connect(flags)
    import kubectl_apply

    with common.locked_state() as state:
        objects = state.setdefault("objects", {})
        key = f"/Secret/{namespace}/{name}"
        if key in objects:
            common.fail(f'error: failed to create secret secrets "{name}" already exists')
        if namespace not in kubectl_apply.BUILTIN_NAMESPACES and f"/Namespace//{namespace}" not in objects:
            common.fail(f'error: failed to create secret namespaces "{namespace}" not found')
        objects[key] = {"kind": "Secret", "name": name, "namespace": namespace, "group": "", "labels": {},
                        "doc_hash": kubectl_apply.hash_of(secret), "manager": "kubectl-create",
                        "data_keys": sorted(data), "fields": kubectl_apply.field_hashes(secret)}
    print(f"secret/{name} created")
    return 0


def version(args, flags):
    client = common.tool_version("kubectl")
    server = None
    if "client" not in flags:
        state = connect(flags)
        server = (state.get("cluster") or {}).get("kubernetes_version", common.K8S_VERSION)
    output = flags.get("o") or flags.get("output")
    if output == "json":
        import json

        def info(version):
            return {"major": "1", "minor": version.split(".")[1], "gitVersion": version, "gitTreeState": "clean",
                    "goVersion": "go1.24.4", "compiler": "gc", "platform": "linux/amd64"}

        out = {"clientVersion": info(client), "kustomizeVersion": "v5.6.0"}
        if server:
            out["serverVersion"] = info(server)
        print(json.dumps(out, indent=2))
        return 0
    if output:
        common.fail(f"error: --output {output} is not available in kwizard's lab simulator (json only)")
    print(f"Client Version: {client}\nKustomize Version: v5.6.0")
    if server:
        print(f"Server Version: {server}")
    return 0


def main(argv):
    args, flags = common.parse_args(argv, BOOLEANS, repeatable={"f", "filename", "from-file", "from-literal"})
    command, rest = (args[0], args[1:]) if args else ("help", [])
    common.apply_command_faults("kubectl " + " ".join(argv))
    common.take_time("kubectl")
    if command == "create" and rest[:1] == ["secret"]:
        return create_secret(rest[1:], flags)
    if command in ("apply", "create"):
        import kubectl_apply

        dry_run = flags.get("dry-run")
        if dry_run not in (None, "none", "client", "server"):
            common.fail(f'error: Invalid dry-run value ({dry_run}). Must be "none", "server", or "client".')
        if dry_run != "client":
            connect(flags)
        sources = flags.get("f", []) + flags.get("filename", [])
        if not sources:
            common.fail("error: must specify one of -f and -k")
        if "server-side" in flags and command == "create":
            common.fail("error: unknown flag: --server-side\nSee 'kubectl create --help' for usage.")
        return kubectl_apply.apply(sources, create=command == "create", server_side="server-side" in flags,
                                   force_conflicts="force-conflicts" in flags,
                                   dry_run=None if dry_run in (None, "none") else dry_run)
    if command == "cluster-info":
        state = connect(flags)
        print(f"Kubernetes control plane is running at https://{state['cluster']['endpoint']}\n"
              f"CoreDNS is running at https://{state['cluster']['endpoint']}/api/v1/namespaces/kube-system/services/"
              "kube-dns:dns/proxy\n\nTo further debug and diagnose cluster problems, use 'kubectl cluster-info dump'.")
        return 0
    handlers = {"get": get, "taint": taint, "label": label, "drain": drain, "delete": delete, "logs": logs, "wait": wait,
                "version": version, "cordon": cordon, "uncordon": lambda a, f: cordon(a, f, on=False)}
    if command not in handlers:
        common.fail(f'error: unknown command "{command}" for "kubectl"\n(kwizard lab simulator: supports '
                    f"{', '.join(sorted(handlers) + ['apply', 'create', 'cluster-info'])})")
    return handlers[command](rest, flags)

