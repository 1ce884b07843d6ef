# kwizard lab simulator support -- NOT a real Kubernetes tool.
# Shared by the lab's simulated kubeadm/kubectl/systemctl/...: the one cluster
# state per lab (a JSON file under a lock), this host's control folder (faults,
# services), and the fault hooks (hang, cut connection). Standard library only:
# it runs under the system /usr/bin/python3 inside lab hosts.
from __future__ import annotations

import fcntl
import json
import os
import signal
import sys
import time
from contextlib import contextmanager
from pathlib import Path

# bin/.. is the simulator root: /opt/kwizard-lab-sim inside a host, <lab>/sim outside.
SIM_ROOT = Path(__file__).resolve().parent.parent
STATE_DIR = SIM_ROOT / "state"
HOST_DIR = SIM_ROOT / "host"

K8S_VERSION = "v1.33.2"


def tool_version(tool: str) -> str:
    """The version a Kubernetes tool reports: the installed package's (distribution scenarios
    install an exact patch release), else the lab's default K8S_VERSION."""
    version = (_json_file("packages.json").get("versions") or {}).get(tool)
    if not version:
        return K8S_VERSION
    version = version.split(":", 1)[-1].split("-")[0]
    return version if version.startswith("v") else "v" + version


# --- realistic durations (opt-in; see the table in tests/lab/README.md) ---------
# Seconds each simulated step takes on a real machine; every figure's source is in the README.
DURATIONS = {
    "apt-update": 6.0,        # estimate: apt-get update with 3-4 repositories on broadband
    "package-install": 8.0,   # per package; estimate: kubeadm/kubelet/kubectl are 10-20 MB .deb/.rpm each
    "image-pull": 8.5,        # per image; estimate: kubeadm config images pull, 7 images (~250 MB) in about 60 s
    "init": 45.0,             # estimate: kubeadm init after the images are present (certs, etcd, apiserver healthy)
    "join": 20.0,             # estimate: kubeadm join up to "This node has joined the cluster"
    "cni-start": 23.0,        # estimate: the plugin's pod starting once its images are there, until the node is Ready
                              # (with Flannel's two images pulled on the control plane: 40 s from apply to Ready)
    "kubectl": 0.3,           # estimate: one kubectl round trip to a local API server
    "reboot": 30.0,           # estimate: a VM reboot until sshd answers again
}


def settings() -> dict:
    path = SIM_ROOT / "settings.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def duration(kind: str, count: int = 1) -> float:
    """How long `kind` takes in this lab: 0 unless realistic durations are on (then scaled)."""
    chosen = settings()
    if chosen.get("durations") != "realistic":
        return 0.0
    slower = float(fault("time_scale") or 1.0)  # a slow host: Lab.set_fault(host, "time_scale", 2)
    return DURATIONS.get(kind, 0.0) * count * float(chosen.get("time_scale", 1.0)) * slower


def take_time(kind: str, count: int = 1, since: float | None = None) -> None:
    """Spend `kind`'s realistic duration. `since`: when the tool's own work in that duration began
    (kubeadm init's certificates): it counts against the figure, so the whole lasts what the table says."""
    seconds = duration(kind, count)
    if seconds > 0:
        sys.stdout.flush()
        started = time.time() if since is None else since
        time.sleep(max(0.0, started + seconds - time.time()))
        _log_time(kind, count, started, seconds)


def _log_time(kind: str, count: int, started: float, seconds: float) -> None:
    """What this host spent, for benchmarks (bench/time_to_cluster.py): one JSON line per wait."""
    try:
        with open(HOST_DIR / "durations.log", "a") as log:
            log.write(json.dumps({"kind": kind, "count": count, "at": started, "seconds": seconds}) + "\n")
    except OSError:
        pass


def empty_state() -> dict:
    return {"cluster": None, "nodes": {}, "manifests": [], "objects": {}}


