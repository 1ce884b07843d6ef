"""kubeadm output in, what the user gets out: join commands, CA pins, masking, the init config, diagnoses.

The sample outputs follow upstream kubeadm's templates (KUBEADM.md): the join
command is `kubeadm join EP --token T \\` + newline + tab + one
`--discovery-token-ca-cert-hash H ` per pin (each followed by a space), and the
control-plane variant continues with `\\` + newline + tab +
`--control-plane --certificate-key K`.
"""

from __future__ import annotations

import datetime
import hashlib
import shutil
import subprocess

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID
from hypothesis import assume, given
from hypothesis import strategies as st

from kwizard.checks.findings import Level
from kwizard.kube.joincmd import CAHashMismatch, JoinCommand, JoinCommandError, TokenWithheldError, ca_cert_hash, parse_join_command, parse_join_commands, verify_join_command
from kwizard.kube.preflight import diagnose_init_failure, parse_preflight_errors
from kwizard.kube.config import kubeadm_config_api, parse_init_config, render_init_config
from kwizard.kube.versions import read_kubeadm_version
from kwizard.run.masking import MIN_MASKABLE_LENGTH, BOOTSTRAP_TOKEN_RE, CERTIFICATE_KEY_RE, mask_known_secrets
from kwizard.profile.model import Host, Profile, Role

TOKEN = "abcdef.0123456789abcdef"
HASH_A = "sha256:" + "a1" * 32
HASH_B = "sha256:" + "b2" * 32
CERT_KEY = "9555b74008f24687eb964bd90a164ecb5760a89481d9c55a77c129b7db438168"


def kubeadm_join_text(endpoint, token, pins, control_plane=False, certificate_key=None, indent="\t"):
    """kubeadm's own join template (cmd/kubeadm/app/util/join.go), continuation indent selectable."""
    text = f"kubeadm join {endpoint} --token {token} \\\n{indent}"
    text += "".join(f"--discovery-token-ca-cert-hash {pin} " for pin in pins)
    if control_plane:
        text += f"\\\n{indent}--control-plane "
        if certificate_key:
            text += f"--certificate-key {certificate_key}"
    return text


def init_output(worker_join: str, control_plane_join: str | None = None) -> str:
    """The tail of a successful `kubeadm init`, as showjoincommand.go prints it."""
    control_plane_part = ""
    if control_plane_join:
        control_plane_part = (
            "You can now join any number of the control-plane node running the following command on each as root:\n\n"
            f"  {control_plane_join}\n\n"
            "Please note that the certificate-key gives access to cluster sensitive data, keep it secret!\n"
            "As a safeguard, uploaded-certs will be deleted in two hours; If necessary, you can use\n"
            '"kubeadm init phase upload-certs --upload-certs" to reload certs afterward.\n\n'
        )
    return (
        "[addons] Applied essential addon: CoreDNS\n"
        "[addons] Applied essential addon: kube-proxy\n\n"
        "Your Kubernetes control-plane has initialized successfully!\n\n"
        "To start using your cluster, you need to run the following as a regular user:\n\n"
        "  mkdir -p $HOME/.kube\n"
        "  sudo cp -i /etc/kubernetes/admin.conf $HOME/.kube/config\n"
        "  sudo chown $(id -u):$(id -g) $HOME/.kube/config\n\n"
        "Alternatively, if you are the root user, you can run:\n\n"
        "  export KUBECONFIG=/etc/kubernetes/admin.conf\n\n"
        "You should now deploy a pod network to the cluster.\n"
        'Run "kubectl apply -f [podnetwork].yaml" with one of the options listed at:\n'
        "  https://kubernetes.io/docs/concepts/cluster-administration/addons/\n\n"
        f"{control_plane_part}"
        "Then you can join any number of worker nodes by running the following on each as root:\n\n"
        f"{worker_join}\n"
    )


WORKER_COMMAND = f"kubeadm join 192.168.122.11:6443 --token {TOKEN} --discovery-token-ca-cert-hash {HASH_A}"


# --- join commands: every layout kubeadm (and the seed guide) prints ---


@pytest.mark.parametrize("indent", ["\t", "    ", "  \t "], ids=["tab", "spaces", "mixed"])
def test_init_output_worker_join_with_continuation_and_trailing_space(indent):
    text = init_output(kubeadm_join_text("192.168.122.11:6443", TOKEN, [HASH_A], indent=indent))
    assert text.count(f"{HASH_A} \n") == 1  # the trailing space kubeadm leaves

    join = parse_join_command(text)

    assert join == JoinCommand("192.168.122.11:6443", TOKEN, (HASH_A,))
    assert join.command() == WORKER_COMMAND


