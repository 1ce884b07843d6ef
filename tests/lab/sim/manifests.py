# kwizard lab simulator support -- NOT the upstream manifests.
# The CNI manifests the lab's curl and kubectl serve, GENERATED here (lab code,
# not copies of the upstream files) with the kinds, names, namespaces, fields
# and sizes kwizard depends on:
#   Flannel  kube-flannel.yml          flannel-io/flannel releases v0.28.x (Documentation/kube-flannel.yml):
#            Namespace kube-flannel, ConfigMap kube-flannel-cfg (net-conf.json: Network 10.244.0.0/16,
#            Backend vxlan), DaemonSet kube-flannel-ds (container kube-flannel)
#   Calico   operator-crds.yaml        projectcalico/calico manifests/operator-crds.yaml (v3.30+): the
#            operator's CRDs; installations.operator.tigera.io is padded with a schema of descriptions to
#            more than 262,144 bytes of JSON, as upstream's (~645 KB), so client-side apply fails on it
#            tigera-operator.yaml      manifests/tigera-operator.yaml (v3.30+ carries no CRDs: they moved to
#            operator-crds.yaml): Namespace, RBAC, Deployment tigera-operator
#            custom-resources.yaml     manifests/custom-resources.yaml: Installation default (ipPools[0]
#            192.168.0.0/16, blockSize 26, VXLANCrossSubnet, natOutgoing Enabled, nodeSelector all()),
#            APIServer/Goldmane/Whisker default
#   Weave    weave-daemonset-k8s.yaml  weaveworks/weave v2.8.1 release asset: a `kind: List` with RBAC and
#            DaemonSet weave-net in kube-system; the weave-init container's `env:` has no value (null);
#            kwizard sets IPALLOC_RANGE on the `weave` container
# Standard library + PyYAML only (runs under /usr/bin/python3 in lab hosts, and in the test process).
from __future__ import annotations

import json
from pathlib import Path

# Upstream file name (the last path segment of the URL kwizard fetches) -> generator.
FLANNEL_VERSION = "v0.28.9"
CALICO_VERSION = "v3.32.1"
ANNOTATION_LIMIT = 262144  # apimachinery: TotalAnnotationSizeLimitB (validation/objectmeta.go)

