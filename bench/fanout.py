"""Fan-out: kwizard's facts gathering against parallel-ssh and `ansible -m shell` on N lab hosts.

    python -m bench.fanout [--sizes 1,5,10,20,40] [--repeats 5] [--write]

One lab of max(sizes) hosts; each size uses its first N hosts. All three
tools run the same bytes on every host: the script kwizard's facts gathering
sends (kwizard.facts.script, wrapped by kwizard.ssh.shell.compose), as root
through sudo, over a fresh SSH connection per host, with the same user, key
and known_hosts and strict host-key checking, and with N-way parallelism
(pssh -p N, ansible -f N; kwizard opens every host at once). Each run is one
process from spawn to exit, connection setup included. A run only counts
when every host answered the whole script (its last section marker); any
failure stops the benchmark instead of giving a number.

The tools take turns in a rotating order within each repeat, and one untimed
round goes first, so a cold page cache or a drifting machine does not land
on one tool. The table gives the median of the repeats.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):  # run as `python bench/fanout.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common

NAME = "fanout"
TOOLS = ("kwizard", "pssh", "ansible")
END_MARKER = "==kwizard:end=="
# Every OpenSSH client here: no user config, our key only, never a prompt, the lab's known_hosts, strict.
OPENSSH_OPTIONS = ("IdentitiesOnly=yes", "BatchMode=yes", "StrictHostKeyChecking=yes")


@dataclass
class Target:
    """The files one size needs: a profile for kwizard, a host list for pssh, an inventory for ansible."""

    n: int
    dir: Path
    profile: Path
    hosts_file: Path
    inventory: Path
    ansible_cfg: Path
    script: str
    client_key: Path
    known_hosts: Path
    user: str


# --- the tools ---


def pssh_binary() -> str | None:
    return shutil.which("parallel-ssh") or shutil.which("pssh")  # Debian names it parallel-ssh


def ansible_binary() -> str | None:
    beside = Path(sys.executable).parent / "ansible"
    return str(beside) if beside.exists() else shutil.which("ansible")


def unavailable() -> dict[str, str]:
    """{tool: why it cannot run here} for the competitors that are not installed."""
    missing = {}
    if pssh_binary() is None:
        missing["pssh"] = "parallel-ssh is not installed (Debian: apt-get install pssh)"
    if ansible_binary() is None:
        missing["ansible"] = "ansible is not installed (pip install ansible-core, for the benchmark only)"
    return missing


def versions(tools: tuple[str, ...]) -> list[str]:
    import asyncssh

    import kwizard

    found = [f"kwizard {kwizard.__version__} (asyncssh {asyncssh.__version__})"]
    if "pssh" in tools:
        out = subprocess.run([pssh_binary(), "--version"], capture_output=True, text=True)
        found.append(f"parallel-ssh {(out.stdout or out.stderr).strip()}")
    if "ansible" in tools:
        out = subprocess.run([ansible_binary(), "--version"], capture_output=True, text=True)
        found.append(out.stdout.splitlines()[0].strip() if out.stdout else "ansible (version unknown)")
    return found


def run_kwizard(t: Target, env: dict[str, str]) -> tuple[float, float]:
    """(process wall seconds, seconds inside gather_facts)."""
    wall, result = common.timed_run([sys.executable, "-m", "bench.facts_once", str(t.profile)], env=env,
                                    cwd=common.REPO)
    try:
        answer = json.loads(result.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        answer = {}
    if result.returncode != 0 or answer.get("hosts") != t.n or answer.get("failed"):
        raise common.BenchError(f"kwizard at N={t.n}: {answer.get('failed') or common.tail(result.stderr)}")
    return wall, answer["gather_seconds"]


def run_pssh(t: Target, env: dict[str, str]) -> float:
    out_dir = Path(tempfile.mkdtemp(prefix="pssh-out-", dir=t.dir))
    cmd = [pssh_binary(), "-h", str(t.hosts_file), "-l", t.user, "-p", str(t.n), "-t", "120",
           "-o", str(out_dir), "-e", str(out_dir / "stderr"), "-x", "-F /dev/null",
           "-O", f"IdentityFile={t.client_key}", "-O", f"UserKnownHostsFile={t.known_hosts}"]
    for option in OPENSSH_OPTIONS:
        cmd += ["-O", option]
    cmd += ["-I", "sudo -n bash -s"]  # -I: the script on stdin goes to every host
    wall, result = common.timed_run(cmd, input=t.script, env=env)
    answered = [p for p in out_dir.iterdir() if p.is_file() and END_MARKER in p.read_text(errors="replace")]
    if result.returncode != 0 or len(answered) != t.n:
        raise common.BenchError(f"parallel-ssh at N={t.n}: {len(answered)} hosts answered; "
                                f"{common.tail(result.stdout + result.stderr)}")
    shutil.rmtree(out_dir)
    return wall


def run_ansible(t: Target, env: dict[str, str]) -> float:
    control_dir = Path(tempfile.mkdtemp(prefix="cp-", dir=t.dir))  # fresh: no connection left by an earlier run
    env = {**env, "ANSIBLE_CONFIG": str(t.ansible_cfg), "ANSIBLE_SSH_CONTROL_PATH_DIR": str(control_dir),
           "ANSIBLE_HOST_KEY_CHECKING": "True", "ANSIBLE_NOCOLOR": "1", "ANSIBLE_LOCAL_TEMP": str(t.dir / "ansible-tmp")}
    module_args = json.dumps({"cmd": t.script, "executable": "/bin/bash"})
    cmd = [ansible_binary(), "all", "-i", str(t.inventory), "-f", str(t.n), "--become", "-m", "shell",
           "-a", module_args]
    try:
        wall, result = common.timed_run(cmd, env=env)
    finally:
        _close_control_masters(control_dir)
    if result.returncode != 0 or result.stdout.count(END_MARKER) != t.n:
        raise common.BenchError(f"ansible at N={t.n}: {result.stdout.count(END_MARKER)} hosts answered; "
                                f"{common.tail(result.stdout + result.stderr)}")
    return wall


def _close_control_masters(control_dir: Path) -> None:
    """ansible's ControlPersist masters outlive its process (60 s by default): end them now, each by its socket."""
    for socket_path in control_dir.iterdir():
        subprocess.run(["ssh", "-F", "/dev/null", "-o", f"ControlPath={socket_path}", "-O", "exit", "lab-host"],
                       capture_output=True, timeout=10)
    shutil.rmtree(control_dir, ignore_errors=True)


