"""The shell side of running a script on a host: the text kwizard sends, nothing that connects.

Every script reaches the host on stdin, never in argv, so tokens in a script
do not show up in `ps`. A fixed wrapper (the only thing in argv, besides a
marker and a byte count) is started under `sudo` or plain `bash`:

1. it prints a ready marker on stderr, which tells kwizard that sudo has let
   it through (before the marker, stderr belongs to sudo: its password
   prompt, "Sorry, try again.", "a password is required");
2. it reads exactly the script's bytes from stdin into a private temp dir;
3. it starts the script in its own session (setsid), so the script and every
   child share one process group;
4. it watches stdin: when kwizard closes it (timeout, cancel, or the
   connection dies), it kills that process group, so nothing is left running.
"""

from __future__ import annotations

import base64
import secrets
import shlex

from kwizard.plan.context import RemoteScript, Upload

# sudo prints this (without a newline) when it wants the password; -S reads it from stdin.
SUDO_PROMPT = "[kwizard-sudo-password]"

# What sudo says when it refuses; a line with one of these before the ready marker is a refusal.
_SUDO_REFUSALS = (
    "sorry, try again",
    "incorrect password",
    "a password is required",
    "is not in the sudoers file",
    "is not allowed to",
    "may not run sudo",
    "no tty present",
    "a terminal is required",
    "sudo: command not found",
    "sudo: not found",
)

WRAPPER = r"""
printf '%s\n' "$1" >&2
dir=$(mktemp -d "${TMPDIR:-/tmp}/kwizard.XXXXXXXX") || exit 125
trap 'rm -rf "$dir"' EXIT
head -c "$2" > "$dir/script.sh" || exit 125
exec 3<&0
setsid bash "$dir/script.sh" </dev/null 3<&- &
child=$!
( while read -r _ <&3; do :; done
  trap '' TERM
  kill -TERM -- "-$child"; sleep 3; kill -KILL -- "-$child" ) >/dev/null 2>&1 &
watchdog=$!
wait "$child"; status=$?
kill "$watchdog" 2>/dev/null
exit "$status"
"""
# Why each line: the marker is proof that sudo let us in; mktemp -d makes a
# 0700 dir only the runner (root under sudo) can touch; `head -c` reads no
# more than the script, leaving stdin open as the "kwizard is still here"
# signal the watchdog waits on; a background job in a non-interactive shell
# gets /dev/null as stdin, hence fd 3; setsid (not a group leader here, so it
# does not fork) makes $child the process-group id the watchdog kills. Once
# it has started killing, the watchdog ignores the wrapper's own `kill` and
# holds none of the channel's output, so the channel closes at once while it
# still finishes off (KILL) anything that shrugged off TERM.


def new_marker() -> str:
    return f"[kwizard-ready-{secrets.token_hex(8)}]"


def new_done_marker() -> str:
    """The line a joined probe and script (unless_done) prints when the probe says done."""
    return f"[kwizard-done-{secrets.token_hex(8)}]"


def wrapper_command(marker: str, script_bytes: int, sudo: bool) -> str:
    """The command line: only the fixed wrapper, a marker and a byte count."""
    bash = f"bash -c {shlex.quote(WRAPPER)} kwizard {shlex.quote(marker)} {script_bytes}"
    if not sudo:
        return bash
    # -S reads the password from stdin, -p makes the prompt one we can spot
    # (sudo prints it on stderr only when it really wants a password).
    return f"sudo -S -p {shlex.quote(SUDO_PROMPT)} -- {bash}"


def sudo_refusal(text: str) -> str | None:
    """The first line of sudo's own output that says no, if any."""
    for line in text.splitlines():
        lowered = line.lower()
        if any(phrase in lowered for phrase in _SUDO_REFUSALS):
            return line.replace(SUDO_PROMPT, "").strip()
    return None


def compose(script: RemoteScript) -> str:
    """The full text the host runs: strict mode, the uploads, then the script."""
    parts = ["set -euo pipefail"]
    parts += [upload_snippet(u.path, u.content, u.mode) for u in script.uploads]
    parts.append(script.script)
    return "\n".join(parts) + "\n"


# A probe longer than this runs in its own round trip: it travels as one argument of `bash -c`
# (Linux caps one argument at 128 KiB, MAX_ARG_STRLEN). Probes are a few lines.
MAX_JOINED_PROBE = 64 * 1024


def unless_done(probe: RemoteScript, script: RemoteScript, done_marker: str) -> RemoteScript | None:
    """The probe and the step's script as one script (one round trip), or None when they cannot be one.

    The probe runs first, whole (its strict mode and uploads as compose() makes them), in a bash of its
    own: inside an `if` condition `set -e` would not apply to it (bash(1), `set -e`), and so a failing
    command could no longer make it say "not done". Its output is discarded, as a separate probe's was.
    When it exits 0 the script prints `done_marker` and stops; otherwise the script's uploads and the
    script follow, exactly as compose() would send them. Both must run as the same user.
    """
    probe_text = compose(probe)
    if probe.sudo != script.sudo or len(probe_text.encode("utf-8")) > MAX_JOINED_PROBE:
        return None
    end = f"KWIZARD_PROBE_{secrets.token_hex(6)}"
    first = (
        f"IFS= read -r -d '' kwizard_probe <<'{end}' || true\n{probe_text}{end}\n"
        'if bash -c "$kwizard_probe" kwizard-probe </dev/null >/dev/null 2>&1; then\n'
        f"  printf '%s\\n' {shlex.quote(done_marker)}\n"
        "  exit 0\n"
        "fi\n"
        "unset kwizard_probe"
    )
    parts = [first] + [upload_snippet(u.path, u.content, u.mode) for u in script.uploads] + [script.script]
    return RemoteScript(script="\n".join(parts), sudo=script.sudo)


def upload_snippet(path: str, content: bytes, mode: int) -> str:
    """Shell that writes `content` to `path` atomically (temp file in the same dir, then rename)."""
    encoded = base64.encodebytes(content).decode("ascii")
    end = f"KWIZARD_EOF_{secrets.token_hex(6)}"
    target = shlex.quote(path)
    return (
        f"mkdir -p -- \"$(dirname -- {target})\"\n"
        f"kwizard_tmp=$(mktemp \"$(dirname -- {target})/.kwizard.XXXXXXXX\")\n"
        f"base64 -d > \"$kwizard_tmp\" <<'{end}'\n{encoded}{end}\n"
        f"chmod {mode:04o} \"$kwizard_tmp\"\n"
        f"mv -f -- \"$kwizard_tmp\" {target}"
    )


def download_script(path: str, sudo: bool) -> RemoteScript:
    return RemoteScript(script=f"base64 < {shlex.quote(path)}", sudo=sudo)


def decode_download(stdout: str) -> bytes:
    return base64.b64decode("".join(stdout.split()))


def upload_script(path: str, content: bytes, mode: int, sudo: bool) -> RemoteScript:
    return RemoteScript(script=":", sudo=sudo, uploads=(Upload(path, content, mode),))
