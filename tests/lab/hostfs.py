"""A lab host's own files, written into its overlay upper folders before they are mounted.

Writing into the upper folder before the overlay exists is the cheap way to give
a host its own /etc/passwd, sudoers, sshd config and keys: no `useradd`, no
process inside the namespace. After mounting, changes go through `Lab.exec`
instead (the kernel does not promise to notice edits made under a live overlay).
"""

from __future__ import annotations

import os
import pwd
import grp
import shutil
import socket
import stat
import subprocess
from pathlib import Path

from . import naming
from .sim import distros, manifests

SSHD_CONFIG = "/etc/ssh/sshd_config"
HOST_KEY = "/etc/ssh/kwizard_lab_host_ed25519_key"
SUDOERS = "/etc/sudoers.d/kwizard-lab"
CRI_SOCKET = "/run/containerd/containerd.sock"
SESSION_PATH = f"{naming.SIM_PATH_DIR}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def upper(host_dir: Path, absolute: str) -> Path:
    """Where a path inside the host lands in the lab folder, e.g. /etc/hosts -> upper/etc/hosts."""
    top, _, rest = absolute.lstrip("/").partition("/")
    if top not in naming.OVERLAID:
        raise ValueError(f"{absolute} is not under an overlaid folder {naming.OVERLAID}")
    return host_dir / "upper" / top / rest


def make_layers(host_dir: Path) -> None:
    """Upper/work folders per overlaid folder, with the lower folder's owner and mode
    (an overlay's root takes them from the upper folder: /root must stay 0700)."""
    for top in naming.OVERLAID:
        lower = os.stat(f"/{top}")
        up = host_dir / "upper" / top
        up.mkdir(parents=True)
        (host_dir / "work" / top).mkdir(parents=True)
        os.chown(up, lower.st_uid, lower.st_gid)
        os.chmod(up, lower.st_mode & 0o7777)
    for extra in ("upper/sysclass", "work/sysclass"):
        (host_dir / extra).mkdir(parents=True)
    tmp = host_dir / "tmp"
    tmp.mkdir()
    os.chmod(tmp, 0o1777)


def _write(host_dir: Path, absolute: str, text: str, mode: int = 0o644, owner: tuple[int, int] = (0, 0)) -> Path:
    path = upper(host_dir, absolute)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    os.chmod(path, mode)
    os.chown(path, *owner)
    return path


def _free_id(taken: set[int]) -> int:
    candidate = 1000
    while candidate in taken:
        candidate += 1
    return candidate


def lab_user_ids() -> tuple[int, int]:
    uid = _free_id({p.pw_uid for p in pwd.getpwall()})
    gids = {g.gr_gid for g in grp.getgrall()}
    return uid, (uid if uid not in gids else _free_id(gids))


def write_identity(host_dir: Path, hostname: str, machine_id: str, product_uuid: str) -> None:
    _write(host_dir, "/etc/hostname", hostname + "\n")
    hosts = Path("/etc/hosts").read_text()
    _write(host_dir, "/etc/hosts", hosts.rstrip("\n") + f"\n127.0.1.1\t{hostname}\n")
    _write(host_dir, "/etc/machine-id", machine_id + "\n", 0o444)
    # The machine's own resolver is not reachable from a lab host (the bridge
    # forwards nothing): point at loopback, where nothing listens, so a name no
    # one knows fails at once instead of waiting for a DNS timeout.
    _write(host_dir, "/etc/resolv.conf", "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n")
    dmi = host_dir / "upper" / "sysclass" / "dmi" / "id"
    dmi.mkdir(parents=True)
    (dmi / "product_uuid").write_text(product_uuid + "\n")
    os.chmod(dmi / "product_uuid", 0o400)  # root-only, as on real hardware


