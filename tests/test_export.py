"""`kwizard export`: one source, the plan. Every exported script is the plan's, byte for byte.

Offline profiles (advertise_address and cri_socket set) so nothing is contacted;
the lab tests (test_export_lab.py) run the exports against real sshd hosts.
"""

from __future__ import annotations

import base64
import datetime
import json
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from kwizard.cli.main import main
from kwizard.cni import catalogue as cni
from kwizard.export import ansible, kubeadm, runbook, walk
from kwizard.export.yamltext import load
from kwizard.kube.joincmd import ca_cert_hash
from kwizard.plan.context import DryRunContext, RemoteScript
from kwizard.plan.setup_cluster import CONFIG_PATH
from kwizard.plan.setup import build_setup_plan
from kwizard.plan.view import view_plan
from kwizard.profile import store
from kwizard.profile.model import ClusterSpec, Host, Profile, Role, SSHSettings
from kwizard.ssh.shell import compose

from tests.test_cni import SMALL_FLANNEL  # noqa: E402 - the same small Flannel manifest the patcher tests use

TOKEN_RE = re.compile(r"[a-z0-9]{6}\.[a-z0-9]{16}")



def make_profile(tmp_path: Path, *, sudo_password_env: str | None = None, **cluster) -> Profile:
    manifest = tmp_path / "kube-flannel.yml"
    manifest.write_text(SMALL_FLANNEL)
    spec = {
        "advertise_address": "192.0.2.10",
        "cri_socket": "unix:///run/containerd/containerd.sock",
        "cni_options": {"manifest_file": str(manifest)},
        "disable_swap": True,
        "install_packages": True,
        **cluster,
    }
    return Profile(
        name="export-test",
        ssh=SSHSettings(
            user="kube", port=2222, identity_file=str(tmp_path / "id_ed25519"),
            known_hosts=str(tmp_path / "known_hosts"), sudo_password_env=sudo_password_env,
        ),
        hosts=[
            Host(name="cp", address="192.0.2.10", role=Role.CONTROL_PLANE),
            Host(name="w1", address="192.0.2.11", labels={"tier": "web"}),
            Host(name="w2", address="192.0.2.12", user="other", port=22),
        ],
        cluster=ClusterSpec(**spec),
    )


@pytest.fixture
def profile(tmp_path) -> Profile:
    return make_profile(tmp_path)


VARIANTS = {
    "flannel-local-manifest": {},
    "calico": {"cni": "calico", "pod_cidr": "10.48.0.0/16", "cni_options": {"mtu": 1400}},
    "weave-encrypted": {"cni": "weave", "pod_cidr": "10.40.0.0/16", "cni_options": {"encryption_password_env": "WEAVE_PW"}},
    "one-host": {"hosts": 1},
}


def variant_profile(tmp_path: Path, name: str) -> Profile:
    options = dict(VARIANTS[name])
    hosts = options.pop("hosts", 3)
    profile = make_profile(tmp_path, sudo_password_env="SUDO_PW" if name == "weave-encrypted" else None, **options)
    return profile.model_copy(update={"hosts": profile.hosts[:hosts]})


@pytest.fixture(params=sorted(VARIANTS))
def any_profile(request, tmp_path) -> Profile:
    return variant_profile(tmp_path, request.param)


@pytest.fixture
def profile_path(tmp_path, profile) -> Path:
    return store.save(profile, tmp_path / "cluster.yaml")


def plan_scripts(profile: Profile) -> dict[tuple[str, str], RemoteScript]:
    """(step id, host) -> the script `kwizard plan` shows (view_plan), independent of kwizard.export."""
    found = {}
    for view in view_plan(build_setup_plan(profile)):
        for group in view.groups:
            for host in group.hosts:
                if group.script is not None:
                    found[(view.id, host)] = group.script
    return found


def plan_probes(profile: Profile) -> dict[tuple[str, str], RemoteScript]:
    ctx = DryRunContext()
    return {
        (step.id, host): step.probe(ctx, host)
        for step in build_setup_plan(profile).steps
        if step.probe is not None
        for host in step.hosts
    }


