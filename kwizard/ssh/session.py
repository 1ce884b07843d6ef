"""One open connection to one host: run scripts (streaming lines), capture output, copy files.

Implements steps.HostSession. Every script goes through the wrapper in
kwizard.ssh.shell, which is what makes sudo failures, timeouts and
cancellation clean: sudo is judged before the script is even sent, and
closing our end of stdin kills everything the script started.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from kwizard.ssh.loading import asyncssh  # asyncssh, without its slow library search (loading.py)

from kwizard.ssh import shell
from kwizard.ssh.errors import CommandTimeout, ConnectionLost, SSHError, SudoRefused, TransferFailed
from kwizard.plan.context import RemoteScript

LineCallback = Callable[[str, str], None]  # (stream, line)

# After a timeout or cancel: how long to wait for the wrapper to report that it killed the script.
_STOP_GRACE = 6.0


class SSHSession:
    def __init__(
        self,
        host: str,
        connection: asyncssh.SSHClientConnection,
        *,
        use_sudo: bool,
        sudo_password: str | None,
        sudo_timeout: float,
    ):
        self.host = host
        self._conn = connection
        self._use_sudo = use_sudo
        self._sudo_password = sudo_password
        self._sudo_timeout = sudo_timeout

    @property
    def closed(self) -> bool:
        return self._conn.is_closed()

    async def close(self) -> None:
        self._conn.close()
        await self._conn.wait_closed()

    async def run(self, script: RemoteScript, on_line: LineCallback, timeout: float | None = None) -> int:
        """Run `script`, each output line to `on_line` as it arrives; returns the exit status.

        Raises CommandTimeout (the remote processes are killed first), SudoRefused,
        or ConnectionLost; cancellation also kills the remote processes.
        """
        body = shell.compose(script).encode("utf-8")
        sudo = script.sudo and self._use_sudo
        marker = shell.new_marker()
        process = await self._start(shell.wrapper_command(marker, len(body), sudo))
        try:
            async with asyncio.timeout(timeout):
                sudo_noise, script_stderr = await self._wait_until_ready(process, marker, sudo)
                process.stdin.write(body.decode("utf-8"))
                return await self._stream(process, on_line, sudo_noise + script_stderr)
        except TimeoutError:
            await self._stop(process)
            raise CommandTimeout(
                self.host,
                f"the command did not finish within {timeout:g}s; kwizard stopped it and everything it started",
                "raise the step's timeout if the host is just slow, or look at the last lines for where it hung",
            ) from None
        except asyncio.CancelledError:
            _abandon(process)
            raise
        except (asyncssh.Error, OSError) as error:
            raise self._lost(error) from None
        finally:
            if process.exit_status is None:
                _abandon(process)

    async def run_unless_done(
        self, probe: RemoteScript, script: RemoteScript, on_line: LineCallback, timeout: float | None = None
    ) -> int | None:
        """The probe, then the script unless the probe says done (exit 0): then None, the script not run.

        One round trip for both where they can share one (shell.unless_done); two otherwise. The
        probe's output is not shown, as `capture` keeps it; `timeout` is for the two together.
        """
        marker = shell.new_done_marker()
        joined = shell.unless_done(probe, script, marker)
        if joined is None:
            code, _out, _err = await self.capture(probe, timeout)
            return None if code == 0 else await self.run(script, on_line, timeout)
        said_done = False

        def lines(stream: str, line: str) -> None:
            nonlocal said_done
            if stream == "stdout" and line == marker:
                said_done = True
            else:
                on_line(stream, line)

        status = await self.run(joined, lines, timeout)
        return None if said_done and status == 0 else status

    async def capture(self, script: RemoteScript, timeout: float | None = None) -> tuple[int, str, str]:
        out: list[str] = []
        err: list[str] = []

        def collect(stream: str, line: str) -> None:
            (out if stream == "stdout" else err).append(line)

        status = await self.run(script, collect, timeout)
        return status, _joined(out), _joined(err)

    async def upload(self, path: str, content: bytes, mode: int = 0o644, sudo: bool = True) -> None:
        status, _, err = await self.capture(shell.upload_script(path, content, mode, sudo), timeout=300)
        if status != 0:
            raise TransferFailed(self.host, f"could not write {path}: {_tail(err)}", "check the directory and free space")

    async def download(self, path: str, sudo: bool = True) -> bytes:
        status, out, err = await self.capture(shell.download_script(path, sudo), timeout=300)
        if status != 0:
            raise TransferFailed(self.host, f"could not read {path}: {_tail(err)}", "check the path exists on the host")
        return shell.decode_download(out)

    # --- the steps of one run ---

    async def _start(self, command: str) -> asyncssh.SSHClientProcess:
        try:
            return await self._conn.create_process(command, encoding="utf-8", errors="replace")
        except (asyncssh.Error, OSError) as error:
            raise self._lost(error) from None

    async def _wait_until_ready(self, process: asyncssh.SSHClientProcess, marker: str, sudo: bool) -> tuple[str, str]:
        """Answer sudo's prompt (once) and wait for the wrapper's marker.

        Returns (what sudo printed that was not a refusal, the start of the script's stderr).
        """
        try:
            return await asyncio.wait_for(self._read_until_marker(process, marker, sudo), self._sudo_timeout)
        except TimeoutError:
            raise SudoRefused(
                self.host,
                f"sudo did not let the command start within {self._sudo_timeout:g}s",
                "check that sudo works for this user without a terminal (sudo -S)",
            ) from None

    async def _read_until_marker(self, process: asyncssh.SSHClientProcess, marker: str, sudo: bool) -> tuple[str, str]:
        seen = ""
        password_sent = False
        while True:
            chunk = await process.stderr.read(4096)
            if not chunk:
                await process.wait_closed()
                raise self._not_started(seen, process.exit_status, sudo)
            seen += chunk
            before, found, after = seen.partition(marker + "\n")
            if found:
                return before, after
            refusal = shell.sudo_refusal(seen)
            if refusal:
                raise self._sudo_refused(refusal)
            if shell.SUDO_PROMPT in seen:
                if password_sent or not self._sudo_password:
                    raise self._sudo_refused("sudo asked for a password")
                # Sent once only: a wrong password then meets "Sorry, try again." and we stop.
                process.stdin.write(self._sudo_password + "\n")
                password_sent = True
                seen = seen.replace(shell.SUDO_PROMPT, "")

    async def _stream(self, process: asyncssh.SSHClientProcess, on_line: LineCallback, stderr_so_far: str) -> int:
        await asyncio.gather(
            _pump(process.stdout, "stdout", on_line, ""),
            _pump(process.stderr, "stderr", on_line, stderr_so_far),
        )
        await process.wait_closed()
        if process.exit_status is None:
            if self.closed:
                raise self._lost(None)
            return 255  # killed by a signal; the lines above say why
        return process.exit_status

    async def _stop(self, process: asyncssh.SSHClientProcess) -> None:
        """Close the script's stdin (the wrapper then kills its process group) and wait a little for it."""
        try:
            process.stdin.write_eof()
            await asyncio.wait_for(process.wait_closed(), _STOP_GRACE)
        except (TimeoutError, asyncssh.Error, OSError):
            pass
        process.close()

    # --- errors ---

    def _sudo_refused(self, said: str) -> SudoRefused:
        if self._sudo_password:
            fix = "check the sudo password (it was sent once and refused)"
        else:
            fix = "give the sudo password at run time (or ssh.sudo_password_env), or allow NOPASSWD sudo for this user"
        if "sudoers" in said or "not allowed" in said:
            fix = "add this user to sudoers on the host (e.g. the sudo or wheel group)"
        return SudoRefused(self.host, f"sudo refused: {said}", fix)

    def _not_started(self, said: str, status: int | None, sudo: bool) -> SSHError:
        said = said.replace(shell.SUDO_PROMPT, "").strip()
        if sudo:
            return self._sudo_refused(said or f"sudo exited with status {status}")
        return SSHError(self.host, f"the remote shell did not start (status {status}): {said}", "check bash is installed")

    def _lost(self, error: BaseException | None) -> ConnectionLost:
        reason = f": {error}" if error else ""
        return ConnectionLost(
            self.host,
            # The wrapper stops a command whose connection dies, but it may as well have finished
            # just before: kwizard cannot know which, so it says so and lets the probes decide.
            f"the connection was lost before the command reported how it ended{reason}; "
            "it may have finished on the host, or been stopped there",
            "check the network and the host, then resume: each step first checks whether it is already done there",
        )


async def _pump(reader: asyncssh.SSHReader, stream: str, on_line: LineCallback, carried: str) -> None:
    """Hand each line to `on_line` as it arrives; `carried` is text already read from this stream."""
    *complete, partial = carried.split("\n")
    for line in complete:
        on_line(stream, line)
    async for line in reader:
        if not line:  # end of stream
            break
        on_line(stream, (partial + line).rstrip("\n"))
        partial = ""
    if partial:
        on_line(stream, partial)


def _abandon(process: asyncssh.SSHClientProcess) -> None:
    """Without waiting (we may be cancelled): EOF makes the wrapper kill the script, then hang up."""
    try:
        process.stdin.write_eof()
    except (asyncssh.Error, OSError):
        pass
    process.close()


def _joined(lines: list[str]) -> str:
    return "\n".join(lines) + ("\n" if lines else "")


def _tail(text: str, lines: int = 5) -> str:
    return " | ".join(text.strip().splitlines()[-lines:]) or "no message"