def write_users(host_dir: Path, uid: int, gid: int, password_hash: str = "*") -> None:
    """The non-root lab user, appended to copies of the machine's own account files."""
    user, home = naming.LAB_USER, f"/home/{naming.LAB_USER}"
    passwd = Path("/etc/passwd").read_text().rstrip("\n") + f"\n{user}:x:{uid}:{gid}:kwizard lab user:{home}:/bin/bash\n"
    group = Path("/etc/group").read_text().rstrip("\n") + f"\n{user}:x:{gid}:\n"
    # "*" is no password at all but not a locked account, so key login works without PAM.
    shadow = Path("/etc/shadow").read_text().rstrip("\n") + f"\n{user}:{password_hash}:20000:0:99999:7:::\n"
    _write(host_dir, "/etc/passwd", passwd)
    _write(host_dir, "/etc/group", group)
    _write(host_dir, "/etc/shadow", shadow, 0o640, (0, _shadow_gid()))
    home_dir = upper(host_dir, home)
    home_dir.mkdir(parents=True)
    os.chown(home_dir, uid, gid)
    os.chmod(home_dir, 0o755)


def _shadow_gid() -> int:
    try:
        return grp.getgrnam("shadow").gr_gid
    except KeyError:
        return 0


def sudoers_text(password_required: bool) -> str:
    rule = "ALL" if password_required else "NOPASSWD: ALL"
    return (
        "# kwizard lab: sudo for the lab user; the simulators come first on secure_path\n"
        f'Defaults secure_path="{SESSION_PATH}"\n'
        f"{naming.LAB_USER} ALL=(ALL:ALL) {rule}\n"
    )


def write_sudoers(host_dir: Path, password_required: bool) -> None:
    _write(host_dir, SUDOERS, sudoers_text(password_required), 0o440)


def write_authorized_key(host_dir: Path, public_key: str, uid: int, gid: int) -> None:
    for home, owner in ((f"/home/{naming.LAB_USER}", (uid, gid)), ("/root", (0, 0))):
        ssh_dir = upper(host_dir, home) / ".ssh"
        ssh_dir.mkdir(parents=True, exist_ok=True)
        os.chown(ssh_dir, *owner)
        os.chmod(ssh_dir, 0o700)
        _write(host_dir, f"{home}/.ssh/authorized_keys", public_key, 0o600, owner)


def write_sshd(host_dir: Path) -> None:
    """sshd_config replacing the machine's: key login only, the lab's PATH, the session wrapper."""
    _write(
        host_dir,
        SSHD_CONFIG,
        "# kwizard lab: a real OpenSSH server inside a lab host's namespaces\n"
        "Port 22\nListenAddress 0.0.0.0\n"
        f"HostKey {HOST_KEY}\n"
        "PidFile /run/sshd.pid\n"
        "PermitRootLogin prohibit-password\nPubkeyAuthentication yes\n"
        "PasswordAuthentication no\nKbdInteractiveAuthentication no\n"
        # Without PAM there is no logind/limits work per session: faster, and none is needed.
        "UsePAM no\n"
        "AuthorizedKeysFile .ssh/authorized_keys\n"
        f"SetEnv PATH={SESSION_PATH}\n"
        # The wrapper runs the command unchanged unless a hang/cut fault names it.
        f"ForceCommand {naming.SIM_BIN}/lab-session\n"
        "Subsystem sftp /usr/lib/openssh/sftp-server\n"
        "AcceptEnv LANG LC_*\n"
        "MaxStartups 200:30:400\nMaxSessions 100\n"
        "LogLevel ERROR\n",
    )
    privsep = upper(host_dir, "/run/sshd")
    privsep.mkdir(parents=True)
    os.chmod(privsep, 0o755)


def make_host_key(host_dir: Path) -> str:
    """A fresh ed25519 host key; returns the public key line."""
    key = upper(host_dir, HOST_KEY)
    key.parent.mkdir(parents=True, exist_ok=True)
    for old in (key, key.with_suffix(".pub")):
        old.unlink(missing_ok=True)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "kwizard-lab", "-f", str(key)], check=True)
    return key.with_name(key.name + ".pub").read_text().strip()