FLANNEL = f"""\
---
kind: Namespace
apiVersion: v1
metadata:
  name: kube-flannel
  labels:
    k8s-app: flannel
    pod-security.kubernetes.io/enforce: privileged
---
kind: ClusterRole
apiVersion: rbac.authorization.k8s.io/v1
metadata:
  name: flannel
  labels:
    k8s-app: flannel
rules:
- apiGroups: [""]
  resources: [pods]
  verbs: [get]
- apiGroups: [""]
  resources: [nodes]
  verbs: [get, list, watch]
- apiGroups: [""]
  resources: [nodes/status]
  verbs: [patch]
---
kind: ClusterRoleBinding
apiVersion: rbac.authorization.k8s.io/v1
metadata:
  name: flannel
  labels:
    k8s-app: flannel
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: flannel
subjects:
- kind: ServiceAccount
  name: flannel
  namespace: kube-flannel
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: flannel
  namespace: kube-flannel
  labels:
    k8s-app: flannel
---
kind: ConfigMap
apiVersion: v1
metadata:
  name: kube-flannel-cfg
  namespace: kube-flannel
  labels:
    tier: node
    k8s-app: flannel
    app: flannel
data:
  cni-conf.json: |
    {{
      "name": "cbr0",
      "cniVersion": "0.3.1",
      "plugins": [
        {{"type": "flannel", "delegate": {{"hairpinMode": true, "isDefaultGateway": true}}}},
        {{"type": "portmap", "capabilities": {{"portMappings": true}}}}
      ]
    }}
  net-conf.json: |
    {{
      "Network": "10.244.0.0/16",
      "EnableNFTables": false,
      "Backend": {{
        "Type": "vxlan"
      }}
    }}
---
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: kube-flannel-ds
  namespace: kube-flannel
  labels:
    tier: node
    app: flannel
    k8s-app: flannel
spec:
  selector:
    matchLabels:
      app: flannel
  template:
    metadata:
      labels:
        tier: node
        app: flannel
    spec:
      hostNetwork: true
      priorityClassName: system-node-critical
      tolerations:
      - operator: Exists
        effect: NoSchedule
      serviceAccountName: flannel
      initContainers:
      - name: install-cni-plugin
        image: ghcr.io/flannel-io/flannel-cni-plugin:v1.9.1-flannel3
        command: [cp]
        args: [-f, /flannel, /opt/cni/bin/flannel]
        volumeMounts:
        - name: cni-plugin
          mountPath: /opt/cni/bin
      - name: install-cni
        image: ghcr.io/flannel-io/flannel:{FLANNEL_VERSION}
        command: [/opt/bin/install-conf]
        args: [/etc/kube-flannel/cni-conf.json, /etc/cni/net.d/10-flannel.conflist]
        volumeMounts:
        - name: cni
          mountPath: /etc/cni/net.d
        - name: flannel-cfg
          mountPath: /etc/kube-flannel/
      containers:
      - name: kube-flannel
        image: ghcr.io/flannel-io/flannel:{FLANNEL_VERSION}
        command: [/opt/bin/flanneld]
        args:
        - --ip-masq
        - --kube-subnet-mgr
        resources:
          requests:
            cpu: "100m"
            memory: "50Mi"
        securityContext:
          privileged: false
          capabilities:
            add: ["NET_ADMIN", "NET_RAW"]
        env:
        - name: POD_NAME
          valueFrom:
            fieldRef:
              fieldPath: metadata.name
        - name: POD_NAMESPACE
          valueFrom:
            fieldRef:
              fieldPath: metadata.namespace
        - name: EVENT_QUEUE_DEPTH
          value: "5000"
        volumeMounts:
        - name: run
          mountPath: /run/flannel
        - name: flannel-cfg
          mountPath: /etc/kube-flannel/
        - name: xtables-lock
          mountPath: /run/xtables.lock
      volumes:
      - name: run
        hostPath:
          path: /run/flannel
      - name: cni-plugin
        hostPath:
          path: /opt/cni/bin
      - name: cni
        hostPath:
          path: /etc/cni/net.d
      - name: flannel-cfg
        configMap:
          name: kube-flannel-cfg
      - name: xtables-lock
        hostPath:
          path: /run/xtables.lock
          type: FileOrCreate
"""

TIGERA_OPERATOR = f"""\
apiVersion: v1
kind: Namespace
metadata:
  name: tigera-operator
  labels:
    name: tigera-operator
    pod-security.kubernetes.io/enforce: privileged
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: tigera-operator
  namespace: tigera-operator
  labels:
    k8s-app: tigera-operator
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: tigera-operator-secrets
  labels:
    k8s-app: tigera-operator
rules:
- apiGroups: [""]
  resources: [secrets]
  verbs: [create, update, delete]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: tigera-operator
  labels:
    k8s-app: tigera-operator
rules:
- apiGroups: [""]
  resources: [namespaces, pods, podtemplates, services, endpoints, events, configmaps, secrets, serviceaccounts]
  verbs: [create, get, list, update, delete, watch]
- apiGroups: [""]
  resources: [nodes]
  verbs: [get, patch, list, watch]
- apiGroups: [rbac.authorization.k8s.io]
  resources: [clusterroles, clusterrolebindings, rolebindings, roles]
  verbs: [create, get, list, update, delete, watch, bind, escalate]
- apiGroups: [apps]
  resources: [deployments, daemonsets, statefulsets]
  verbs: [create, get, list, patch, update, delete, watch]
- apiGroups: [apiextensions.k8s.io]
  resources: [customresourcedefinitions]
  verbs: [get, list, watch, create, update]
- apiGroups: [operator.tigera.io]
  resources: ["*"]
  verbs: [create, get, list, update, patch, delete, watch]
- apiGroups: [crd.projectcalico.org]
  resources: ["*"]
  verbs: [create, get, list, update, patch, delete, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: tigera-operator
  labels:
    k8s-app: tigera-operator
subjects:
- kind: ServiceAccount
  name: tigera-operator
  namespace: tigera-operator
roleRef:
  kind: ClusterRole
  name: tigera-operator
  apiGroup: rbac.authorization.k8s.io
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: tigera-operator-secrets
  namespace: tigera-operator
  labels:
    k8s-app: tigera-operator
subjects:
- kind: ServiceAccount
  name: tigera-operator
  namespace: tigera-operator
roleRef:
  kind: ClusterRole
  name: tigera-operator-secrets
  apiGroup: rbac.authorization.k8s.io
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: tigera-operator
  namespace: tigera-operator
  labels:
    k8s-app: tigera-operator
spec:
  replicas: 1
  selector:
    matchLabels:
      name: tigera-operator
  template:
    metadata:
      labels:
        name: tigera-operator
        k8s-app: tigera-operator
    spec:
      nodeSelector:
        kubernetes.io/os: linux
      tolerations:
      - effect: NoExecute
        operator: Exists
      - effect: NoSchedule
        operator: Exists
      serviceAccountName: tigera-operator
      terminationGracePeriodSeconds: 60
      hostNetwork: true
      dnsPolicy: ClusterFirstWithHostNet
      containers:
      - name: tigera-operator
        image: quay.io/tigera/operator:{CALICO_VERSION}
        imagePullPolicy: IfNotPresent
        command: [operator]
        args: [-manage-crds=true]
        env:
        - name: WATCH_NAMESPACE
          value: ""
        - name: OPERATOR_NAME
          value: tigera-operator
        envFrom:
        - configMapRef:
            name: kubernetes-services-endpoint
            optional: true
"""