def test_print_join_command_one_liner():
    text = f"{WORKER_COMMAND} \n"

    assert parse_join_command(text).command() == WORKER_COMMAND


def test_repeated_ca_hash_flags_are_all_kept_in_order():
    text = init_output(kubeadm_join_text("10.0.0.1:6443", TOKEN, [HASH_A, HASH_B]))

    join = parse_join_command(text)

    assert join.ca_cert_hashes == (HASH_A, HASH_B)
    assert join.command().count("--discovery-token-ca-cert-hash") == 2


def test_init_output_with_both_commands_gives_worker_by_default_and_control_plane_on_request():
    worker = kubeadm_join_text("cp.example.lan:6443", TOKEN, [HASH_A])
    control_plane = kubeadm_join_text("cp.example.lan:6443", TOKEN, [HASH_A], True, CERT_KEY)
    text = init_output(worker, control_plane)

    commands = parse_join_commands(text)
    default = parse_join_command(text)
    cp = parse_join_command(text, control_plane=True)

    assert [c.control_plane for c in commands] == [True, False]  # the order kubeadm prints them
    assert default.control_plane is False and default.certificate_key is None
    assert cp.control_plane is True and cp.certificate_key == CERT_KEY
    assert cp.command().endswith(f"--control-plane --certificate-key {CERT_KEY}")


def test_control_plane_join_without_uploaded_certs():
    text = kubeadm_join_text("cp.example.lan:6443", TOKEN, [HASH_A], control_plane=True)

    join = parse_join_command(text, control_plane=True)

    assert join.control_plane and join.certificate_key is None
    assert join.command().endswith("--control-plane")


def test_only_control_plane_command_when_worker_wanted_says_so():
    text = kubeadm_join_text("cp.example.lan:6443", TOKEN, [HASH_A], True, CERT_KEY)

    with pytest.raises(JoinCommandError, match="only a control-plane join command"):
        parse_join_command(text)


def test_seed_guide_layouts_token_first_and_hash_value_on_next_line():
    token_first = f"kubeadm join --token {TOKEN} 192.168.122.11:6443 --discovery-token-ca-cert-hash {HASH_A}"
    hash_wrapped = f"kubeadm join 192.168.122.11:6443 --token {TOKEN} --discovery-token-ca-cert-hash \\\n  {HASH_A}"

    assert parse_join_command(token_first).command() == WORKER_COMMAND
    assert parse_join_command(hash_wrapped).command() == WORKER_COMMAND


def test_windows_line_endings_and_equals_flags():
    text = f"kubeadm join 192.168.122.11:6443 --token={TOKEN} \\\r\n\t--discovery-token-ca-cert-hash={HASH_A} \r\n"

    assert parse_join_command(text).command() == WORKER_COMMAND


def test_uppercase_hash_is_normalised_like_kubeadm_prints_it():
    text = WORKER_COMMAND.replace(HASH_A, HASH_A.upper().replace("SHA256", "sha256"))

    assert parse_join_command(text).ca_cert_hashes == (HASH_A,)


def test_withheld_token_says_why_and_what_to_run():
    text = init_output(kubeadm_join_text("10.0.0.1:6443", "<value withheld>", [HASH_A]))

    with pytest.raises(TokenWithheldError) as caught:
        parse_join_command(text)

    message = str(caught.value)
    assert "withheld" in message and "--skip-token-print" in message
    assert "kubeadm token create --print-join-command" in message


def test_withheld_certificate_key_is_named():
    text = kubeadm_join_text("10.0.0.1:6443", TOKEN, [HASH_A], True, "<value withheld>")

    with pytest.raises(TokenWithheldError, match="certificate key"):
        parse_join_command(text, control_plane=True)


def test_no_join_command_in_output():
    with pytest.raises(JoinCommandError, match="no `kubeadm join` command found.*token create --print-join-command"):
        parse_join_command("[preflight] Running pre-flight checks\nerror execution phase preflight\n")


def test_join_without_ca_hash_is_refused():
    with pytest.raises(JoinCommandError, match="no --discovery-token-ca-cert-hash"):
        parse_join_command(f"kubeadm join 10.0.0.1:6443 --token {TOKEN} --discovery-token-unsafe-skip-ca-verification")