def write_cri_socket(host_dir: Path) -> None:
    """A real (if unanswered) unix socket where containerd's would be, so facts find a runtime."""
    path = upper(host_dir, CRI_SOCKET)
    path.parent.mkdir(parents=True, exist_ok=True)
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(path))


def write_sim_mountpoint(host_dir: Path) -> None:
    upper(host_dir, naming.SIM_MOUNT).mkdir(parents=True)


def copy_simulators(lab_dir: Path) -> Path:
    """The simulators and the generated CNI manifests, shared by every host of one lab (bind-mounted at SIM_MOUNT)."""
    sim = lab_dir / "sim"
    source = Path(__file__).resolve().parent / "sim"
    shutil.copytree(source, sim / "bin", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for tool in (sim / "bin").iterdir():
        os.chmod(tool, 0o755)
    # The lab's own manifests, generated (tests/lab/sim/manifests.py): a clone needs no ../shared/fixtures.
    # Generated once per version of manifests.py and kept beside the labs (the CRDs are ~750 KB of YAML).
    import hashlib

    digest = hashlib.sha256((source / "manifests.py").read_bytes()).hexdigest()[:12]
    cache = naming.lab_root() / f".manifests-{digest}"
    if not (cache / "done").exists():
        staging = naming.lab_root() / f".manifests-{digest}.{os.getpid()}"
        manifests.write_all(staging)
        (staging / "done").write_text("")
        try:
            os.rename(staging, cache)
        except OSError:  # another lab made it meanwhile
            shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(cache, sim / "manifests", ignore=shutil.ignore_patterns("done"))
    (sim / "host").mkdir()  # each host binds its own control folder over this
    state = sim / "state"
    state.mkdir()
    os.chmod(state, 0o777)  # kubectl runs as the lab user too, and replaces the state file
    for folder in (sim, sim / "bin"):
        os.chmod(folder, 0o755)
    # Every simulated command imports these modules. Compiled once here, by the interpreter the hosts run
    # them with: otherwise each command compiles them again (the lab user may not write __pycache__ there,
    # and PYTHONDONTWRITEBYTECODE may be set), several milliseconds per module per command.
    subprocess.run(["/usr/bin/python3", "-m", "compileall", "-q", str(sim / "bin")], capture_output=True, check=False)
    return sim


# --- distribution scenarios (sim/distros.py) -------------------------------------------------------------

FSTAB_SWAP = {
    None: "/swap.img\tnone\tswap\tsw\t0\t0\n",
    "debian-12": "# swap was on /dev/sda3 during installation\nUUID=5f3c1c2e-2b8a-4d8e-9f55-2e0c6a1d7b21 none            swap    sw              0       0\n",
    "ubuntu-24.04": "/swap.img\tnone\tswap\tsw\t0\t0\n",
    "rocky-9": "/dev/mapper/rl-swap     none                    swap    defaults        0 0\n",
}
SELINUX_CONFIG = """\
# This file controls the state of SELinux on the system.
# SELINUX= can take one of these three values:
#     enforcing - SELinux security policy is enforced.
#     permissive - SELinux prints warnings instead of enforcing.
#     disabled - No SELinux policy is loaded.
SELINUX={mode}
# SELINUXTYPE= can take one of these three values:
#     targeted - Targeted processes are protected,
#     minimum - Modification of targeted policy. Only selected processes are protected.
#     mls - Multi Level Security protection.
SELINUXTYPE=targeted
"""
ZRAM_GENERATOR_DEFAULTS = """\
# This config file enables a /dev/zram0 swap device with the following
# properties:
# * size: 50% of available RAM or 8GiB, whichever is less
# * compression-algorithm: kernel default
#
# (kwizard lab: Fedora's zram-generator-defaults; /etc/systemd/zram-generator.conf overrides it)
[zram0]
zram-size = min(ram / 2, 8192)
"""


DEB_TOOLS = ("apt", "apt-get", "apt-mark", "apt-cache", "apt-config", "apt-key", "dpkg", "dpkg-query", "dpkg-deb")


def _whiteout(host_dir: Path, absolute: str) -> None:
    """Hide a path of the machine's /etc from the host (an overlayfs whiteout: a 0/0 character device)."""
    path = upper(host_dir, absolute)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        os.mknod(path, 0o600 | stat.S_IFCHR, os.makedev(0, 0))


def write_distro(host_dir: Path, distro: str | None, fstab_swap: bool) -> None:
    """/etc as that distribution has it: os-release, fstab's swap, SELinux, repositories, zram."""
    info = distros.get(distro)
    fstab = Path("/etc/fstab").read_text() if Path("/etc/fstab").exists() else ""
    if fstab_swap:
        _write(host_dir, "/etc/fstab", fstab.rstrip("\n") + "\n" + FSTAB_SWAP.get(distro, FSTAB_SWAP[None]))
    if info is None:
        return
    _write(host_dir, "/etc/os-release", info["os_release"])
    if info["family"] == "dnf":
        for hidden in ("/etc/apt", "/etc/debian_version", "/etc/dpkg"):
            _whiteout(host_dir, hidden)
        # The machine's own apt/dpkg would otherwise answer `command -v apt-get`: hidden by an overlay on /usr/bin.
        usrbin = host_dir / "upper" / "usrbin"
        usrbin.mkdir(parents=True, exist_ok=True)
        (host_dir / "work" / "usrbin").mkdir(parents=True, exist_ok=True)
        os.chmod(usrbin, 0o755)
        for tool in DEB_TOOLS:
            if Path("/usr/bin", tool).exists() and not (usrbin / tool).exists():
                os.mknod(usrbin / tool, 0o600 | stat.S_IFCHR, os.makedev(0, 0))
        name = "Rocky Linux release 9.5 (Blue Onyx)" if distro.startswith("rocky") else "Fedora release 41 (Forty One)"
        _write(host_dir, "/etc/redhat-release", name + "\n")
        _write(host_dir, "/etc/system-release", name + "\n")
        repo = "rocky" if distro.startswith("rocky") else "fedora"
        _write(host_dir, f"/etc/yum.repos.d/{repo}.repo",
               f"[baseos]\nname={repo} BaseOS\nmirrorlist=https://mirrors.{repo}.example/$releasever/BaseOS\n"
               "enabled=1\ngpgcheck=1\n")
        _write(host_dir, "/etc/dnf/dnf.conf", "[main]\ngpgcheck=True\ninstallonly_limit=3\nclean_requirements_on_remove=True\n")
        upper(host_dir, "/etc/NetworkManager/conf.d").mkdir(parents=True, exist_ok=True)
    if info.get("selinux"):
        _write(host_dir, "/etc/selinux/config", SELINUX_CONFIG.format(mode=info["selinux"]))
    if info.get("swap") == "zram":
        conf = host_dir / "upper" / "usrlibsystemd" / "zram-generator.conf"
        conf.parent.mkdir(parents=True, exist_ok=True)
        (host_dir / "work" / "usrlibsystemd").mkdir(parents=True, exist_ok=True)
        conf.write_text(ZRAM_GENERATOR_DEFAULTS)
        os.chmod(conf, 0o644)


def write_settings(sim_dir: Path, durations: str | None, time_scale: float | None) -> None:
    """The lab-wide simulator settings: realistic durations, opt-in (scenario, else the environment)."""
    import json

    chosen = durations or os.environ.get("KWIZARD_LAB_DURATIONS") or "off"
    scale = time_scale if time_scale is not None else float(os.environ.get("KWIZARD_LAB_TIME_SCALE") or 1.0)
    (sim_dir / "settings.json").write_text(json.dumps({"durations": chosen, "time_scale": scale}))
    os.chmod(sim_dir / "settings.json", 0o644)