CUSTOM_RESOURCES = """\
# kwizard lab: generated stand-in for Calico's custom-resources.yaml (the Installation template)
apiVersion: operator.tigera.io/v1
kind: Installation
metadata:
  name: default
spec:
  calicoNetwork:
    ipPools:
    - name: default-ipv4-ippool
      blockSize: 26
      cidr: 192.168.0.0/16
      encapsulation: VXLANCrossSubnet
      natOutgoing: Enabled
      nodeSelector: all()
---
apiVersion: operator.tigera.io/v1
kind: APIServer
metadata:
  name: default
spec: {}
---
apiVersion: operator.tigera.io/v1
kind: Goldmane
metadata:
  name: default
---
apiVersion: operator.tigera.io/v1
kind: Whisker
metadata:
  name: default
"""

WEAVE = """\
apiVersion: v1
kind: List
items:
  - apiVersion: v1
    kind: ServiceAccount
    metadata:
      name: weave-net
      labels:
        name: weave-net
      namespace: kube-system
  - apiVersion: rbac.authorization.k8s.io/v1
    kind: ClusterRole
    metadata:
      name: weave-net
      labels:
        name: weave-net
    rules:
      - apiGroups: ['']
        resources: [pods, namespaces, nodes]
        verbs: [get, list, watch]
      - apiGroups: [networking.k8s.io]
        resources: [networkpolicies]
        verbs: [get, list, watch]
      - apiGroups: ['']
        resources: [nodes/status]
        verbs: [patch, update]
  - apiVersion: rbac.authorization.k8s.io/v1
    kind: ClusterRoleBinding
    metadata:
      name: weave-net
      labels:
        name: weave-net
    roleRef:
      kind: ClusterRole
      name: weave-net
      apiGroup: rbac.authorization.k8s.io
    subjects:
      - kind: ServiceAccount
        name: weave-net
        namespace: kube-system
  - apiVersion: rbac.authorization.k8s.io/v1
    kind: Role
    metadata:
      name: weave-net
      namespace: kube-system
      labels:
        name: weave-net
    rules:
      - apiGroups: ['']
        resourceNames: [weave-net]
        resources: [configmaps]
        verbs: [get, update]
      - apiGroups: ['']
        resources: [configmaps]
        verbs: [create]
  - apiVersion: rbac.authorization.k8s.io/v1
    kind: RoleBinding
    metadata:
      name: weave-net
      namespace: kube-system
      labels:
        name: weave-net
    roleRef:
      kind: Role
      name: weave-net
      apiGroup: rbac.authorization.k8s.io
    subjects:
      - kind: ServiceAccount
        name: weave-net
        namespace: kube-system
  - apiVersion: apps/v1
    kind: DaemonSet
    metadata:
      name: weave-net
      labels:
        name: weave-net
      namespace: kube-system
    spec:
      selector:
        matchLabels:
          name: weave-net
      minReadySeconds: 5
      template:
        metadata:
          labels:
            name: weave-net
        spec:
          initContainers:
            - name: weave-init
              image: 'weaveworks/weave-kube:latest'
              command:
                - /home/weave/init.sh
              env:
              securityContext:
                privileged: true
          containers:
            - name: weave
              command:
                - /home/weave/launch.sh
              env:
                - name: INIT_CONTAINER
                  value: "true"
                - name: HOSTNAME
                  valueFrom:
                    fieldRef:
                      apiVersion: v1
                      fieldPath: spec.nodeName
              image: 'weaveworks/weave-kube:latest'
              readinessProbe:
                httpGet:
                  host: 127.0.0.1
                  path: /status
                  port: 6784
              securityContext:
                privileged: true
            - name: weave-npc
              env:
                - name: HOSTNAME
                  valueFrom:
                    fieldRef:
                      apiVersion: v1
                      fieldPath: spec.nodeName
              image: 'weaveworks/weave-npc:latest'
              securityContext:
                privileged: true
          hostNetwork: true
          dnsPolicy: ClusterFirstWithHostNet
          restartPolicy: Always
          serviceAccountName: weave-net
          tolerations:
            - effect: NoSchedule
              operator: Exists
            - effect: NoExecute
              operator: Exists
          priorityClassName: system-node-critical
      updateStrategy:
        type: RollingUpdate
"""

