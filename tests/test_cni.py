"""The CNI catalogue and the manifest edits that make a plugin match the pod CIDR."""

from __future__ import annotations

import dataclasses
import ipaddress
import json
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from kwizard.cni import catalogue as cni
from kwizard.cni.catalogue import CATALOGUE, CONTROL_PLANE_PORTS, WORKER_PORTS, Maintenance, ManifestError, Port, UnknownPluginError, get_plugin, manifest_pod_cidr, patch_calico_manifest, patch_flannel_manifest, patch_manifest, patch_weave_manifest
from kwizard.profile.cidr import ipv6_refusal

# In CI `shared/` sits beside the repo clone.
FIXTURES = Path(__file__).resolve().parents[1].parent / "shared" / "fixtures" / "cni"
FIXTURE_FILES = {
    "flannel": "kube-flannel.yml",
    "calico": "calico-custom-resources.yaml",
    "weave": "weave-daemonset-k8s.yaml",
}


def fixture(plugin_id: str) -> str:
    path = FIXTURES / FIXTURE_FILES[plugin_id]
    if not path.is_file():
        pytest.skip(f"upstream manifest fixture {path.name} not found: expected shared/fixtures/cni beside the repo")
    return path.read_text()


# --- Small manifests of our own ---------------------------------------------------

SMALL_FLANNEL = """\
apiVersion: v1
kind: Namespace
metadata:
  name: kube-flannel
---
kind: ConfigMap
apiVersion: v1
metadata:
  name: kube-flannel-cfg
  namespace: kube-flannel
data:
  net-conf.json: |
    {
      "Network": "10.244.0.0/16",
      "Backend": {
        "Type": "vxlan",
        "VNI": 1
      }
    }
---
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: kube-flannel-ds
  namespace: kube-flannel
spec:
  template:
    spec:
      containers:
      - name: kube-flannel
        args:
        - --ip-masq
        - --kube-subnet-mgr
"""

SMALL_WEAVE_DOCS = """\
apiVersion: v1
kind: ServiceAccount
metadata:
  name: weave-net
  namespace: kube-system
---
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: weave-net
  namespace: kube-system
spec:
  template:
    spec:
      containers:
      - name: weave
        env:
      - name: weave-npc
        env:
        - name: HOSTNAME
          value: x
"""

SMALL_WEAVE_LIST = """\
apiVersion: v1
kind: List
items:
  - apiVersion: apps/v1
    kind: DaemonSet
    metadata:
      name: weave-net
    spec:
      template:
        spec:
          initContainers:
            - name: weave-init
              env:
          containers:
            - name: weave
              env:
                - name: IPALLOC_RANGE
                  value: 10.32.0.0/12
"""

SMALL_CALICO = """\
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
      encapsulation: IPIP
      natOutgoing: Enabled
---
apiVersion: operator.tigera.io/v1
kind: APIServer
metadata:
  name: default
spec: {}
"""

SMALL = {"flannel": SMALL_FLANNEL, "calico": SMALL_CALICO, "weave": SMALL_WEAVE_LIST}


def objects(text: str) -> list[dict]:
    """Every object in the manifest, List items unrolled, in order."""
    out = []
    for doc in yaml.safe_load_all(text):
        if doc is None:
            continue
        out.extend(doc["items"] if doc.get("kind") == "List" else [doc])
    return out


def identities(text: str) -> list[tuple[str, str]]:
    return [(o["kind"], o["metadata"]["name"]) for o in objects(text)]


def weave_container(text: str, name: str = "weave") -> dict:
    ds = next(o for o in objects(text) if o["kind"] == "DaemonSet")
    return next(c for c in ds["spec"]["template"]["spec"]["containers"] if c["name"] == name)


def env_of(container: dict) -> dict[str, dict]:
    return {e["name"]: e for e in container.get("env") or []}


def calico_network(text: str) -> dict:
    return next(o for o in objects(text) if o["kind"] == "Installation")["spec"]["calicoNetwork"]


def flannel_conf(text: str) -> dict:
    cm = next(o for o in objects(text) if o["kind"] == "ConfigMap")
    return json.loads(cm["data"]["net-conf.json"])


# --- Catalogue ------------------------------------------------------------------------


def test_catalogue_has_the_three_plugins_with_their_default_pod_cidrs():
    assert list(CATALOGUE) == ["flannel", "calico", "weave"]
    assert {p.id: p.default_pod_cidr for p in CATALOGUE.values()} == {
        "flannel": "10.244.0.0/16",
        "calico": "192.168.0.0/16",
        "weave": "10.32.0.0/12",
    }
    for plugin in CATALOGUE.values():
        assert plugin.name and plugin.summary and plugin.recommendation and plugin.guidance
        assert plugin.mtu and plugin.encryption and plugin.maintenance_note


