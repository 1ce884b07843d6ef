"""One step on one host: the probe, the script, the time limit, and the HostFinished it ends in.

The runner's step loop (kwizard.run.runner) calls `HostWork.run` for every
host of a step, a bounded number at a time; whatever goes wrong on the host
(a lost connection, a timeout, a script that cannot be built, a non-zero
exit) becomes that host's failure, never an exception out of the run.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from kwizard.plan.context import HostSession, RemoteScript, RunContext
from kwizard.plan.steps import ScriptFor, Step, StepFailed
from kwizard.run.events import Event, HostFinished, HostSkipped
from kwizard.ssh.errors import CommandTimeout, SSHError

# The session kills the remote command at the step's timeout; this is the
# runner's own backstop for a session that cannot even do that (a dead link).
TIMEOUT_GRACE = 30.0

LineSink = Callable[[str, str, str, str], None]  # (step id, host, stream, line)
LineCallback = Callable[[str, str], None]  # (stream, line)

ALREADY_DONE, NOTHING_TO_DO = "already done", "nothing to do"  # a host's part that ran no script

QUIET_NOTE_EVERY = 30.0  # seconds of a host's step without output before kwizard says it is still working


class HostWork:
    """Runs steps' host parts for one run: `ctx` builds the scripts and opens sessions."""

    def __init__(self, ctx: RunContext, emit: Callable[[Event], None], line: LineSink):
        self._ctx = ctx
        self._emit = emit
        self._line = line

    async def run(self, step: Step, host: str) -> str:
        """done | skipped | failed for one host; every error ends up in a HostFinished."""
        started = time.monotonic()
        remote = _Stopwatch()
        if step.script is None and step.probe is None:
            return "done"  # kwizard-side work only: nothing to run on the host
        try:
            session = await self._ctx.session(host)
            code = await self._probe_and_script(step, host, session, remote)
        except asyncio.CancelledError:
            self._finished(step, host, None, started, remote, "cancelled")
            raise
        except Exception as exc:  # noqa: BLE001 - a host's failure is reported, never raised out of the run
            error = describe_error(exc)
            if isinstance(exc, (TimeoutError, CommandTimeout)):
                error += (f" (step {step.id}'s limit is {step.timeout:g}s: raise it with "
                          f"--step-timeout {step.id}=SECONDS or the profile's cluster.step_timeouts)")
            self._ctx.note(host, error)
            self._finished(step, host, None, started, remote, error)
            return "failed"
        if code == ALREADY_DONE:
            self._emit(HostSkipped(step_id=step.id, host=host))
            return "skipped"
        if code == NOTHING_TO_DO:
            self._emit(HostSkipped(step_id=step.id, host=host, reason="nothing to do on this host"))
            return "skipped"
        error = None if code == 0 else f"exited with status {code}"
        self._finished(step, host, code, started, remote, error)
        return "done" if code == 0 else "failed"

    async def _probe_and_script(self, step: Step, host: str, session: HostSession, remote: _Stopwatch) -> int | str:
        """The script's exit status, or ALREADY_DONE (its probe said so), or NOTHING_TO_DO (no script here)."""
        probe = self._build(step.probe, host)
        joined = getattr(session, "run_unless_done", None) if probe is not None else None
        script = self._try_build(step.script, host) if joined is not None else None
        if joined is not None and script is not None:
            # The probe and the script in one round trip (kwizard.ssh.session.run_unless_done).
            with remote:
                code = await _bounded(self._run_script(
                    step, host, lambda on_line: joined(probe, script, on_line, timeout=step.timeout)), step.timeout)
            return ALREADY_DONE if code is None else code
        if probe is not None:
            with remote:
                code, _out, _err = await _bounded(session.capture(probe, timeout=step.timeout), step.timeout)
            if code == 0:
                return ALREADY_DONE
        script = self._build(step.script, host)
        if script is None:
            return NOTHING_TO_DO
        with remote:
            return await _bounded(self._run_script(
                step, host, lambda on_line: session.run(script, on_line, timeout=step.timeout)), step.timeout)

    def _build(self, script_for: ScriptFor | None, host: str) -> RemoteScript | None:
        return script_for(self._ctx, host) if script_for else None

    def _try_build(self, script_for: ScriptFor | None, host: str) -> RemoteScript | None:
        """The script made before its probe ran, to send both at once; None when it cannot be made yet
        (it raises, or has nothing to do): then the probe goes first on its own and decides, as always."""
        try:
            return self._build(script_for, host)
        except Exception:  # noqa: BLE001 - built again after the probe, where its error is reported
            return None

    async def _run_script(self, step: Step, host: str, start: Callable[[LineCallback], Awaitable[int | None]]) -> int | None:
        started = last = time.monotonic()
        said = ""  # the host's last line

        def on_line(stream: str, line: str) -> None:
            nonlocal last, said
            last, said = time.monotonic(), line.strip() or said
            self._line(step.id, host, stream, line)

        async def still_running() -> None:
            nonlocal last
            while True:
                await asyncio.sleep(max(0.05, last + QUIET_NOTE_EVERY - time.monotonic()))
                now = time.monotonic()
                if now - last >= QUIET_NOTE_EVERY:
                    last = now
                    since = f"last output: {said[:120]}" if said else f"no output yet ({step.title})"
                    self._line(step.id, host, "kwizard", f"still running {step.id}: {_clock(now - started)}, {since}")

        watchdog = asyncio.ensure_future(still_running())
        try:
            return await start(on_line)
        finally:
            watchdog.cancel()

    def _finished(
        self, step: Step, host: str, code: int | None, started: float, remote: _Stopwatch, error: str | None
    ) -> None:
        self._emit(
            HostFinished(
                step_id=step.id,
                host=host,
                ok=error is None,
                exit_status=code,
                duration=time.monotonic() - started,
                remote_duration=remote.total,
                error=error,
            )
        )


def _clock(seconds: float) -> str:
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes}m{rest:02d}s" if minutes else f"{rest}s"


def describe_error(exc: BaseException) -> str:
    """What went wrong, for a person; SSH errors already say it in their own words."""
    if isinstance(exc, (SSHError, StepFailed)):
        return str(exc) or type(exc).__name__
    if isinstance(exc, TimeoutError):
        return "no answer from the host within the step's time limit (and the session could not stop it)"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


async def _bounded(work: Any, timeout: float | None) -> Any:
    if timeout is None:
        return await work
    async with asyncio.timeout(timeout + TIMEOUT_GRACE):
        return await work


class _Stopwatch:
    """Adds up the time spent inside `with` blocks (waiting on the remote side)."""

    def __init__(self) -> None:
        self.total = 0.0
        self._since = 0.0

    def __enter__(self) -> _Stopwatch:
        self._since = time.monotonic()
        return self

    def __exit__(self, *exc: object) -> None:
        self.total += time.monotonic() - self._since