# --- one size's files ---


def prepare(lab, n: int, root: Path) -> Target:
    from kwizard.profile import store as profiles
    from kwizard.facts.script import facts_script
    from kwizard.profile.model import Profile
    from kwizard.ssh import shell
    from kwizard.plan.context import RemoteScript

    directory = root / f"n{n}"
    directory.mkdir()
    full = lab.profile().model_dump(mode="json")
    profile = Profile.model_validate({**full, "hosts": full["hosts"][:n]})
    profile_path = profiles.save(profile, directory / "profile.yaml")
    hosts = lab.hosts[:n]
    # Exactly what kwizard's host_facts sends to bash: the same names to resolve, the same strict-mode prefix.
    script = shell.compose(RemoteScript(facts_script([h.name for h in profile.hosts])))
    hosts_file = directory / "pssh-hosts"
    hosts_file.write_text("".join(f"{h.address}\n" for h in hosts))
    ssh_args = " ".join(["-F /dev/null", f"-o UserKnownHostsFile={lab.known_hosts}"] + [f"-o {o}" for o in OPENSSH_OPTIONS])
    inventory = directory / "inventory.ini"
    inventory.write_text(
        "[lab]\n" + "".join(f"{h.name} ansible_host={h.address}\n" for h in profile.hosts)
        + "[lab:vars]\n"
        + f"ansible_user={hosts[0].user}\n"
        + f"ansible_ssh_private_key_file={lab.client_key}\n"
        + f"ansible_ssh_common_args='{ssh_args}'\n"
        + "ansible_python_interpreter=/usr/bin/python3\n"  # no interpreter discovery round trip
    )
    ansible_cfg = directory / "ansible.cfg"
    # Pipelining: one SSH session per host instead of a copy-then-run sequence (ansible's usual speed-up).
    ansible_cfg.write_text("[defaults]\nhost_key_checking = True\n\n[ssh_connection]\npipelining = True\n")
    return Target(n, directory, profile_path, hosts_file, inventory, ansible_cfg, script,
                  Path(lab.client_key), Path(lab.known_hosts), hosts[0].user)