def strict(script: RemoteScript) -> str:
    return compose(RemoteScript(script.script, script.sudo))


# --- the playbook ---


def _tasks(tasks, hosts=None):
    """(task, the hosts its block names) for every task, blocks flattened."""
    for task in tasks:
        when = task.get("when")
        block_hosts = hosts
        if isinstance(when, str) and when.startswith("inventory_hostname in "):
            block_hosts = json.loads(when.removeprefix("inventory_hostname in "))
        if "block" in task:
            yield from _tasks(task["block"], block_hosts)
        else:
            yield task, block_hosts


def _step_of(task) -> tuple[int, str, str]:
    number, step_id, what = re.fullmatch(r"Step (\d+) ([a-z-]+): (.*)", task["name"]).groups()
    return int(number), step_id, what


def test_every_playbook_script_is_the_plans_script_for_that_step_and_host(any_profile):
    profile = any_profile
    files = ansible.render(profile, walk.walk(profile))
    play = load(files[ansible.PLAYBOOK_FILE])[0]
    scripts, probes = plan_scripts(profile), plan_probes(profile)
    plan = build_setup_plan(profile)
    titles = {s.id: s.title for s in plan.steps}
    seen_scripts, seen_probes, order = set(), set(), []
    for task, hosts in _tasks(play["tasks"]):
        if "ansible.builtin.shell" not in task:
            continue
        number, step_id, what = _step_of(task)
        cmd = task["ansible.builtin.shell"]["cmd"]
        if step_id == "join-command":
            assert cmd == strict(walk.fresh_join_script())
            continue
        for host in hosts:
            if what.endswith("(probe)"):
                assert cmd == strict(probes[(step_id, host)]), (step_id, host)
                seen_probes.add((step_id, host))
                continue
            assert what == titles[step_id]
            want = scripts[(step_id, host)]
            if step_id == "join":
                assert walk.JOIN_COMMAND in want.script
                want = ansible.join_script(want)
            assert cmd == strict(want), (step_id, host)
            assert task["become"] is want.sudo
            seen_scripts.add((step_id, host))
            order.append(number)
    assert seen_scripts == set(scripts), "every step's script on every host, and nothing else"
    assert seen_probes == set(probes)
    assert order == sorted(order), "in the plan's order"
    assert [s.id for s in plan.steps] == [s.id for s in walk.walk(profile)]


def test_the_playbooks_uploads_are_the_plans_with_the_same_path_and_mode(profile):
    play = load(ansible.render(profile, walk.walk(profile))[ansible.PLAYBOOK_FILE])[0]
    copies = {t["ansible.builtin.copy"]["dest"]: t["ansible.builtin.copy"] for t, _ in _tasks(play["tasks"]) if "ansible.builtin.copy" in t}
    init = next(s for s in build_setup_plan(profile).steps if s.id == "init")
    (upload,) = init.script(DryRunContext(), "cp").uploads
    assert upload.path == CONFIG_PATH
    assert copies[CONFIG_PATH]["content"] == upload.content.decode()
    assert copies[CONFIG_PATH]["mode"] == f"{upload.mode:04o}" == "0600"
    assert copies[walk.patched_manifest_path(profile)]["mode"] == "0600"
    # the patched path is the one the apply step applies
    assert walk.patched_manifest_path(profile) in plan_scripts(profile)[("cni-apply", "cp")].script


def test_scripts_are_unsafe_blocks_so_jinja_never_reads_them(profile):
    text = ansible.render(profile, walk.walk(profile))[ansible.PLAYBOOK_FILE]
    assert "cmd: !unsafe |" in text
    assert "${missing:- none}" in text  # the wait script's own ${...}, as written