@pytest.mark.parametrize(
    "endpoint",
    ["10.0.0.1:6443;reboot", "$(reboot):6443", "10.0.0.1", "`id`:6443"],
    ids=["semicolon", "subshell", "no-port", "backtick"],
)
def test_endpoint_that_is_not_host_port_is_refused(endpoint):
    with pytest.raises(JoinCommandError, match="not host:port"):
        parse_join_command(f"kubeadm join {endpoint} --token {TOKEN} --discovery-token-ca-cert-hash {HASH_A}")


def test_ipv6_endpoint():
    join = parse_join_command(f"kubeadm join [fd00::11]:6443 --token {TOKEN} --discovery-token-ca-cert-hash {HASH_A}")

    assert join.endpoint == "[fd00::11]:6443"


def test_masked_keeps_token_id_and_hides_secrets():
    join = JoinCommand("10.0.0.1:6443", TOKEN, (HASH_A,), True, CERT_KEY)

    shown = join.masked()

    assert shown == (
        f"kubeadm join 10.0.0.1:6443 --token abcdef.<masked> --discovery-token-ca-cert-hash {HASH_A} "
        "--control-plane --certificate-key <masked>"
    )
    assert "0123456789abcdef" not in shown and CERT_KEY not in shown
    for text in (str(join), repr(join)):
        assert "0123456789abcdef" not in text and CERT_KEY not in text
    assert set(join.secrets) == {"0123456789abcdef", CERT_KEY}


# --- round trips (hypothesis) ---

_TOKEN_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789"
tokens = st.builds(
    lambda token_id, secret: f"{token_id}.{secret}",
    st.text(_TOKEN_CHARS, min_size=6, max_size=6),
    st.text(_TOKEN_CHARS, min_size=16, max_size=16),
)
pins = st.text("0123456789abcdef", min_size=64, max_size=64).map(lambda h: f"sha256:{h}")
hosts = st.one_of(
    st.ip_addresses(v=4).map(str),
    st.ip_addresses(v=6).map(lambda a: f"[{a}]"),
    st.from_regex(r"\A[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?(\.[a-z0-9]{1,8}){0,2}\Z"),
)
endpoints = st.builds(lambda h, p: f"{h}:{p}", hosts, st.integers(1, 65535))


@st.composite
def join_commands(draw):
    control_plane = draw(st.booleans())
    key = draw(st.one_of(st.none(), st.text("0123456789abcdef", min_size=64, max_size=64))) if control_plane else None
    ca_pins = tuple(draw(st.lists(pins, min_size=1, max_size=3)))
    return JoinCommand(draw(endpoints), draw(tokens), ca_pins, control_plane, key)


@given(join_commands())
def test_parse_of_rendered_command_round_trips(join):
    assert parse_join_command(join.command(), control_plane=join.control_plane) == join


@given(join_commands(), st.sampled_from(["\t", "  ", "    "]))
def test_parse_of_kubeadm_layout_round_trips(join, indent):
    text = kubeadm_join_text(
        join.endpoint, join.token, join.ca_cert_hashes, join.control_plane, join.certificate_key, indent
    )

    assert parse_join_command(init_output(text), control_plane=join.control_plane) == join


# --- masking ---


def test_mask_token_keeps_id():
    line = f"[bootstrap-token] Using token: {TOKEN}"

    assert mask_known_secrets(line) == "[bootstrap-token] Using token: abcdef.<masked>"


def test_mask_certificate_key_flag_and_upload_certs_line():
    flag = f"  --control-plane --certificate-key {CERT_KEY}"
    assert mask_known_secrets(flag) == "  --control-plane --certificate-key <masked>"
    assert mask_known_secrets(f"--certificate-key={CERT_KEY}") == "--certificate-key=<masked>"
    # `kubeadm init --upload-certs` prints the key alone on its own line
    assert mask_known_secrets(CERT_KEY) == "<masked>"


def test_mask_extra_literals_and_leaves_ca_hash_alone():
    line = f"sudo password hunter2 rejected; pin {HASH_A}"

    assert mask_known_secrets(line, ["hunter2", ""]) == f"sudo password <masked> rejected; pin {HASH_A}"


def test_mask_back_to_back_tokens_hides_both_secrets():
    # The second token's id overlaps the first token's secret: a consuming regex would miss it.
    first, second = "aaaaaa.bbbbbbbbbbcccccc", "cccccc.dddddddddddddddd"
    line = first + second[6:]  # "cccccc" is both the end of the first secret and the second id

    masked = mask_known_secrets(line)

    assert "bbbbbbbbbbcccccc" not in masked and "dddddddddddddddd" not in masked