def test_catalogue_entries_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        get_plugin("flannel").default_pod_cidr = "10.0.0.0/8"  # type: ignore[misc]


def test_get_plugin_unknown_names_the_choices():
    with pytest.raises(UnknownPluginError) as err:
        get_plugin("cilium")
    assert "cilium" in str(err.value) and "flannel, calico, weave" in str(err.value)


def test_weave_is_labelled_archived_plainly():
    weave = get_plugin("weave")
    assert weave.maintenance is Maintenance.ARCHIVED and weave.is_archived
    assert "no longer maintained" in weave.guidance.lower()
    assert "2024" in weave.guidance and "archived" in weave.guidance
    assert "unmaintained" in weave.summary.lower()
    assert "WEAVE_PASSWORD" in weave.guidance
    assert not get_plugin("flannel").is_archived and not get_plugin("calico").is_archived


def test_guidance_carries_the_seed_advice_brought_up_to_date():
    flannel, calico = get_plugin("flannel").guidance, get_plugin("calico").guidance
    assert "simplest" in flannel.lower() and "VXLAN" in flannel and "NetworkPolicy" in flannel
    assert "8285-8472/udp" in flannel  # says the seed's range was too wide
    for term in ("NetworkPolicy", "BGP", "MTU", "192.168.0.0/16", "first-found", "operator"):
        assert term in calico
    assert "Flannel" in get_plugin("flannel").recommendation
    assert "NetworkPolicy" in get_plugin("calico").recommendation
    assert get_plugin("flannel").network_policy is False
    assert get_plugin("calico").network_policy and get_plugin("weave").network_policy


def labels(ports) -> list[str]:
    return [p.label for p in ports]


def test_flannel_opens_only_vxlan_by_default_not_the_seeds_wide_range():
    flannel = get_plugin("flannel")
    assert labels(flannel.ports_for()) == ["8472/udp"]
    assert labels(flannel.ports_for("udp")) == ["8285/udp"]
    assert labels(flannel.ports_for("wireguard")) == ["51820/udp", "51821/udp"]
    assert labels(flannel.ports_for("host-gw")) == []


def test_calico_ports_follow_the_encapsulation():
    calico = get_plugin("calico")
    assert labels(calico.ports_for()) == ["179/tcp", "4789/udp", "5473/tcp"]
    # IP-in-IP is IP protocol 4, `ipencap` in /etc/protocols (`ipip` there is 94)
    assert labels(calico.ports_for("IPIP")) == ["179/tcp", "IP protocol 4 (ipencap)", "5473/tcp"]
    assert "--add-protocol=4" in [p.firewalld_arg for p in calico.ports_for("IPIP")]
    assert labels(calico.ports_for("VXLAN")) == ["4789/udp", "5473/tcp"]
    assert "51820-51821/udp" in labels(calico.ports_for(encryption=True))
    with pytest.raises(ValueError, match="no backend"):
        calico.ports_for("geneve")


def test_weave_ports_add_esp_with_encryption():
    weave = get_plugin("weave")
    assert labels(weave.ports_for()) == ["6783/tcp", "6783-6784/udp"]
    assert labels(weave.ports_for(encryption=True))[-1] == "IP protocol 50 (esp)"


def test_port_firewalld_arguments():
    assert Port(8472, "udp", "x").firewalld_arg == "--add-port=8472/udp"
    assert Port(30000, "tcp", "x", end=32767).firewalld_arg == "--add-port=30000-32767/tcp"
    # by number: /etc/protocols names differ (Debian: ipencap = 4, ipip = 94; IANA-derived: IPv4 = 4)
    assert Port(None, "ipencap", "x").firewalld_arg == "--add-protocol=4"
    assert Port(None, "esp", "x").firewalld_arg == "--add-protocol=50"
    with pytest.raises(ValueError):
        Port(None, "ipip", "x")  # 94 in /etc/protocols, never what Calico's IPIP sends
    with pytest.raises(ValueError):
        Port(None, "udp", "x")
    with pytest.raises(ValueError):
        Port(5, "tcp", "x", end=4)


def test_kubeadm_control_plane_and_worker_ports():
    assert labels(CONTROL_PLANE_PORTS) == ["6443/tcp", "2379-2380/tcp", "10250/tcp", "10259/tcp", "10257/tcp"]
    # ports-and-protocols.md, worker nodes: kubelet, kube-proxy, NodePorts on TCP and UDP
    assert labels(WORKER_PORTS) == ["10250/tcp", "10256/tcp", "30000-32767/tcp", "30000-32767/udp"]