def test_the_join_command_travels_in_memory_with_no_log_and_is_verified_first(profile):
    play = load(ansible.render(profile, walk.walk(profile))[ansible.PLAYBOOK_FILE])[0]
    tasks = [t for t, _ in _tasks(play["tasks"])]
    fresh = next(i for i, t in enumerate(tasks) if "a fresh join command" in t["name"])
    verify = next(i for i, t in enumerate(tasks) if "verify-join" in json.dumps(t))
    join = next(i for i, t in enumerate(tasks) if t["name"].startswith("Step") and _step_of(t)[1] == "join" and "probe" not in t["name"])
    assert fresh < verify < join
    for index in (fresh, verify, join):
        assert tasks[index]["no_log"] is True
    assert tasks[verify]["register"] == ansible.JOIN_VAR
    assert tasks[verify]["delegate_to"] == "localhost"
    assert ansible.JOIN_VAR in tasks[join]["ansible.builtin.shell"]["stdin"]
    assert not any("dest" in t.get("ansible.builtin.copy", {}) and "join" in t["ansible.builtin.copy"]["dest"] for t in tasks)


def test_inventory_checks_host_keys_and_holds_no_secret(tmp_path):
    profile = make_profile(tmp_path, sudo_password_env="MY_SUDO_PASSWORD")
    text = ansible.render(profile, walk.walk(profile))[ansible.INVENTORY_FILE]
    found = load(text)["all"]
    common = found["vars"]
    assert "StrictHostKeyChecking=yes" in common["ansible_ssh_common_args"]
    assert f"UserKnownHostsFile={tmp_path / 'known_hosts'}" in common["ansible_ssh_common_args"]
    assert common["ansible_become_password"] == "{{ lookup('env', 'MY_SUDO_PASSWORD') }}"
    assert common["ansible_user"] == "kube" and common["ansible_port"] == 2222
    assert common["ansible_ssh_private_key_file"] == str(tmp_path / "id_ed25519")
    assert found["children"]["control_plane"]["hosts"] == {"cp": {"ansible_host": "192.0.2.10"}}
    assert found["children"]["workers"]["hosts"]["w2"] == {"ansible_host": "192.0.2.12", "ansible_user": "other", "ansible_port": 22}
    everything = "\n".join(ansible.render(profile, walk.walk(profile)).values()).lower()
    assert "host_key_checking" not in everything and "stricthostkeychecking=no" not in everything


# --- the runbooks ---

HEREDOC = re.compile(r"^(kwizard_run (\S+)|if kwizard_done) <<'(\w+)'\n(.*?)^\3$", re.M | re.S)


def _runbook_parts(text: str) -> tuple[list[tuple[str, str]], list[str]]:
    scripts, probes = [], []
    for match in HEREDOC.finditer(text):
        if match[2]:
            scripts.append((match[2], match[4]))
        else:
            probes.append(match[4])
    return scripts, probes


def test_every_runbook_script_is_the_plans_script_for_that_host_in_order(any_profile, tmp_path):
    profile = any_profile
    if profile.cluster.cni.value != "flannel":  # the runbook's manifest is patched ahead of time: give it one
        manifest = runbook.PatchedManifest({}, "x.yaml", "0" * 64, b"patched\n")
        files = runbook.render(profile, walk.walk(profile), "cluster.yaml", manifest)
    else:
        files = runbook.render(profile, walk.walk(profile), "cluster.yaml")
    scripts, probes = plan_scripts(profile), plan_probes(profile)
    order = [s.id for s in build_setup_plan(profile).steps]
    for host in (h.name for h in profile.hosts):
        found, found_probes = _runbook_parts(files[f"{host}.sh"])
        want = [(step_id, s) for step_id in order for (sid, h), s in scripts.items() if sid == step_id and h == host]
        assert [sid for sid, _ in found] == [sid for sid, _ in want]
        for (step_id, text), (_, script) in zip(found, want, strict=True):
            if step_id == "join":
                script = RemoteScript(script.script.replace(walk.JOIN_COMMAND, f"${runbook.JOIN_ENV}"))
            assert text == strict(script), (host, step_id)
        want_probes = [strict(p) for step_id in order for (sid, h), p in probes.items() if sid == step_id and h == host]
        assert found_probes == want_probes


