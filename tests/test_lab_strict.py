"""The strict lab: each simulator refuses what the real tool refuses, with the real tool's words.

Every expected message names the upstream source it comes from (see tests/lab/README.md,
"How strict the simulators are"). Lab tests need root (they skip otherwise, fail under CI).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

import asyncssh
import pytest

from tests.lab import HostOptions, Scenario
from tests.lab.scenario import named

SIM = Path(__file__).resolve().parent / "lab" / "sim"
sys.path.insert(0, str(SIM))
import manifests  # noqa: E402  (tests/lab/sim/manifests.py: stdlib + PyYAML)

sys.path.remove(str(SIM))

lab = pytest.mark.lab
KUBECTL = "kubectl --kubeconfig /etc/kubernetes/admin.conf"
CALICO = "https://raw.githubusercontent.com/projectcalico/calico/v3.32.1/manifests"
FLANNEL = "https://github.com/flannel-io/flannel/releases/download/v0.28.9/kube-flannel.yml"
WEAVE = "https://github.com/weaveworks/weave/releases/download/v2.8.1/weave-daemonset-k8s.yaml"


# --- helpers -----------------------------------------------------------------------------------


def ssh(the_lab, command: str, host: int = 0, timeout: float = 60.0) -> asyncssh.SSHCompletedProcess:
    """One command over a real SSH session as the lab user (exit_status None: the connection dropped)."""
    h = the_lab.hosts[host]

    async def go():
        async with asyncssh.connect(h.address, port=h.port, username=h.user, client_keys=[str(the_lab.client_key)],
                                    known_hosts=str(the_lab.known_hosts)) as conn:
            return await asyncio.wait_for(conn.run(command), timeout)

    return asyncio.run(go())


def sudo(the_lab, command: str, host: int = 0, timeout: float = 60.0) -> asyncssh.SSHCompletedProcess:
    return ssh(the_lab, f"sudo -n sh -c {json.dumps(command)}", host, timeout)


def init_config(address: str, version: str | None = "v1.33.2", api: str = "kubeadm.k8s.io/v1beta4",
                pod_subnet: str = "10.244.0.0/16", node_name: str | None = None) -> str:
    name = f"  name: {node_name}\n" if node_name else ""
    args = ("  kubeletExtraArgs:\n  - name: node-ip\n    value: " + address + "\n") if api.endswith("v1beta4") else \
        ("  kubeletExtraArgs:\n    node-ip: " + address + "\n")
    kubernetes = f"kubernetesVersion: {version}\n" if version else ""
    return (f"apiVersion: {api}\nkind: InitConfiguration\nlocalAPIEndpoint:\n  advertiseAddress: {address}\n"
            f"nodeRegistration:\n  criSocket: unix:///var/run/containerd/containerd.sock\n{name}{args}"
            f"---\napiVersion: {api}\nkind: ClusterConfiguration\n{kubernetes}"
            f"networking:\n  podSubnet: {pod_subnet}\n")


def write(the_lab, path: str, text: str, host: int = 0) -> None:
    result = the_lab.exec(host, f"cat > {path}", input=text)
    assert result.returncode == 0, result.stderr


def kubeadm_init(the_lab, config: str, host: int = 0, extra: str = "") -> asyncssh.SSHCompletedProcess:
    write(the_lab, "/root/kubeadm.yaml", config, host)
    return sudo(the_lab, f"sysctl -qw net.ipv4.ip_forward=1 && systemctl enable kubelet 2>/dev/null; "
                         f"kubeadm init --config /root/kubeadm.yaml {extra}", host)


def apt_kubernetes(the_lab, minors: list[str], host: int = 0) -> None:
    """A Debian/Ubuntu host with pkgs.k8s.io repositories for these minors, containerd running."""
    lines = "".join(f"deb [signed-by=/etc/apt/keyrings/kubernetes-apt-keyring.gpg] "
                    f"https://pkgs.k8s.io/core:/stable:/v{m}/deb/ /\n" for m in minors)
    write(the_lab, "/etc/apt/sources.list.d/kubernetes.list", lines, host)
    result = sudo(the_lab, "apt-get update -q && apt-get install -y containerd && systemctl enable --now containerd "
                           "&& swapoff -a", host)
    assert result.exit_status == 0, result.stderr


# --- 1. manifests the lab generates (no ../shared/fixtures needed) -----------------------------------


def test_generated_manifests_carry_what_kwizard_edits():
    import yaml

    flannel = [d for d in yaml.safe_load_all(manifests.GENERATORS["kube-flannel.yml"]()) if d]
    cm = next(d for d in flannel if d["kind"] == "ConfigMap")
    assert (cm["metadata"]["name"], cm["metadata"]["namespace"]) == ("kube-flannel-cfg", "kube-flannel")
    assert json.loads(cm["data"]["net-conf.json"]) | {} == {"Network": "10.244.0.0/16", "EnableNFTables": False,
                                                          "Backend": {"Type": "vxlan"}}
    assert any(d["kind"] == "DaemonSet" and d["metadata"]["name"] == "kube-flannel-ds" for d in flannel)
    assert {d["kind"] for d in flannel} >= {"Namespace", "ConfigMap", "DaemonSet"}

    crds = [d for d in yaml.safe_load_all(manifests.GENERATORS["operator-crds.yaml"]()) if d]
    installation = next(d for d in crds if d["metadata"]["name"] == "installations.operator.tigera.io")
    # apimachinery TotalAnnotationSizeLimitB: the last-applied annotation of this CRD cannot fit
    assert len(json.dumps(installation, separators=(",", ":"))) > 262144
    operator = [d for d in yaml.safe_load_all(manifests.GENERATORS["tigera-operator.yaml"]()) if d]
    assert ("Deployment", "tigera-operator", "tigera-operator") in {
        (d["kind"], d["metadata"]["name"], d["metadata"].get("namespace")) for d in operator}
    resources = [d for d in yaml.safe_load_all(manifests.GENERATORS["custom-resources.yaml"]()) if d]
    pool = resources[0]["spec"]["calicoNetwork"]["ipPools"][0]
    assert resources[0]["kind"] == "Installation" and resources[0]["metadata"]["name"] == "default"
    assert pool == {"name": "default-ipv4-ippool", "blockSize": 26, "cidr": "192.168.0.0/16",
                    "encapsulation": "VXLANCrossSubnet", "natOutgoing": "Enabled", "nodeSelector": "all()"}
    assert ("APIServer", "default") in {(d["kind"], d["metadata"]["name"]) for d in resources}

    weave = yaml.safe_load(manifests.GENERATORS["weave-daemonset-k8s.yaml"]())
    assert weave["kind"] == "List"
    ds = next(i for i in weave["items"] if i["kind"] == "DaemonSet")
    assert (ds["metadata"]["name"], ds["metadata"]["namespace"]) == ("weave-net", "kube-system")
    init = ds["spec"]["template"]["spec"]["initContainers"][0]
    assert "env" in init and init["env"] is None  # the value-less `env:` upstream has
    assert [c["name"] for c in ds["spec"]["template"]["spec"]["containers"]][0] == "weave"


def test_kwizard_patches_the_generated_manifests():
    patcher = pytest.importorskip("kwizard.cni.manifests", reason="kwizard's manifest patcher moved")
    for plugin, name in (("flannel", "kube-flannel.yml"), ("calico", "custom-resources.yaml"),
                         ("weave", "weave-daemonset-k8s.yaml")):
        patched = patcher.patch_manifest(plugin, manifests.GENERATORS[name](), "10.20.0.0/16")
        assert patcher.manifest_pod_cidr(plugin, patched) == "10.20.0.0/16"


@lab
def test_curl_and_kubectl_serve_the_generated_manifests(lab_factory):
    the_lab = lab_factory(hosts=1)
    assert (the_lab.sim_dir / "manifests" / "operator-crds.yaml").exists()
    for url, name in ((FLANNEL, "kube-flannel.yml"), (f"{CALICO}/operator-crds.yaml", "operator-crds.yaml"),
                      (f"{CALICO}/tigera-operator.yaml", "tigera-operator.yaml"),
                      (f"{CALICO}/custom-resources.yaml", "custom-resources.yaml"), (WEAVE, "weave-daemonset-k8s.yaml")):
        got = ssh(the_lab, f"curl -fsSL -o /tmp/m {url} && sha256sum < /tmp/m")
        assert got.exit_status == 0, got.stderr
        want = the_lab.exec(0, f"sha256sum < /opt/kwizard-lab-sim/manifests/{name}").stdout
        assert got.stdout == want
    missing = ssh(the_lab, "curl -fsSL https://example.invalid/x.yaml")
    assert missing.exit_status == 6 and "curl: (6) Could not resolve host: example.invalid" in missing.stderr


# --- 3. kubeadm --------------------------------------------------------------------------------------


@lab
def test_kubeadm_refuses_a_bare_minor_and_resolves_a_label_offline(lab_factory):
    the_lab = lab_factory(hosts=1)
    address = the_lab.hosts[0].address
    bare = kubeadm_init(the_lab, init_config(address, version="1.33"))
    assert bare.exit_status == 1
    # cmd/kubeadm/app/util/version.go (kubernetesReleaseVersion)
    assert ('version "1.33" doesn\'t match patterns for neither semantic version nor labels (stable, latest, ...)'
            in bare.stderr)
    label = kubeadm_init(the_lab, init_config(address, version="stable-1.33"))
    assert label.exit_status == 0, label.stderr
    # version.go: no internet -> klog warnings, then the kubeadm's own version
    assert "could not fetch a Kubernetes version from the internet" in label.stderr
    assert "falling back to the local client version: v1.33.2" in label.stderr
    assert "[init] Using Kubernetes version: v1.33.2" in label.stdout


@lab
def test_kubeadm_node_name_must_be_a_dns_subdomain(lab_factory):
    the_lab = lab_factory(hosts=1)
    result = kubeadm_init(the_lab, init_config(the_lab.hosts[0].address, node_name="Kw_CP"))
    assert result.exit_status == 1
    # apis/kubeadm/validation/validation.go ValidateNodeRegistrationOptions + apimachinery IsDNS1123Subdomain
    assert ('nodeRegistration.name: Invalid value: "Kw_CP": a lowercase RFC 1123 subdomain must consist of lower '
            "case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character"
            in result.stderr)
    unknown = kubeadm_init(the_lab, init_config(the_lab.hosts[0].address, node_name="cp-elsewhere"))
    assert unknown.exit_status == 0, unknown.stderr
    # preflight/checks.go HostnameCheck: a warning on the node name, not the machine's hostname
    assert '[WARNING Hostname]: hostname "cp-elsewhere" could not be reached' in unknown.stderr


@lab
def test_port_check_ignores_time_wait_sockets_after_a_reset(lab_factory):
    the_lab = lab_factory(hosts=2)
    address = the_lab.hosts[0].address
    assert kubeadm_init(the_lab, init_config(address)).exit_status == 0
    # The listener accepts and closes; the client reads to its end-of-file before closing, so the
    # listener's side closed first and holds the TIME_WAIT (a client closing first would hold it instead).
    drain = "; ".join(f"exec 3<>/dev/tcp/{address}/{port}; cat <&3 >/dev/null" for port in (6443, 10250))
    for _ in range(5):
        assert ssh(the_lab, f"timeout 5 bash -c '{drain}'", host=1).exit_status == 0
    states = the_lab.exec(0, "cat /proc/net/tcp").stdout
    assert any(line.split()[3] == "06" for line in states.splitlines()[1:])  # 06: TCP_TIME_WAIT
    assert sudo(the_lab, "kubeadm reset -f").exit_status == 0
    again = kubeadm_init(the_lab, init_config(address))
    # preflight/checks.go PortOpenCheck uses net.Listen (SO_REUSEADDR): TIME_WAIT is not "in use"
    assert again.exit_status == 0, again.stderr
    assert "[ERROR Port-6443]" not in again.stderr


@lab
def test_join_runs_joins_own_preflight(lab_factory):
    the_lab = lab_factory(hosts=2, scenario=Scenario("join-checks", default=HostOptions(firewalld_running=True)))
    init = kubeadm_init(the_lab, init_config(the_lab.hosts[0].address))
    assert init.exit_status == 0, init.stderr
    assert "[WARNING Firewalld]: firewalld is active, please ensure ports [6443 10250] are open" in init.stderr
    join = sudo(the_lab, f"{KUBECTL} version >/dev/null 2>&1; kubeadm token create --print-join-command", 0).stdout
    assert sudo(the_lab, "sysctl -qw net.ipv4.ip_forward=1 && mkdir -p /etc/kubernetes && touch /etc/kubernetes/bootstrap-kubelet.conf",
                1).exit_status == 0
    refused = sudo(the_lab, join.strip(), 1)
    assert refused.exit_status == 1
    # preflight/checks.go JoinNodeChecks: kubelet.conf and bootstrap-kubelet.conf must not exist; no FirewalldCheck
    assert ("[ERROR FileAvailable--etc-kubernetes-bootstrap-kubelet.conf]: "
            "/etc/kubernetes/bootstrap-kubelet.conf already exists") in refused.stderr
    assert "Firewalld" not in refused.stderr
    assert sudo(the_lab, "rm /etc/kubernetes/bootstrap-kubelet.conf", 1).exit_status == 0
    joined = sudo(the_lab, join.strip(), 1)
    assert joined.exit_status == 0, joined.stderr
    assert "Firewalld" not in joined.stderr


@lab
def test_kubeadm_gates_the_config_api_and_conntrack_by_version(lab_factory):
    """kubeadm 1.30 (pkgs.k8s.io v1.30 on Debian 12): v1beta4 is experimental, conntrack is required;
    kubeadm 1.33: v1beta3 is read with a deprecation warning."""
    the_lab = lab_factory(hosts=1, scenario=named("debian-12"))
    address = the_lab.hosts[0].address
    apt_kubernetes(the_lab, ["1.30"])
    assert sudo(the_lab, "apt-get install -y kubeadm=1.30.14-1.1 kubelet=1.30.14-1.1 kubectl=1.30.14-1.1").exit_status == 0
    assert ssh(the_lab, "kubeadm version -o short").stdout.strip() == "v1.30.14"
    v1beta4 = kubeadm_init(the_lab, init_config(address, version="v1.30.14"))
    assert v1beta4.exit_status == 1
    # util/config/common.go (v1.28-v1.30) validateSupportedVersion
    assert ('experimental API spec: "kubeadm.k8s.io/v1beta4" is not allowed. You can use the '
            "--allow-experimental-api flag if the command supports it.") in v1beta4.stderr
    v1beta3 = kubeadm_init(the_lab, init_config(address, version="v1.30.14", api="kubeadm.k8s.io/v1beta3"))
    assert v1beta3.exit_status == 1
    # preflight/checks_linux.go addExecChecks: conntrack is mandatory below 1.32
    assert "\t[ERROR FileExisting-conntrack]: conntrack not found in system path" in v1beta3.stderr
    assert sudo(the_lab, "apt-get install -y conntrack").exit_status == 0
    ok = kubeadm_init(the_lab, init_config(address, version="v1.30.14", api="kubeadm.k8s.io/v1beta3"))
    assert ok.exit_status == 0, ok.stderr
    assert "deprecated API spec" not in ok.stderr  # not deprecated before 1.31

    assert sudo(the_lab, "kubeadm reset -f >/dev/null && "
                         "echo 'deb [signed-by=/etc/apt/keyrings/k.gpg] https://pkgs.k8s.io/core:/stable:/v1.33/deb/ /' "
                         "> /etc/apt/sources.list.d/kubernetes.list && apt-get update -q >/dev/null && "
                         "apt-get install -y kubeadm=1.33.2-1.1 kubelet=1.33.2-1.1 kubectl=1.33.2-1.1").exit_status == 0
    deprecated = kubeadm_init(the_lab, init_config(address, version="v1.33.2", api="kubeadm.k8s.io/v1beta3"))
    assert deprecated.exit_status == 0, deprecated.stderr
    # util/config/common.go (v1.31+): v1beta3 in deprecatedAPIVersions
    assert 'your configuration file uses a deprecated API spec: "kubeadm.k8s.io/v1beta3"' in deprecated.stderr


@lab
def test_kubelet_newer_than_the_control_plane_and_missing_iptables_are_errors(lab_factory):
    the_lab = lab_factory(hosts=1, scenario=named("ubuntu-24.04"))
    address = the_lab.hosts[0].address
    apt_kubernetes(the_lab, ["1.33", "1.34"])
    installed = sudo(the_lab, "apt-get install -y kubeadm=1.33.2-1.1 kubelet=1.34.1-1.1 kubectl=1.33.2-1.1 && "
                              "apt-get remove -y iptables")
    assert installed.exit_status == 0, installed.stderr
    result = kubeadm_init(the_lab, init_config(address, version="v1.33.2"))
    assert result.exit_status == 1
    # preflight/checks.go KubeletVersionCheck
    assert ('[ERROR KubeletVersion]: the kubelet version is higher than the control plane version. This is not a '
            'supported version skew and may lead to a malfunctional cluster. Kubelet version: "1.34.1" Control plane '
            'version: "1.33.2"') in result.stderr
    # preflight/checks_linux.go addExecChecks: iptables is mandatory
    assert "\t[ERROR FileExisting-iptables]: iptables not found in system path" in result.stderr


# --- 4. kubectl --------------------------------------------------------------------------------------


@lab
def test_kubectl_apply_create_and_server_side_apply_of_calico(lab_factory):
    the_lab = lab_factory(hosts=1)
    assert kubeadm_init(the_lab, init_config(the_lab.hosts[0].address, pod_subnet="10.50.0.0/16")).exit_status == 0
    fetch = " && ".join(f"curl -fsSL -o /root/{n} {CALICO}/{n}" for n in
                        ("operator-crds.yaml", "tigera-operator.yaml", "custom-resources.yaml"))
    assert sudo(the_lab, fetch).exit_status == 0

    applied = sudo(the_lab, f"{KUBECTL} apply -f /root/operator-crds.yaml")
    assert applied.exit_status == 1
    # apimachinery objectmeta validation (TotalAnnotationSizeLimitB), as kubectl reports the API server's answer
    assert ('The CustomResourceDefinition "installations.operator.tigera.io" is invalid: metadata.annotations: '
            "Too long: must have at most 262144 bytes") in applied.stderr
    assert "customresourcedefinition.apiextensions.k8s.io/apiservers.operator.tigera.io created" in applied.stdout

    created = sudo(the_lab, f"{KUBECTL} create -f /root/operator-crds.yaml")
    assert created.exit_status == 1  # the CRDs client-side apply did create already exist
    assert ('Error from server (AlreadyExists): error when creating "/root/operator-crds.yaml": '
            'customresourcedefinitions.apiextensions.k8s.io "apiservers.operator.tigera.io" already exists'
            in created.stderr)
    assert "customresourcedefinition.apiextensions.k8s.io/installations.operator.tigera.io created" in created.stdout

    again = sudo(the_lab, f"{KUBECTL} create -f /root/operator-crds.yaml")
    assert again.exit_status == 1 and "installations.operator.tigera.io\" already exists" in again.stderr
    ssa = sudo(the_lab, f"{KUBECTL} apply --server-side -f /root/operator-crds.yaml")
    assert ssa.exit_status == 0, ssa.stderr
    assert "customresourcedefinition.apiextensions.k8s.io/installations.operator.tigera.io serverside-applied" in ssa.stdout
    assert sudo(the_lab, f"{KUBECTL} apply --server-side --force-conflicts -f /root/operator-crds.yaml").exit_status == 0

    assert sudo(the_lab, f"{KUBECTL} create -f /root/tigera-operator.yaml").exit_status == 0
    assert sudo(the_lab, f"{KUBECTL} create -f /root/custom-resources.yaml").exit_status == 0
    assert sudo(the_lab, "sed -i 's#192.168.0.0/16#10.50.0.0/16#' /root/custom-resources.yaml").exit_status == 0
    conflict = sudo(the_lab, f"{KUBECTL} apply --server-side -f /root/custom-resources.yaml")
    assert conflict.exit_status == 1
    # server-side apply field conflicts (kubectl prints the API server's conflict and its advice)
    assert ('error: Apply failed with 1 conflict: conflict with "kubectl-create" using operator.tigera.io/v1: '
            ".spec.calicoNetwork") in conflict.stderr
    assert "re-run the apply\n  command with the `--force-conflicts` flag." in conflict.stderr
    forced = sudo(the_lab, f"{KUBECTL} apply --server-side --force-conflicts -f /root/custom-resources.yaml")
    assert forced.exit_status == 0, forced.stderr
    assert "installation.operator.tigera.io/default serverside-applied" in forced.stdout


@lab
def test_kubectl_create_secret_dry_run_piped_to_apply_does_not_hang(lab_factory):
    the_lab = lab_factory(hosts=1)
    assert kubeadm_init(the_lab, init_config(the_lab.hosts[0].address)).exit_status == 0
    write(the_lab, "/root/weave-passwd", "s3cret\n")
    begun = time.monotonic()
    piped = sudo(the_lab, f"{KUBECTL} -n kube-system create secret generic weave-passwd "
                          f"--from-file=weave-passwd=/root/weave-passwd --dry-run=client -o yaml | {KUBECTL} apply -f -",
                 timeout=20)
    assert piped.exit_status == 0, piped.stderr
    assert piped.stdout.strip() == "secret/weave-passwd created"
    assert time.monotonic() - begun < 15
    shown = sudo(the_lab, f"{KUBECTL} -n kube-system create secret generic x --from-literal=a=b --dry-run=client -o yaml")
    assert "kind: Secret" in shown.stdout and "a: Yg==" in shown.stdout
    made = sudo(the_lab, f"{KUBECTL} -n kube-system create secret generic weave-passwd --from-file=/root/weave-passwd")
    assert made.exit_status == 1
    assert 'error: failed to create secret secrets "weave-passwd" already exists' in made.stderr
    status = sudo(the_lab, f"{KUBECTL} get node {the_lab.hosts[0].name} -o jsonpath='{{.metadata.name}}'")
    assert status.stdout == the_lab.hosts[0].name  # -o jsonpath, as kwizard queries it


# --- 5. firewall-cmd ---------------------------------------------------------------------------------


@lab
def test_firewall_cmd_permanent_rules_need_a_reload(lab_factory):
    the_lab = lab_factory(hosts=1, scenario=named("rocky-9"))
    added = sudo(the_lab, "firewall-cmd --permanent --add-port=6443/tcp --add-protocol=ipencap")
    assert (added.exit_status, added.stdout.strip()) == (0, "success")
    runtime = sudo(the_lab, "firewall-cmd --query-port=6443/tcp")
    assert (runtime.exit_status, runtime.stdout.strip()) == (1, "no")  # permanent only, not in force yet
    permanent = sudo(the_lab, "firewall-cmd --permanent --query-port=6443/tcp")
    assert (permanent.exit_status, permanent.stdout.strip()) == (0, "yes")
    assert sudo(the_lab, "firewall-cmd --reload").stdout.strip() == "success"
    for query in ("--query-port=6443/tcp", "--query-protocol=ipencap"):
        result = sudo(the_lab, f"firewall-cmd {query}")
        assert (result.exit_status, result.stdout.strip()) == (0, "yes")
    twice = sudo(the_lab, "firewall-cmd --permanent --add-port=6443/tcp")
    assert twice.exit_status == 0 and "Warning: ALREADY_ENABLED: 6443:tcp" in twice.stderr
    runtime_only = sudo(the_lab, "firewall-cmd --add-port=10250/tcp && firewall-cmd --reload && "
                                 "firewall-cmd --query-port=10250/tcp")
    assert (runtime_only.exit_status, runtime_only.stdout.split()[-1]) == (1, "no")  # lost at the reload


# --- 6. faults after the work ------------------------------------------------------------------------


@lab
def test_connection_cut_after_the_command_finished(lab_factory):
    the_lab = lab_factory(hosts=1, scenario=named("cut-after-init"))
    cut = kubeadm_init(the_lab, init_config(the_lab.hosts[0].address))
    assert cut.exit_status is None  # the client never learns how it ended
    assert the_lab.cluster_state()["cluster"] is not None  # but the init completed on the host
    the_lab.set_fault(0, "cut_after", "mark-done")
    result = ssh(the_lab, "sleep 0.2; touch /tmp/done-on-host; echo mark-done")
    assert result.exit_status is None
    assert the_lab.exec(0, "test -e /tmp/done-on-host").returncode == 0


@lab
def test_reboot_brings_back_swap_and_restarts_services(lab_factory):
    the_lab = lab_factory(hosts=1, scenario=named("reboot-after-init"))
    address = the_lab.hosts[0].address
    assert sudo(the_lab, "swapoff -a").exit_status == 0  # runtime only: /etc/fstab still lists the swap
    rebooted = kubeadm_init(the_lab, init_config(address))
    assert rebooted.exit_status is None  # the host went down right after init finished
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            after = ssh(the_lab, "cat /proc/swaps; systemctl is-active kubelet; cat /opt/kwizard-lab-sim/host/boots.json")
            break
        except OSError:
            time.sleep(0.2)
    lines = after.stdout.splitlines()
    assert lines[1].startswith("/swap.img")  # swap is back
    assert lines[2] == "inactive"  # the kubelet does not start with swap on
    assert json.loads("".join(lines[3:]))["count"] == 1
    # with swap off for good (fstab commented) the kubelet and the control plane come back
    assert sudo(the_lab, "sed -i 's/^\\/swap.img/#&/' /etc/fstab && swapoff -a").exit_status == 0
    the_lab.set_fault(0, "reboot")
    back = ssh(the_lab, f"cat /proc/swaps | wc -l; systemctl is-active kubelet; sudo -n {KUBECTL} get nodes -o name")
    assert back.stdout.split() == ["1", "active", f"node/{the_lab.hosts[0].name}"]


# --- 7. realistic durations (opt-in) -----------------------------------------------------------------


@lab
def test_realistic_durations_are_opt_in(lab_factory):
    quick = lab_factory(hosts=1)
    assert json.loads((quick.sim_dir / "settings.json").read_text())["durations"] == "off"
    begun = time.monotonic()
    assert sudo(quick, "kubeadm config images pull").exit_status == 0
    fast = time.monotonic() - begun
    slow_lab = lab_factory(hosts=1, scenario=Scenario("slow", durations="realistic", time_scale=0.01))
    begun = time.monotonic()
    assert sudo(slow_lab, "kubeadm config images pull").exit_status == 0
    slow = time.monotonic() - begun
    assert slow >= 7 * 8.5 * 0.01 and slow > fast  # 7 images, 8.5 s each (README table), scaled by 0.01


def test_the_lab_serves_manifests_that_run_the_images_kwizard_pre_pulls():
    # the lab's generated manifests stand in for the published ones: the same DaemonSet images
    from kwizard.cni.catalogue import daemonset_images, get_plugin

    assert daemonset_images(manifests.FLANNEL) == list(get_plugin("flannel").node_images)
    assert daemonset_images(manifests.WEAVE) == list(get_plugin("weave").node_images)