def test_manifest_sources_are_pinned_and_say_how_they_are_applied():
    flannel, calico, weave = (get_plugin(i) for i in ("flannel", "calico", "weave"))
    assert flannel.manifests[0].url.endswith("/v0.28.9/kube-flannel.yml")
    assert flannel.manifests[0].command("kube-flannel.yml") == ["kubectl", "apply", "-f", "kube-flannel.yml"]
    assert [m.filename for m in calico.manifests] == ["operator-crds.yaml", "tigera-operator.yaml", "custom-resources.yaml"]
    # server-side apply: retryable (create fails AlreadyExists) and no 262,144-byte last-applied annotation
    assert all(m.verb == "apply --server-side" and "/v3.32.1/" in m.url for m in calico.manifests)
    assert calico.manifests[0].command("c.yaml") == ["kubectl", "apply", "--server-side", "--force-conflicts", "-f", "c.yaml"]
    assert calico.patched_manifest.filename == "custom-resources.yaml"
    assert weave.manifests[0].url.endswith("/v2.8.1/weave-daemonset-k8s.yaml")
    assert "cloud.weave.works" not in weave.manifests[0].url
    for plugin in CATALOGUE.values():
        assert "latest" not in " ".join(m.url for m in plugin.manifests)
        assert sum(m.patched for m in plugin.manifests) == 1


@pytest.mark.parametrize("plugin_id", ["flannel", "weave"])
def test_the_images_workers_pull_are_those_the_published_manifest_runs(plugin_id):
    # what the node-images step pulls on every worker must be what the plugin's DaemonSet will start
    assert list(get_plugin(plugin_id).node_images) == cni.daemonset_images(fixture(plugin_id))


def test_calico_names_no_node_images_its_operator_picks_them():
    assert get_plugin("calico").node_images == ()
    operator = FIXTURES / "calico-tigera-operator.yaml"
    if not operator.is_file():
        pytest.skip("upstream manifest fixture calico-tigera-operator.yaml not found: expected shared/fixtures/cni")
    assert cni.daemonset_images(operator.read_text()) == []  # only a Deployment: the operator


def test_daemonset_images_look_inside_lists_and_init_containers():
    listed = yaml.safe_dump({"kind": "List", "items": [
        {"kind": "DaemonSet", "spec": {"template": {"spec": {
            "initContainers": [{"name": "init", "image": "a/b:1"}],
            "containers": [{"name": "main", "image": "a/c:2"}, {"name": "again", "image": "a/b:1"}]}}}},
        {"kind": "Deployment", "spec": {"template": {"spec": {"containers": [{"name": "d", "image": "x/y:3"}]}}}},
    ]})
    assert cni.daemonset_images(listed) == ["a/b:1", "a/c:2"]


# --- Patching the upstream fixtures -------------------------------------------------------


@pytest.mark.parametrize("plugin_id", ["flannel", "calico", "weave"])
def test_fixture_round_trips_pod_cidr_and_keeps_every_other_object(plugin_id):
    original = fixture(plugin_id)
    patched = patch_manifest(plugin_id, original, "10.48.0.0/16")
    assert manifest_pod_cidr(plugin_id, patched) == "10.48.0.0/16"
    assert identities(patched) == identities(original)
    assert "10.48.0.0/16" in patched
    # Objects that do not carry the pod network come through untouched.
    carrier = {"flannel": "ConfigMap", "calico": "Installation", "weave": "DaemonSet"}[plugin_id]
    before = [o for o in objects(original) if o["kind"] != carrier]
    after = [o for o in objects(patched) if o["kind"] != carrier]
    assert before == after


def test_flannel_fixture_keeps_backend_and_rest_of_net_conf():
    original = fixture("flannel")
    assert manifest_pod_cidr("flannel", original) == "10.244.0.0/16"
    conf = flannel_conf(patch_flannel_manifest(original, "10.10.0.0/16"))
    assert conf == {**flannel_conf(original), "Network": "10.10.0.0/16"}
    assert conf["Backend"] == {"Type": "vxlan"} and conf["EnableNFTables"] is False


def test_flannel_output_keeps_key_order_and_readable_json_block():
    patched = patch_flannel_manifest(fixture("flannel"), "10.10.0.0/16")
    assert patched.startswith("---\nkind: Namespace\napiVersion: v1\n")  # not sorted
    assert "net-conf.json: |\n    {\n" in patched