def test_runbooks_hold_no_token_and_the_readme_orders_them(profile, profile_path):
    files = runbook.render(profile, walk.walk(profile), str(profile_path))
    for name, text in files.items():
        assert not TOKEN_RE.search(text.replace("abcdef.0123456789abcdef", "")), name
    readme = files["README.md"]
    assert readme.index("cp.sh") < readme.index("join-command.txt") < readme.index("w1.sh") < readme.index(runbook.AFTER_JOIN)
    assert "kwizard_write /etc/kubernetes/kwizard/kubeadm-config.yaml 0600" in files["cp.sh"]


def test_runbooks_are_valid_bash(profile, profile_path):
    for name, text in runbook.render(profile, walk.walk(profile), str(profile_path)).items():
        if name.endswith(".sh"):
            result = subprocess.run(["bash", "-n"], input=text, capture_output=True, text=True)
            assert result.returncode == 0, (name, result.stderr)


# --- kubeadm's files ---


def test_kubeadm_export_is_the_plans_init_config_and_a_join_template_without_secrets(profile):
    files = kubeadm.render(profile, walk.walk(profile))
    init = next(s for s in build_setup_plan(profile).steps if s.id == "init")
    assert files[kubeadm.INIT_FILE].encode() == init.script(DryRunContext(), "cp").uploads[0].content
    join = load(files[kubeadm.JOIN_FILE])
    assert join["kind"] == "JoinConfiguration"
    assert join["apiVersion"] == "kubeadm.k8s.io/v1beta4"
    token = join["discovery"]["bootstrapToken"]
    assert token["apiServerEndpoint"] == "192.0.2.10:6443"
    assert token["token"] == kubeadm.TOKEN_PLACEHOLDER and token["caCertHashes"] == [kubeadm.CA_HASH_PLACEHOLDER]
    assert join["nodeRegistration"]["criSocket"] == "unix:///run/containerd/containerd.sock"
    assert not TOKEN_RE.search(files[kubeadm.JOIN_FILE])


# --- the command ---