@contextmanager
def locked_state(state_dir: Path = STATE_DIR, write: bool = True):
    """The lab's cluster state, exclusive while the block runs; saved (atomically) after it."""
    state_dir = Path(state_dir)
    with open(state_dir / "cluster.lock", "a") as lock:
        try:
            os.chmod(state_dir / "cluster.lock", 0o666)
        except PermissionError:
            pass
        fcntl.flock(lock, fcntl.LOCK_EX if write else fcntl.LOCK_SH)
        path = state_dir / "cluster.json"
        state = json.loads(path.read_text()) if path.exists() else empty_state()
        yield state
        if write:
            tmp = state_dir / f".cluster.{os.getpid()}.tmp"
            tmp.write_text(json.dumps(state, indent=1, sort_keys=True))
            os.chmod(tmp, 0o666)
            os.replace(tmp, path)


def read_state(state_dir: Path = STATE_DIR) -> dict:
    with locked_state(state_dir, write=False) as state:
        return state


# --- this host ---------------------------------------------------------------


def host_info() -> dict:
    return json.loads((HOST_DIR / "host.json").read_text())


def _json_file(name: str, host_dir: Path | None = None) -> dict:
    path = (host_dir or HOST_DIR) / name
    return json.loads(path.read_text()) if path.exists() else {}


