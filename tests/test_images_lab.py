"""Images on lab hosts: the simulated crictl refuses what the real one refuses, and a node that
pulled its images before joining is Ready sooner than one whose kubelet pulls them afterwards.

Messages follow cri-tools cmd/crictl/image.go and main.go (see tests/lab/README.md); the
readiness model is the lab README's (`image-pull`, `cni-start`).
"""

from __future__ import annotations

import json
import time

import pytest

from tests.lab import Scenario
from tests.test_lab_strict import FLANNEL, KUBECTL, init_config, kubeadm_init, ssh, sudo

pytestmark = pytest.mark.lab
SOCKET = "unix:///run/containerd/containerd.sock"
CRICTL = f"crictl --runtime-endpoint {SOCKET}"
PROXY = "registry.k8s.io/kube-proxy:v1.33.2"


def said(stderr: str) -> str:
    """The messages crictl logged: logrus without a terminal writes `time=... level=... msg="..."`."""
    return "\n".join(json.loads(line.split(" msg=", 1)[1]) for line in stderr.splitlines() if " msg=" in line)


def test_crictl_pulls_what_the_registry_has_and_refuses_the_rest(lab_factory):
    the_lab = lab_factory(hosts=1)
    as_user = ssh(the_lab, f"{CRICTL} pull {PROXY}")
    assert as_user.exit_status == 1
    assert ('validate CRI v1 image API for endpoint "unix:///run/containerd/containerd.sock": rpc error: code = '
            'Unavailable desc = connection error: desc = "transport: Error while dialing: dial unix '
            '/run/containerd/containerd.sock: connect: permission denied"') in said(as_user.stderr)

    unknown = sudo(the_lab, f"{CRICTL} pull registry.k8s.io/kube-proxy:v1.99.0")
    assert unknown.exit_status == 1
    assert ('pulling image: rpc error: code = NotFound desc = failed to pull and unpack image '
            '"registry.k8s.io/kube-proxy:v1.99.0"') in said(unknown.stderr)
    short = sudo(the_lab, f"{CRICTL} pull weave-kube")  # a bare name is docker.io/library/...:latest
    assert 'failed to resolve reference "docker.io/library/weave-kube:latest"' in said(short.stderr)

    absent = sudo(the_lab, f"{CRICTL} inspecti -q {PROXY}")
    assert absent.exit_status == 1 and f'no such image "{PROXY}" present' in said(absent.stderr)
    pulled = sudo(the_lab, f"{CRICTL} pull {PROXY} && {CRICTL} inspecti -q {PROXY} && {CRICTL} images")
    assert pulled.exit_status == 0, pulled.stderr
    assert "Image is up to date for sha256:" in pulled.stdout
    assert "registry.k8s.io/kube-proxy" in pulled.stdout and "v1.33.2" in pulled.stdout
    weave = sudo(the_lab, f"{CRICTL} pull weaveworks/weave-npc:latest && {CRICTL} images")
    assert weave.exit_status == 0 and "docker.io/weaveworks/weave-npc" in weave.stdout

    defaults = sudo(the_lab, f"crictl pull {PROXY}")  # no endpoint: crictl warns, then tries containerd's socket
    assert defaults.exit_status == 0 and "image connect using default endpoints" in said(defaults.stderr)

    elsewhere = sudo(the_lab, f"crictl --runtime-endpoint unix:///run/crio/crio.sock pull {PROXY}")  # no CRI-O here
    assert elsewhere.exit_status == 1
    assert "dial unix /run/crio/crio.sock: connect: no such file or directory" in said(elsewhere.stderr)


def test_kubeadm_lists_a_versions_images_and_refuses_the_flag_beside_a_config(lab_factory):
    the_lab = lab_factory(hosts=1)
    listed = ssh(the_lab, "kubeadm config images list --kubernetes-version v1.32.4")
    assert listed.exit_status == 0, listed.stderr
    assert "registry.k8s.io/kube-proxy:v1.32.4" in listed.stdout.splitlines()
    assert "registry.k8s.io/pause:3.10" in listed.stdout.splitlines()
    mixed = sudo(the_lab, "printf 'apiVersion: kubeadm.k8s.io/v1beta4\\nkind: ClusterConfiguration\\n' > /root/c.yaml; "
                          "kubeadm config images list --config /root/c.yaml --kubernetes-version v1.33.2")
    assert mixed.exit_status == 1
    # apis/kubeadm/validation/validation.go ValidateMixedArguments
    assert "can not mix '--config' with arguments [kubernetes-version]" in mixed.stderr


def _first_ready(the_lab, names: list[str], limit: float = 60.0) -> dict[str, float]:
    """When each node was first seen Ready (time.monotonic), polling the lab's kubectl."""
    seen: dict[str, float] = {}
    deadline = time.monotonic() + limit
    while len(seen) < len(names) and time.monotonic() < deadline:
        out = sudo(the_lab, f"{KUBECTL} get nodes --no-headers").stdout
        now = time.monotonic()
        for line in out.splitlines():
            name, status = line.split()[:2]
            if status == "Ready" and name in names:
                seen.setdefault(name, now)
        time.sleep(0.1)
    return seen


def test_a_node_that_pulled_its_images_before_joining_is_ready_sooner(lab_factory):
    scale = 0.05
    the_lab = lab_factory(hosts=3, scenario=Scenario("images", durations="realistic", time_scale=scale))
    assert kubeadm_init(the_lab, init_config(the_lab.hosts[0].address)).exit_status == 0
    join = sudo(the_lab, "kubeadm token create --print-join-command").stdout.strip()
    assert sudo(the_lab, f"curl -fsSL {FLANNEL} -o /root/flannel.yml && {KUBECTL} apply -f /root/flannel.yml"
                ).exit_status == 0
    images = [PROXY, "registry.k8s.io/pause:3.10", "ghcr.io/flannel-io/flannel-cni-plugin:v1.9.1-flannel3",
              "ghcr.io/flannel-io/flannel:v0.28.9"]
    pulled = sudo(the_lab, "; ".join(f"{CRICTL} pull {i}" for i in images), host=1)
    assert pulled.exit_status == 0, pulled.stderr
    prepare = "sysctl -qw net.ipv4.ip_forward=1 && "
    joined = {}
    for host in (1, 2):
        result = sudo(the_lab, prepare + join + f" --node-name w{host}", host=host)
        assert result.exit_status == 0, result.stderr
        joined[f"w{host}"] = time.monotonic()
    ready = _first_ready(the_lab, ["w1", "w2"])
    start, pull = 23.0 * scale, 8.5 * scale
    assert ready["w1"] - joined["w1"] >= start - 0.3  # nothing to pull: its plugin pod starts, `cni-start` after the join
    # the other's kubelet pulls pause, kube-proxy and Flannel's two images one by one first
    assert ready["w2"] - joined["w2"] >= 4 * pull + start - 0.5
    # and the difference is those four pulls (1.7 s here; half of it allows for polling)
    assert (ready["w2"] - joined["w2"]) - (ready["w1"] - joined["w1"]) > 2 * pull