def test_export_writes_private_files_and_refuses_a_non_empty_folder(tmp_path, profile_path, capsys):
    out = tmp_path / "out" / "deeper"
    assert main(["export", "ansible", str(profile_path), "-o", str(out), "--offline"]) == 0
    for folder in (out, out.parent, out / "inventory"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for path in (out / "site.yml", out / "inventory" / "hosts.yml"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    capsys.readouterr()
    assert main(["export", "ansible", str(profile_path), "-o", str(out), "--offline"]) == 2
    assert main(["export", "ansible", str(profile_path), "-o", str(out), "--offline", "--force"]) == 0

    scripts = tmp_path / "scripts"
    assert main(["export", "script", str(profile_path), "-o", str(scripts), "--offline"]) == 0
    assert stat.S_IMODE((scripts / "cp.sh").stat().st_mode) == 0o700
    assert stat.S_IMODE((scripts / "README.md").stat().st_mode) == 0o600


def test_a_non_empty_folder_is_refused_naming_the_flag(tmp_path, profile_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.txt").write_text("keep")
    assert main(["export", "kubeadm", str(profile_path), "-o", str(out), "--offline"]) == 2
    err = capsys.readouterr().err
    assert "--output-dir" in err and "not empty" in err and "--force" in err
    assert sorted(p.name for p in out.iterdir()) == ["mine.txt"]


def test_offline_needs_the_fields_only_facts_decide(tmp_path, capsys):
    profile = make_profile(tmp_path, advertise_address="auto", cri_socket="auto")
    path = store.save(profile, tmp_path / "auto.yaml")
    assert main(["export", "ansible", str(path), "-o", str(tmp_path / "out"), "--offline"]) == 2
    err = capsys.readouterr().err
    assert "cluster.advertise_address" in err and "cluster.cri_socket" in err
    assert not (tmp_path / "out").exists()


def test_a_bad_profile_is_exit_2_with_the_field(tmp_path, capsys):
    path = tmp_path / "bad.yaml"
    path.write_text("version: 1\nname: x\nhosts: []\n")
    assert main(["export", "script", str(path), "-o", str(tmp_path / "out")]) == 2
    assert "hosts" in capsys.readouterr().err


def test_unreachable_hosts_are_refused_naming_the_fields_for_offline(tmp_path, capsys):
    profile = make_profile(tmp_path, advertise_address="auto")
    profile = profile.model_copy(update={
        "hosts": [Host(name="cp", address="127.0.0.1", port=1, role=Role.CONTROL_PLANE)],
        "ssh": profile.ssh.model_copy(update={"connect_timeout": 2.0, "identity_file": None}),
    })
    (tmp_path / "known_hosts").write_text("")
    path = store.save(profile, tmp_path / "down.yaml")
    assert main(["export", "ansible", str(path), "-o", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert "cannot gather facts from cp" in err
    assert "cluster.advertise_address" in err and "--offline" in err
    assert not (tmp_path / "out").exists()


# --- the helper the playbook delegates to localhost ---


def _ca() -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kubernetes")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256())
    )
    return cert.public_bytes(Encoding.PEM)


def _helper(args, stdin: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kwizard.export.helper", *args], input=stdin, capture_output=True, text=True)


def test_verify_join_passes_the_right_ca_and_refuses_another():
    ca, other = _ca(), _ca()
    command = f"kubeadm join 192.0.2.10:6443 --token abcdef.0123456789abcdef --discovery-token-ca-cert-hash {ca_cert_hash(ca)} \n"
    ok = _helper(["verify-join", "--ca-b64", base64.b64encode(ca).decode()], command)
    assert ok.returncode == 0 and ok.stdout == command.strip() + "\n"
    bad = _helper(["verify-join", "--ca-b64", base64.b64encode(other).decode()], command)
    assert bad.returncode == 1 and "0123456789abcdef" not in bad.stderr + bad.stdout
    smuggled = _helper(["verify-join", "--ca-b64", base64.b64encode(ca).decode()], "kubeadm join x; rm -rf / --token a\n")
    assert smuggled.returncode == 1


def test_patch_manifest_is_kwizards_patcher_byte_for_byte():
    result = _helper(
        ["patch-manifest", "--plugin", "flannel", "--pod-cidr", "10.77.0.0/16", "--options", '{"iface": "eth1"}'],
        base64.b64encode(SMALL_FLANNEL.encode()).decode(),
    )
    assert result.returncode == 0, result.stderr
    assert base64.b64decode(result.stdout).decode() == cni.patch_manifest("flannel", SMALL_FLANNEL, "10.77.0.0/16", iface="eth1")


# --- Ansible's own tools ---


def _require_ansible(tool: str) -> str:
    found = shutil.which(tool) or shutil.which(tool, path=os.path.dirname(sys.executable))
    if found:
        return found
    reason = f"{tool} is not installed (pip install ansible-core ansible-lint, the test extras)"
    if os.environ.get("CI"):
        pytest.fail(f"the export tests must run in CI, but: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(params=["flannel-local-manifest", "weave-encrypted", "one-host"])
def exported(request, tmp_path) -> Path:
    path = store.save(variant_profile(tmp_path, request.param), tmp_path / "cluster.yaml")
    out = tmp_path / "ansible"
    assert main(["export", "ansible", str(path), "-o", str(out), "--offline"]) == 0
    return out


def _ansible_env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "ANSIBLE_HOME": str(tmp_path / "ansible-home"), "ANSIBLE_LOCAL_TEMP": str(tmp_path / "ansible-tmp")}


def test_the_playbook_passes_ansibles_syntax_check(exported, tmp_path):
    tool = _require_ansible("ansible-playbook")
    result = subprocess.run(
        [tool, "-i", str(exported / "inventory"), str(exported / "site.yml"), "--syntax-check"],
        capture_output=True, text=True, env=_ansible_env(tmp_path), timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_playbook_is_ansible_lint_clean(exported, tmp_path):
    tool = _require_ansible("ansible-lint")
    result = subprocess.run(
        [tool, "--offline", "site.yml", "inventory/hosts.yml"], cwd=exported,
        capture_output=True, text=True, env={**_ansible_env(tmp_path), "NO_COLOR": "1"}, timeout=300,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