def test_exported_patterns_match_kubeadm_shapes():
    assert BOOTSTRAP_TOKEN_RE.fullmatch(TOKEN)
    assert CERTIFICATE_KEY_RE.search(f"--certificate-key {CERT_KEY}")["key"] == CERT_KEY


@given(tokens, st.text(max_size=40), st.text(max_size=40), st.lists(st.text(max_size=12), max_size=3))
def test_masked_line_never_contains_a_token_secret(token, before, after, extras):
    secret = token.split(".")[1]
    assume(secret not in before + after)
    assume(not any(secret in e for e in extras))

    masked = mask_known_secrets(before + token + after, extras)

    assert secret not in masked


passwords = st.text(st.characters(blacklist_characters="<>"), min_size=MIN_MASKABLE_LENGTH, max_size=20)
short_passwords = st.text(st.characters(whitelist_categories=("L", "N")), min_size=1, max_size=MIN_MASKABLE_LENGTH - 1)


@given(passwords, st.text(max_size=30), st.text(max_size=30))
def test_masked_line_never_contains_an_extra_secret(password, before, after):
    # A password that is part of the word "<masked>" itself would show up in any masked line.
    assume(password not in before + after and password not in "<masked>")

    assert password not in mask_known_secrets(before + password + after, [password])


@given(short_passwords, st.text(max_size=30), st.text(max_size=30))
def test_a_short_secret_standing_alone_is_masked(password, before, after):
    assume(password not in before + after and password not in "<masked>")

    assert password not in mask_known_secrets(f"{before} {password} {after}", [password])


def test_a_short_secret_inside_words_leaves_the_words_alone():
    line = "pull registry.k8s.io/kube-apiserver:v1.33.2, then `kubeadm reset -f`"
    assert mask_known_secrets(line, ["kube"]) == line
    assert mask_known_secrets("password: kube", ["kube"]) == "password: <masked>"


# --- the CA pin ---


def make_ca(key) -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kubernetes")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(Encoding.PEM)


@pytest.fixture(scope="module")
def rsa_ca() -> bytes:
    return make_ca(rsa.generate_private_key(public_exponent=65537, key_size=2048))


@pytest.fixture(scope="module")
def ecdsa_ca() -> bytes:
    return make_ca(ec.generate_private_key(ec.SECP256R1()))


@pytest.mark.parametrize("ca", ["rsa_ca", "ecdsa_ca"])
def test_ca_hash_matches_openssl_pkey_pipeline(ca, request, tmp_path):
    if not shutil.which("openssl") or not shutil.which("sha256sum"):
        pytest.skip("openssl or sha256sum is not installed")
    pem = request.getfixturevalue(ca)
    (tmp_path / "ca.crt").write_bytes(pem)
    pipeline = "set -o pipefail; openssl x509 -pubkey -noout -in ca.crt | openssl pkey -pubin -outform der | sha256sum"
    result = subprocess.run(["bash", "-c", pipeline], cwd=tmp_path, capture_output=True, text=True, check=True)

    assert ca_cert_hash(pem) == "sha256:" + result.stdout.split()[0]


def test_ecdsa_ca_hash_is_not_the_empty_input_hash(ecdsa_ca):
    # The seed's `openssl rsa -pubin` pipeline hashes nothing for an ECDSA key.
    assert ca_cert_hash(ecdsa_ca) != "sha256:" + hashlib.sha256(b"").hexdigest()


def test_ca_hash_accepts_der_and_text(rsa_ca):
    der = x509.load_pem_x509_certificate(rsa_ca).public_bytes(Encoding.DER)

    assert ca_cert_hash(der) == ca_cert_hash(rsa_ca.decode()) == ca_cert_hash(rsa_ca)


def test_ca_hash_of_garbage_says_what_was_expected():
    with pytest.raises(ValueError, match="CA certificate could not be read"):
        ca_cert_hash(b"-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n")


def test_verify_accepts_when_any_pin_matches(rsa_ca):
    join = JoinCommand("10.0.0.1:6443", TOKEN, (HASH_A, ca_cert_hash(rsa_ca)))

    verify_join_command(join, rsa_ca)


def test_verify_mismatch_names_both_hashes(rsa_ca, ecdsa_ca):
    join = JoinCommand("10.0.0.1:6443", TOKEN, (ca_cert_hash(ecdsa_ca),))

    with pytest.raises(CAHashMismatch) as caught:
        verify_join_command(join, rsa_ca)

    message = str(caught.value)
    assert ca_cert_hash(ecdsa_ca) in message and ca_cert_hash(rsa_ca) in message
    assert "kubeadm token create --print-join-command" in message