# --- Calico's operator CRDs --------------------------------------------------------

# Kinds custom-resources.yaml uses and a few the operator also defines.
OPERATOR_KINDS = ("Installation", "APIServer", "Goldmane", "Whisker", "ImageSet", "TigeraStatus")
# Components whose pod templates the Installation lets one override: upstream repeats a full
# affinity/tolerations/resources schema for each, which is what makes the CRD so large.
OVERRIDABLE = ("calicoNodeDaemonSet", "calicoKubeControllersDeployment", "typhaDeployment", "csiNodeDriverDaemonSet")


def _text(subject: str) -> str:
    return (f"{subject} If specified, this overrides the value the operator would otherwise compute; "
            "if omitted, the operator's default is used, which may change between releases.")


def _leaf(kind: str, subject: str) -> dict:
    return {"type": kind, "description": _text(subject)}


def _selector_term(depth: str) -> dict:
    expressions = {"type": "array", "description": _text(f"A list of {depth} selector requirements by labels."),
                   "items": {"type": "object", "required": ["key", "operator"], "properties": {
                       "key": _leaf("string", "The label key that the selector applies to."),
                       "operator": _leaf("string", "Represents a key's relationship to a set of values: In, NotIn, "
                                                   "Exists, DoesNotExist, Gt and Lt."),
                       "values": {"type": "array", "items": {"type": "string"},
                                  "description": _text("An array of string values.")}}}}
    return {"type": "object", "properties": {"matchExpressions": expressions, "matchFields": expressions}}


def _affinity() -> dict:
    pod_term = {"type": "object", "properties": {
        "labelSelector": _selector_term("label"), "namespaceSelector": _selector_term("namespace"),
        "namespaces": {"type": "array", "items": {"type": "string"}, "description": _text("Namespaces.")},
        "topologyKey": _leaf("string", "This pod should be co-located (affinity) or not co-located "
                                       "(anti-affinity) with the pods matching the labelSelector.")}}
    weighted = {"type": "array", "items": {"type": "object", "properties": {
        "weight": _leaf("integer", "Weight associated with matching the corresponding term, 1-100."),
        "podAffinityTerm": pod_term}}, "description": _text("The scheduler will prefer to schedule pods...")}
    pod = {"type": "object", "properties": {
        "preferredDuringSchedulingIgnoredDuringExecution": weighted,
        "requiredDuringSchedulingIgnoredDuringExecution": {"type": "array", "items": pod_term,
                                                           "description": _text("Required terms.")}}}
    node = {"type": "object", "properties": {
        "preferredDuringSchedulingIgnoredDuringExecution": {"type": "array", "items": {
            "type": "object", "properties": {"preference": _selector_term("node"),
                                             "weight": _leaf("integer", "Weight, 1-100.")}}},
        "requiredDuringSchedulingIgnoredDuringExecution": {"type": "object", "properties": {
            "nodeSelectorTerms": {"type": "array", "items": _selector_term("node")}}}}}
    return {"type": "object", "description": _text("Affinity is a group of affinity scheduling rules."),
            "properties": {"nodeAffinity": node, "podAffinity": pod, "podAntiAffinity": pod}}