@contextmanager
def host_file(name: str, host_dir: Path | None = None):
    """A small JSON file of this host's own (services, firewall, packages), under a lock."""
    host_dir = host_dir or HOST_DIR
    with open(host_dir / f".{name}.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        data = _json_file(name, host_dir)
        yield data
        tmp = host_dir / f".{name}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(data, indent=1, sort_keys=True))
        os.chmod(tmp, 0o644)
        os.replace(tmp, host_dir / name)


def services() -> dict:
    return _json_file("services.json")


# Tools a host only has once "installed" (absent in the no-packages scenario).
KUBERNETES_TOOLS = ("kubeadm", "kubelet", "kubectl")


def link_tools(names, host_dir: Path | None = None) -> None:
    """Put tools on this host's PATH: its own bin folder holds links to the shared simulators."""
    bin_dir = (host_dir or HOST_DIR) / "bin"
    bin_dir.mkdir(exist_ok=True)
    for name in names:
        link = bin_dir / name
        if not link.is_symlink():
            link.symlink_to(f"/opt/kwizard-lab-sim/bin/{name}")


def is_root() -> bool:
    return os.geteuid() == 0


# --- faults ------------------------------------------------------------------


def fault(kind: str) -> str | None:
    path = HOST_DIR / "faults" / kind
    try:
        return path.read_text()
    except (FileNotFoundError, PermissionError):
        return None


def apply_command_faults(command: str) -> None:
    """Called by every simulator with its own command line: hang or drop the connection."""
    hang = fault("hang")
    if hang and hang in command:
        while True:
            time.sleep(3600)
    cut = fault("cut_during")
    if cut and cut in command:
        sys.stdout.flush()
        cut_connection()
    # Faults after the work: the simulator finishes (whatever its exit status), then the connection
    # drops / the host reboots. lab-session does the same for commands that are not simulators.
    import atexit

    after = fault("cut_after")
    if after and after in command:
        atexit.register(_cut_after)
    reboot = fault("reboot_after")
    if reboot and reboot in command:
        atexit.register(request_reboot)


REBOOT_FIFO = "/run/kwizard-lab-reboot.fifo"  # read by sim/lab-init (root), which performs the reboot


def _cut_after() -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    time.sleep(0.2)  # let the output reach the client; the exit status never does
    cut_connection()


def request_reboot() -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        with open(REBOOT_FIFO, "w") as fifo:
            fifo.write("reboot\n")
    except OSError:
        pass


def _parent(pid: int) -> tuple[int, str]:
    with open(f"/proc/{pid}/stat") as handle:
        stat = handle.read()
    name = stat[stat.index("(") + 1:stat.rindex(")")]
    return int(stat[stat.rindex(")") + 2:].split()[1]), name


def cut_connection() -> None:
    """Kill the sshd processes serving this session (not the listener): the client sees the drop."""
    try:
        listener = int(Path("/run/sshd.pid").read_text())
    except (OSError, ValueError):
        listener = -1
    pid, victims = os.getpid(), []
    while pid > 1:
        try:
            parent, name = _parent(pid)
        except OSError:
            break
        if name == "sshd" and pid != listener:
            victims.append(pid)
        pid = parent
    for victim in victims:
        try:
            os.kill(victim, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    os._exit(255)


# --- small shared formats ----------------------------------------------------


def age(since: float, now: float | None = None) -> str:
    """kubectl's AGE column: 45s, 3m12s, 5m, 2h, 3d."""
    seconds = int((now or time.time()) - since)
    if seconds < 120:
        return f"{max(seconds, 0)}s" if seconds < 60 else f"{seconds // 60}m{seconds % 60}s"
    if seconds < 600:
        return f"{seconds // 60}m{seconds % 60}s"
    if seconds < 3 * 3600:
        return f"{seconds // 60}m"
    if seconds < 48 * 3600:
        return f"{seconds // 3600}h"
    return f"{seconds // 86400}d"


def klog(level: str, source: str, message: str, when: float | None = None) -> str:
    """A klog line, e.g. E0614 10:21:07.423456       1 main.go:359] ..."""
    when = when or time.time()
    stamp = time.strftime("%m%d %H:%M:%S", time.gmtime(when)) + f".{int(when % 1 * 1e6):06d}"
    return f"{level}{stamp}       1 {source}] {message}"


def iso(when: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(when))


def yaml_module():
    """PyYAML (python3-yaml: the one non-stdlib module the simulators use), from the system's site directory.

    The simulators start with `python3 -S`: importing `site` is a third of a bare start-up and most
    runs need no YAML, so the site directories are added (site.main()) only when it is needed."""
    try:
        import yaml
    except ImportError:
        import site

        site.main()
        import yaml
    return yaml


def load_yaml_documents(text: str) -> list[dict]:
    """All documents of a manifest or kubeadm config; `kind: List` is flattened."""
    yaml = yaml_module()
    documents = []
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: the Calico CRDs are ~750 KB
    for doc in yaml.load_all(text, Loader=loader):
        if isinstance(doc, dict) and doc.get("kind") == "List":
            documents.extend(item for item in doc.get("items") or [] if isinstance(item, dict))
        elif isinstance(doc, dict):
            documents.append(doc)
    return documents


def fail(message: str, code: int = 1) -> None:
    sys.stderr.write(message.rstrip("\n") + "\n")
    sys.exit(code)


def parse_args(argv: list[str], booleans: set[str], repeatable: set[str] = frozenset()) -> tuple[list[str], dict]:
    """Go-style flags (--name=value, --name value, -n value); booleans take no value.
    Returns (positional args, {flag: value}); repeatable flags collect lists."""
    positional, flags = [], {}
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            positional += argv[i + 1:]
            break
        if arg.startswith("-") and not arg.startswith("--") and len(arg) > 2 and arg[1] not in booleans:
            name, eq, value = arg[1], "=", arg[2:].removeprefix("=")  # -ojson, -nkube-system
        elif arg.startswith("-") and len(arg) > 1:
            name, eq, value = arg.lstrip("-").partition("=")
        if arg.startswith("-") and len(arg) > 1:
            if not eq and name not in booleans:
                if i + 1 >= len(argv):
                    fail(f"error: flag needs an argument: {arg}")
                i += 1
                value = argv[i]
            elif not eq:
                value = "true"
            if name in repeatable:
                flags.setdefault(name, []).append(value)
            else:
                flags[name] = value
        else:
            positional.append(arg)
        i += 1
    return positional, flags


# The lab has no internet: a manifest URL kwizard fetches (kwizard's CNI catalogue pins them) is
# answered with the lab's own generated manifest of that file name (sim/manifests.py).
MANIFESTS = SIM_ROOT / "manifests"


def manifest_for_url(url: str) -> str | None:
    import manifests

    return manifests.text_for_url(url, MANIFESTS)
