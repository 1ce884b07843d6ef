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
import subprocess
from pathlib import Path

from . import naming
from .sim import manifests

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
    manifests.write_all(sim / "manifests")
    (sim / "host").mkdir()  # each host binds its own control folder over this
    state = sim / "state"
    state.mkdir()
    os.chmod(state, 0o777)  # kubectl runs as the lab user too, and replaces the state file
    for folder in (sim, sim / "bin"):
        os.chmod(folder, 0o755)
    return sim