def test_flannel_iface_is_added_once_even_when_patched_twice():
    once = patch_flannel_manifest(fixture("flannel"), "10.10.0.0/16", iface="eth0")
    twice = patch_flannel_manifest(once, "10.10.0.0/16", iface="eth1")
    ds = next(o for o in objects(twice) if o["kind"] == "DaemonSet")
    args = ds["spec"]["template"]["spec"]["containers"][0]["args"]
    assert [a for a in args if a.startswith("--iface")] == ["--iface=eth1"]
    assert args[:3] == ["--ip-masq", "--kube-subnet-mgr", "--healthz-port=8081"]


def test_weave_fixture_copes_with_empty_env_and_references_the_password_secret():
    original = fixture("weave")
    assert manifest_pod_cidr("weave", original) is None  # upstream relies on the 10.32.0.0/12 default
    patched = patch_weave_manifest(original, "10.48.0.0/16", password_secret=True, mtu=1300)
    env = env_of(weave_container(patched))
    assert env["IPALLOC_RANGE"] == {"name": "IPALLOC_RANGE", "value": "10.48.0.0/16"}
    assert env["WEAVE_PASSWORD"]["valueFrom"] == {"secretKeyRef": {"name": "weave-passwd", "key": "weave-passwd"}}
    assert "value" not in env["WEAVE_PASSWORD"]
    assert env["WEAVE_MTU"]["value"] == "1300"
    assert list(env)[:2] == ["INIT_CONTAINER", "HOSTNAME"]  # existing entries kept, in order
    assert "IPALLOC_RANGE" not in env_of(weave_container(patched, "weave-npc"))


def test_calico_fixture_keeps_pool_settings():
    original = fixture("calico")
    assert manifest_pod_cidr("calico", original) == "192.168.0.0/16"
    patched = patch_calico_manifest(original, "10.48.0.0/16", mtu=1450, autodetect_can_reach="192.168.122.11")
    network = calico_network(patched)
    assert network["ipPools"][0] == {
        "name": "default-ipv4-ippool",
        "blockSize": 26,
        "cidr": "10.48.0.0/16",
        "encapsulation": "VXLANCrossSubnet",
        "natOutgoing": "Enabled",
        "nodeSelector": "all()",
    }
    assert network["mtu"] == 1450
    assert network["nodeAddressAutodetectionV4"] == {"canReach": "192.168.122.11"}


# --- Patching our own small manifests -------------------------------------------------------


def test_flannel_backend_and_extra_backend_keys():
    conf = flannel_conf(patch_flannel_manifest(SMALL_FLANNEL, "10.1.0.0/16", backend="wireguard"))
    assert conf == {"Network": "10.1.0.0/16", "Backend": {"Type": "wireguard", "VNI": 1}}


def test_weave_as_separate_documents_with_null_env():
    patched = patch_weave_manifest(SMALL_WEAVE_DOCS, "10.40.0.0/16")
    assert identities(patched) == [("ServiceAccount", "weave-net"), ("DaemonSet", "weave-net")]
    assert env_of(weave_container(patched))["IPALLOC_RANGE"]["value"] == "10.40.0.0/16"
    assert manifest_pod_cidr("weave", patched) == "10.40.0.0/16"


def test_weave_replaces_an_existing_range_instead_of_adding_a_second():
    patched = patch_weave_manifest(SMALL_WEAVE_LIST, "10.40.0.0/16")
    env = weave_container(patched)["env"]
    assert [e["name"] for e in env] == ["IPALLOC_RANGE"] and env[0]["value"] == "10.40.0.0/16"
    # The init container's empty env is left alone (and does not break anything).
    ds = objects(patched)[0]
    assert ds["spec"]["template"]["spec"]["initContainers"][0]["env"] is None
    assert yaml.safe_load(patched)["kind"] == "List"


def test_calico_interface_detection_is_anchored_and_exclusive():
    patched = patch_calico_manifest(SMALL_CALICO, "10.48.0.0/16", autodetect_interface="eth0")
    assert calico_network(patched)["nodeAddressAutodetectionV4"] == {"interface": "^eth0$"}
    assert calico_network(patched)["ipPools"][0]["encapsulation"] == "IPIP"
    with pytest.raises(ValueError, match="not both"):
        patch_calico_manifest(SMALL_CALICO, "10.48.0.0/16", autodetect_interface="eth0", autodetect_can_reach="10.0.0.1")
    with pytest.raises(ValueError):
        patch_calico_manifest(SMALL_CALICO, "10.48.0.0/16", autodetect_interface="eth 0")