# --- versions and the init config ---


@pytest.mark.parametrize(
    "output",
    [
        "v1.33.2\n",
        'kubeadm version: &version.Info{Major:"1", Minor:"33", EmulationMajor:"", EmulationMinor:"", '
        'MinCompatibilityMajor:"", MinCompatibilityMinor:"", GitVersion:"v1.33.2", '
        'GitCommit:"a57b6f7709f6c2722b92f07b8b4c48210a51fc40", GitTreeState:"clean", '
        'BuildDate:"2025-06-17T18:39:42Z", GoVersion:"go1.24.4", Compiler:"gc", Platform:"linux/amd64"}\n',
        '{\n  "clientVersion": {\n    "major": "1",\n    "minor": "33",\n    "gitVersion": "v1.33.2"\n  }\n}\n',
    ],
    ids=["short", "long", "json"],
)
def test_read_kubeadm_version(output):
    assert read_kubeadm_version(output) == "v1.33.2"


def test_read_kubeadm_version_without_a_version():
    with pytest.raises(ValueError, match="is kubeadm installed"):
        read_kubeadm_version("bash: kubeadm: command not found\n")


@pytest.mark.parametrize(
    ("version", "api"),
    [("v1.30.9", "kubeadm.k8s.io/v1beta3"), ("v1.31.0", "kubeadm.k8s.io/v1beta4"), ("1.33", "kubeadm.k8s.io/v1beta4")],
)
def test_config_api_by_kubeadm_version(version, api):
    assert kubeadm_config_api(version) == api


def lab_profile(kubernetes_version="1.33") -> Profile:
    return Profile(
        name="lab",
        hosts=[Host(name="kubemaster-1", address="192.168.122.11", role=Role.CONTROL_PLANE)],
        cluster={"kubernetes_version": kubernetes_version, "pod_cidr": "10.244.0.0/16", "service_cidr": "10.96.0.0/12"},
    )


def render(profile=None, **overrides) -> dict:
    arguments = dict(
        advertise_address="192.168.122.11",
        node_name="kubemaster-1",
        cri_socket="unix:///var/run/containerd/containerd.sock",
        kubeadm_version="v1.33.2",
        node_ip="192.168.122.11",
    )
    arguments.update(overrides)
    return parse_init_config(render_init_config(profile or lab_profile(), **arguments))


def test_init_config_v1beta4_documents():
    config = render()
    init, cluster = config["InitConfiguration"], config["ClusterConfiguration"]

    assert init["apiVersion"] == cluster["apiVersion"] == "kubeadm.k8s.io/v1beta4"
    assert init["localAPIEndpoint"] == {"advertiseAddress": "192.168.122.11", "bindPort": 6443}
    assert init["nodeRegistration"] == {
        "name": "kubemaster-1",
        "criSocket": "unix:///var/run/containerd/containerd.sock",
        "kubeletExtraArgs": [{"name": "node-ip", "value": "192.168.122.11"}],
    }
    assert cluster["clusterName"] == "lab"
    assert cluster["networking"] == {
        "podSubnet": "10.244.0.0/16",
        "serviceSubnet": "10.96.0.0/12",
        "dnsDomain": "cluster.local",
    }
    assert "controlPlaneEndpoint" not in cluster
    assert "bootstrapTokens" not in init  # kubeadm makes the token; the file never holds one


def test_init_config_v1beta3_uses_map_extra_args():
    config = render(lab_profile("1.30"), kubeadm_version="v1.30.4")

    assert config["InitConfiguration"]["apiVersion"] == "kubeadm.k8s.io/v1beta3"
    assert config["InitConfiguration"]["nodeRegistration"]["kubeletExtraArgs"] == {"node-ip": "192.168.122.11"}


def test_init_config_without_node_ip_has_no_kubelet_args():
    assert "kubeletExtraArgs" not in render(node_ip=None)["InitConfiguration"]["nodeRegistration"]


@pytest.mark.parametrize(
    ("wanted", "kubeadm", "written"),
    [
        ("1.33", "v1.33.2", "v1.33.2"),
        ("1.33", "v1.32.5", "v1.33.0"),
        ("1.33.1", "v1.33.2", "v1.33.1"),
        ("1.33", "v1.33", "v1.33.0"),
    ],
    ids=["minor-matches-installed", "minor-differs", "exact", "installed-version-unknown"],
)
def test_kubernetes_version_written(wanted, kubeadm, written):
    assert render(lab_profile(wanted), kubeadm_version=kubeadm)["ClusterConfiguration"]["kubernetesVersion"] == written


