# kwizard lab simulator support -- NOT Calico's real operator-crds.yaml.
# The shared fixtures hold tigera-operator.yaml and custom-resources.yaml as
# published, but not the (very large) operator-crds.yaml that Calico 3.30+
# applies first. The lab's curl serves this stand-in in its place: one
# CustomResourceDefinition per kind custom-resources.yaml uses, enough for the
# simulated API server to accept them in the same order a real cluster would.

KINDS = ("Installation", "APIServer", "Goldmane", "Whisker", "ImageSet", "TigeraStatus")


def _crd(kind: str) -> str:
    plural = kind.lower() + ("es" if kind.endswith("s") else "s")
    return f"""\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: {plural}.operator.tigera.io
spec:
  group: operator.tigera.io
  names:
    kind: {kind}
    plural: {plural}
  scope: Cluster
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
"""


def manifest() -> str:
    header = "# kwizard lab stand-in for Calico's operator-crds.yaml (see tests/lab/sim/calico_operator_crds.py)\n"
    return header + "---\n".join(_crd(kind) for kind in KINDS)