def _resources() -> dict:
    quantity = {"anyOf": [{"type": "integer"}, {"type": "string"}], "x-kubernetes-int-or-string": True}
    return {"type": "object", "description": _text("Compute resources required by this container."), "properties": {
        "claims": {"type": "array", "items": {"type": "object", "properties": {
            "name": _leaf("string", "Name must match the name of one entry in pod.spec.resourceClaims."),
            "request": _leaf("string", "Request is the name chosen for a request in the referenced claim.")}}},
        "limits": {"type": "object", "additionalProperties": quantity,
                   "description": _text("Limits describes the maximum amount of compute resources allowed.")},
        "requests": {"type": "object", "additionalProperties": quantity,
                     "description": _text("Requests describes the minimum amount of compute resources required.")}}}


def _pod_template(component: str) -> dict:
    container = {"type": "object", "required": ["name"], "properties": {
        "name": _leaf("string", f"The name of a {component} container."), "resources": _resources()}}
    tolerations = {"type": "array", "items": {"type": "object", "properties": {
        name: _leaf("string", f"The toleration's {name}.") for name in ("effect", "key", "operator", "value")}},
        "description": _text(f"The {component} pod's tolerations.")}
    spec = {"type": "object", "properties": {
        "affinity": _affinity(), "containers": {"type": "array", "items": container},
        "initContainers": {"type": "array", "items": container},
        "nodeSelector": {"type": "object", "additionalProperties": {"type": "string"},
                         "description": _text("The pod's node selector.")},
        "priorityClassName": _leaf("string", "The pod's priority class."),
        "tolerations": tolerations,
        "topologySpreadConstraints": {"type": "array", "items": {"type": "object", "properties": {
            "labelSelector": _selector_term("label"), "maxSkew": _leaf("integer", "The degree of uneven spread."),
            "topologyKey": _leaf("string", "The key of node labels."),
            "whenUnsatisfiable": _leaf("string", "How to deal with a pod that does not satisfy the spread.")}}}}}
    return {"type": "object", "description": _text(f"{component} overrides the {component} resource."),
            "properties": {"metadata": {"type": "object", "properties": {
                "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
                "labels": {"type": "object", "additionalProperties": {"type": "string"}}}},
                "spec": {"type": "object", "properties": {
                    "minReadySeconds": _leaf("integer", "The minimum ready seconds."),
                    "template": {"type": "object", "properties": {"metadata": {"type": "object"}, "spec": spec}}}}}}


def _installation_spec() -> dict:
    pool = {"type": "object", "required": ["cidr"], "properties": {
        "blockSize": _leaf("integer", "The CIDR size of the blocks allocated to nodes: 26 for IPv4."),
        "cidr": _leaf("string", "The pool's CIDR; it must lie within the cluster's pod CIDR."),
        "disableBGPExport": _leaf("boolean", "Do not export the pool's routes over BGP."),
        "encapsulation": {"type": "string", "enum": ["IPIPCrossSubnet", "IPIP", "VXLAN", "VXLANCrossSubnet", "None"],
                          "description": _text("The encapsulation used for traffic between nodes.")},
        "name": _leaf("string", "The pool's name."),
        "natOutgoing": {"type": "string", "enum": ["Enabled", "Disabled"], "description": _text("Outgoing NAT.")},
        "nodeSelector": _leaf("string", "Which nodes may take addresses from the pool, e.g. all()."),
    }}
    autodetect = {"type": "object", "properties": {name: _leaf("string", f"Detect the node address by {name}.")
                                                   for name in ("canReach", "cidrs", "firstFound", "interface",
                                                                "kubernetes", "skipInterface")}}
    network = {"type": "object", "properties": {
        "bgp": {"type": "string", "enum": ["Enabled", "Disabled"]}, "ipPools": {"type": "array", "items": pool},
        "mtu": _leaf("integer", "The MTU of pod interfaces; auto-detected when absent."),
        "nodeAddressAutodetectionV4": autodetect, "nodeAddressAutodetectionV6": autodetect,
        "linuxDataplane": {"type": "string", "enum": ["Iptables", "BPF", "VPP", "Nftables"]}}}
    properties = {"calicoNetwork": network, "cni": {"type": "object", "properties": {
        "type": {"type": "string", "enum": ["Calico", "GKE", "AmazonVPC", "AzureVNET"]}}},
        "registry": _leaf("string", "The container registry images are pulled from."),
        "variant": {"type": "string", "enum": ["Calico", "TigeraSecureEnterprise"]}}
    for component in OVERRIDABLE:
        properties[component] = _pod_template(component)
    return {"type": "object", "description": _text("Specification of the desired state for the Calico install."),
            "properties": properties}