@pytest.mark.parametrize(
    ("cidr", "block"),
    [("10.48.0.0/16", 26), ("10.48.0.0/27", 27), ("10.48.0.0/28", 28)],
)
def test_calico_block_size_kept_unless_it_no_longer_fits(cidr, block):
    pool = calico_network(patch_calico_manifest(SMALL_CALICO, cidr))["ipPools"][0]
    assert pool["blockSize"] == block and pool["cidr"] == cidr


def test_calico_installation_without_pools_gets_the_default_pool():
    text = "apiVersion: operator.tigera.io/v1\nkind: Installation\nmetadata:\n  name: default\nspec: {}\n"
    pool = calico_network(patch_calico_manifest(text, "10.48.0.0/16"))["ipPools"][0]
    assert pool["cidr"] == "10.48.0.0/16" and pool["encapsulation"] == "VXLANCrossSubnet"


@pytest.mark.parametrize(
    ("plugin_id", "text", "missing"),
    [
        ("flannel", SMALL_CALICO, "ConfigMap named kube-flannel-cfg"),
        ("calico", SMALL_FLANNEL, "object of kind Installation"),
        ("weave", SMALL_FLANNEL, "DaemonSet named weave-net"),
        ("flannel", SMALL_FLANNEL.replace("net-conf.json", "other.json"), "net-conf.json"),
        ("weave", SMALL_WEAVE_DOCS.replace("- name: weave\n", "- name: weaver\n"), "container named weave"),
        ("flannel", "", "ConfigMap named kube-flannel-cfg"),
    ],
)
def test_missing_objects_raise_a_manifest_error_naming_them(plugin_id, text, missing):
    with pytest.raises(ManifestError, match=missing):
        patch_manifest(plugin_id, text, "10.48.0.0/16")
    with pytest.raises(ManifestError, match=missing):
        manifest_pod_cidr(plugin_id, text)


def test_manifest_error_lists_what_was_found():
    with pytest.raises(ManifestError, match=r"found: Installation/default, APIServer/default"):
        patch_flannel_manifest(SMALL_CALICO, "10.48.0.0/16")


def test_invalid_yaml_is_a_manifest_error():
    with pytest.raises(ManifestError, match="not valid YAML"):
        manifest_pod_cidr("flannel", "kind: [unclosed")


@pytest.mark.parametrize("plugin_id", ["flannel", "calico", "weave"])
def test_every_plugin_refuses_ipv6_in_the_profile_s_words(plugin_id):
    with pytest.raises(ValueError) as refused:
        patch_manifest(plugin_id, SMALL[plugin_id], "fd00:10::/48")
    assert str(refused.value) == str(ipv6_refusal("cluster.pod_cidr", "fd00:10::/48"))


@pytest.mark.parametrize("plugin_id", ["flannel", "calico", "weave"])
def test_host_bits_are_refused_not_rounded(plugin_id):
    with pytest.raises(ValueError):
        patch_manifest(plugin_id, SMALL[plugin_id], "10.244.1.0/16")


def test_unknown_plugin_id_in_dispatch():
    with pytest.raises(ValueError, match="cilium"):
        patch_manifest("cilium", SMALL_FLANNEL, "10.1.0.0/16")
    with pytest.raises(ValueError, match="cilium"):
        manifest_pod_cidr("cilium", SMALL_FLANNEL)


def test_module_reexports_one_import_for_callers():
    assert cni.patch_manifest is patch_manifest and cni.ManifestError is ManifestError


# --- Properties -----------------------------------------------------------------------------

ipv4_pod_cidrs = st.builds(
    lambda addr, prefix: str(ipaddress.ip_network(f"{addr}/{prefix}", strict=False)),
    st.ip_addresses(v=4),
    st.integers(min_value=8, max_value=26),
)


@settings(max_examples=60, deadline=None)
@given(plugin_id=st.sampled_from(["flannel", "calico", "weave"]), cidr=ipv4_pod_cidrs)
def test_patch_then_read_round_trips(plugin_id, cidr):
    patched = patch_manifest(plugin_id, SMALL[plugin_id], cidr)
    assert manifest_pod_cidr(plugin_id, patched) == cidr
    # Patching is idempotent: a second pass changes nothing.
    assert patch_manifest(plugin_id, patched, cidr) == patched


@settings(max_examples=15, deadline=None)
@given(plugin_id=st.sampled_from(["flannel", "calico", "weave"]), cidr=ipv4_pod_cidrs)
def test_patch_then_read_round_trips_on_upstream_fixtures(plugin_id, cidr):
    original = fixture(plugin_id)
    patched = patch_manifest(plugin_id, original, cidr)
    assert manifest_pod_cidr(plugin_id, patched) == cidr
    assert identities(patched) == identities(original)