def test_rendering_twice_gives_the_same_file():
    arguments = dict(advertise_address="192.168.122.11", node_name="kubemaster-1",
                     cri_socket="unix:///var/run/crio/crio.sock", kubeadm_version="v1.33.2")

    assert render_init_config(lab_profile(), **arguments) == render_init_config(lab_profile(), **arguments)


def test_unresolved_cri_socket_is_refused():
    with pytest.raises(ValueError, match="unix:///"):
        render(cri_socket="auto")


def test_init_config_is_plain_yaml_with_two_documents():
    text = render_init_config(lab_profile(), advertise_address="192.168.122.11", node_name="kubemaster-1",
                              cri_socket="unix:///var/run/containerd/containerd.sock", kubeadm_version="v1.33.2")

    assert [d["kind"] for d in yaml.safe_load_all(text)] == ["InitConfiguration", "ClusterConfiguration"]


# --- preflight and init failures ---

PREFLIGHT_FAILURE = """\
[init] Using Kubernetes version: v1.33.2
[preflight] Running pre-flight checks
\t[WARNING Swap]: swap is supported for cgroup v2 only. The kubelet must be properly configured to use swap.
error execution phase preflight: [preflight] Some fatal errors occurred:
\t[ERROR Port-6443]: Port 6443 is in use
\t[ERROR FileContent--proc-sys-net-ipv4-ip_forward]: /proc/sys/net/ipv4/ip_forward contents are not set to 1
\t[ERROR DirAvailable--var-lib-etcd]: /var/lib/etcd is not empty
[preflight] If you know what you are doing, you can make a check non-fatal with `--ignore-preflight-errors=...`
To see the stack trace of this error execute with --v=5 or higher
"""

CRI_DISABLED = """\
[preflight] Running pre-flight checks
error execution phase preflight: [preflight] Some fatal errors occurred:
\t[ERROR CRI]: container runtime is not running: output: time="2025-06-20T10:00:00Z" level=fatal msg="validate service connection: validate CRI v1 runtime API for endpoint \\"unix:///var/run/containerd/containerd.sock\\": rpc error: code = Unimplemented desc = unknown service runtime.v1.RuntimeService"
, error: exit status 1
[preflight] If you know what you are doing, you can make a check non-fatal with `--ignore-preflight-errors=...`
"""


def test_parse_preflight_issues():
    issues = parse_preflight_errors(PREFLIGHT_FAILURE)

    assert [(i.level, i.name) for i in issues] == [
        (Level.WARNING, "Swap"),
        (Level.ERROR, "Port-6443"),
        (Level.ERROR, "FileContent--proc-sys-net-ipv4-ip_forward"),
        (Level.ERROR, "DirAvailable--var-lib-etcd"),
    ]
    assert issues[1].message == "Port 6443 is in use"


def test_wrapped_preflight_message_is_kept_whole():
    (issue,) = parse_preflight_errors(CRI_DISABLED)

    assert issue.name == "CRI" and issue.message.endswith(", error: exit status 1")


def test_diagnose_first_fatal_error_before_warnings():
    diagnosis = diagnose_init_failure(PREFLIGHT_FAILURE)

    assert "port 6443 is already in use" in diagnosis and "kubeadm reset -f" in diagnosis
    assert "\n" not in diagnosis


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        ("\t[ERROR FileContent--proc-sys-net-ipv4-ip_forward]: contents are not set to 1\n", "net.ipv4.ip_forward=1"),
        ("\t[ERROR DirAvailable--var-lib-etcd]: /var/lib/etcd is not empty\n", "/var/lib/etcd is not empty"),
        (CRI_DISABLED, "SystemdCgroup = true"),
        ("\t[WARNING Swap]: swap is on\n[kubelet-check] The kubelet is not healthy after 4m0s\n", "swapoff -a"),
        ("can not mix '--config' with arguments [pod-network-cidr]\n", "--config and the flags [pod-network-cidr]"),
    ],
    ids=["ip_forward", "etcd-dir", "containerd-cri-disabled", "swap", "config-and-flags"],
)
def test_diagnose_common_failures(output, expected):
    assert expected in diagnose_init_failure(output)


def test_diagnose_unknown_failure_is_none():
    assert diagnose_init_failure("error execution phase addon/coredns: something new\n") is None