def _crd(kind: str) -> dict:
    plural = kind.lower() + ("es" if kind.endswith("s") else "s")
    schema: dict = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
    if kind == "Installation":
        spec = _installation_spec()
        # Upstream's status carries a `computed` copy of the whole spec schema (doubling its size).
        schema = {"type": "object", "properties": {
            "apiVersion": _leaf("string", "APIVersion defines the versioned schema of this object."),
            "kind": _leaf("string", "Kind is a string value representing the REST resource."),
            "metadata": {"type": "object"}, "spec": spec,
            "status": {"type": "object", "properties": {"computed": spec, "mtu": {"type": "integer"},
                                                        "variant": {"type": "string"}}}}}
    return {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": f"{plural}.operator.tigera.io", "annotations": {
                "controller-gen.kubebuilder.io/version": "v0.17.3"}},
            "spec": {"group": "operator.tigera.io",
                     "names": {"kind": kind, "listKind": f"{kind}List", "plural": plural, "singular": kind.lower()},
                     "scope": "Cluster",
                     "versions": [{"name": "v1", "served": True, "storage": True, "subresources": {"status": {}},
                                   "schema": {"openAPIV3Schema": schema}}]}}


def operator_crds() -> str:
    import yaml

    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    header = ("# kwizard lab: generated stand-in for Calico's operator-crds.yaml "
              "(tests/lab/sim/manifests.py); not the upstream file\n")
    # A JSON round trip gives every repeated schema its own objects: YAML anchors, as upstream has none.
    docs = json.loads(json.dumps([_crd(kind) for kind in OPERATOR_KINDS]))
    return header + yaml.dump_all(docs, Dumper=dumper, sort_keys=False,
                                  explicit_start=True, width=120)


GENERATORS = {
    "kube-flannel.yml": lambda: FLANNEL,
    "operator-crds.yaml": operator_crds,
    "tigera-operator.yaml": lambda: TIGERA_OPERATOR,
    "custom-resources.yaml": lambda: CUSTOM_RESOURCES,
    "weave-daemonset-k8s.yaml": lambda: WEAVE,
}
# Hosts the manifests are published on (kwizard/cni.py's pinned URLs); other hosts do not resolve.
HOSTS = ("github.com", "raw.githubusercontent.com", "objects.githubusercontent.com")


def name_for_url(url: str) -> str | None:
    parts = url.split("?")[0].split("/")
    if len(parts) < 4 or parts[2] not in HOSTS:
        return None
    name = parts[-1]
    return name if name in GENERATORS else None


def write_all(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, make in GENERATORS.items():
        (folder / name).write_text(make())
        (folder / name).chmod(0o644)


def text_for_url(url: str, folder: Path) -> str | None:
    """The generated manifest for a manifest URL (written once per lab by hostfs), else None."""
    name = name_for_url(url)
    if name is None:
        return None
    path = folder / name
    return path.read_text() if path.exists() else GENERATORS[name]()


if __name__ == "__main__":  # sizes, for the README
    for name, make in GENERATORS.items():
        print(f"{name}: {len(make())} bytes")
    crd = _crd("Installation")
    print(f"installations.operator.tigera.io as JSON: {len(json.dumps(crd, separators=(',', ':')))} bytes")