# --- measuring ---


def measure(sizes: list[int], repeats: int, tools: tuple[str, ...]) -> dict:
    from tests.lab import start_lab

    results: dict[int, dict[str, list[float]]] = {}
    with tempfile.TemporaryDirectory(prefix="kwizard-bench-fanout-") as tmp, start_lab(max(sizes)) as lab:
        root = Path(tmp)
        env = common.isolated_env(root)
        runners = {"kwizard": lambda t: run_kwizard(t, env), "pssh": lambda t: run_pssh(t, env),
                   "ansible": lambda t: run_ansible(t, env)}
        warmed = False
        for n in sizes:
            target = prepare(lab, n, root)
            times: dict[str, list[float]] = {tool: [] for tool in tools}
            times["kwizard_gather"] = []
            if not warmed:  # one untimed round: caches, sshd's first fork
                for tool in tools:
                    runners[tool](target)
                warmed = True
            for repeat in range(repeats):
                turn = repeat % len(tools)
                for tool in tools[turn:] + tools[:turn]:
                    value = runners[tool](target)
                    if tool == "kwizard":
                        value, gather = value
                        times["kwizard_gather"].append(gather)
                    times[tool].append(value)
                    print(f"  N={n} {tool}: {value:.3f} s", file=sys.stderr)
            results[n] = times
    return results


def render(results: dict, tools: tuple[str, ...], skipped: dict[str, str], command: str, repeats: int) -> str:
    med = {n: {k: common.median(v) if v else None for k, v in times.items()} for n, times in results.items()}
    rows = []
    for n, m in med.items():
        rows.append([n, common.seconds(m["kwizard"]), common.seconds(m["kwizard_gather"]),
                     common.seconds(m.get("pssh")), common.seconds(m.get("ansible")),
                     common.ratio(m["kwizard"], m.get("pssh")), common.ratio(m["kwizard"], m.get("ansible"))])
    body = common.table(["N hosts", "kwizard", "(in gather_facts)", "parallel-ssh", "ansible -m shell",
                         "kwizard/pssh", "kwizard/ansible"], rows)
    notes = [f"median of {repeats} runs per cell; each run is a whole process, connections included; "
             "\"in gather_facts\" is the part of kwizard's run inside `gather_facts` (no interpreter start-up or imports)"]
    notes += [f"versions: {', '.join(versions(tools))}"]
    sizes = sorted(med)
    if "pssh" in tools:
        at_or_below = [n for n in sizes if med[n]["kwizard"] <= med[n]["pssh"]]
        verdict = "yes" if len(at_or_below) == len(sizes) else f"no (at or below only at N = {', '.join(map(str, at_or_below)) or 'none'})"
        notes.append(f"kwizard at or below parallel-ssh at every N: {verdict}")
    if len(sizes) > 1:
        growth = med[sizes[-1]]["kwizard"] / med[sizes[0]]["kwizard"]
        notes.append(f"kwizard N={sizes[-1]} / N={sizes[0]}: {growth:.2f}× "
                     f"({'within' if growth <= 2 else 'beyond'} the 2× target)")
    notes += [f"{tool} not measured: {why}" for tool, why in skipped.items()]
    return common.section(NAME, command, body, notes)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    common.stop_cleanly_on_sigterm()
    ap = common.parser(NAME, __doc__.split("\n")[0], sizes="1,5,10,20,40", repeats=5)
    ap.add_argument("--tools", default=",".join(TOOLS), help="which of kwizard,pssh,ansible to run (kwizard always runs)")
    args = ap.parse_args(argv)
    why = common.lab_unavailable()
    if why:
        print(f"fan-out benchmark skipped: {why}", file=sys.stderr)
        return 2
    wanted = {"kwizard", *args.tools.split(",")}
    skipped = {tool: why for tool, why in unavailable().items() if tool in wanted}
    tools = tuple(t for t in TOOLS if t in wanted and t not in skipped)
    try:
        results = measure(args.sizes, args.repeats, tools)
    except common.BenchError as error:
        print(f"fan-out benchmark failed: {error}", file=sys.stderr)
        return 1
    common.emit(NAME, render(results, tools, skipped, common.reproduce(NAME, argv), args.repeats), args.write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
