"""The bad-input corpus (tests/bad_input/cases.py) through the real command line.

For every case: the documented exit code, the field or flag named in the
message, no traceback, an answer within a bound, and nothing written.
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.bad_input.cases import Case, all_cases

CASES = all_cases()
TIME_BOUND_S = 20


def test_the_corpus_is_large_enough_to_mean_something():
    assert len(CASES) >= 150


def _profile_path(case: Case, tmp_path: Path) -> str:
    path = tmp_path / "profile.yaml"
    if case.file == "fifo":
        os.mkfifo(path)
    elif case.file == "folder":
        path.mkdir()
    elif case.file == "missing":
        path = tmp_path / "nonexistent.yaml"
    elif case.file == "devnull":
        return "/dev/null"
    elif case.file == "empty":
        path.write_text("")
    elif case.file == "binary":
        path.write_bytes(b"\x00\xff\xfe\x89PNG\r\n\x1a\n" * 10)
    elif case.file == "latin1":
        path.write_bytes("name: caf\xe9\n".encode("latin-1"))
    else:
        path.write_text(case.text or "")
    return str(path)


def run_cli(argv: list[str], env: dict[str, str]) -> tuple[int, str]:
    """`kwizard ARGV` in a fresh interpreter, or in this one when the case can be trusted not to hang.

    Cases that hand kwizard a special file (a FIFO, a device) run as a real process with a
    timeout, so a regression that blocks is a failure, not a hung suite; the rest run
    in-process (the same `main`, a tenth of the time), bounded by an alarm.
    """
    result = subprocess.run(
        [sys.executable, "-m", "kwizard", *argv],
        capture_output=True, text=True, timeout=TIME_BOUND_S, stdin=subprocess.DEVNULL, env=env,
    )
    return result.returncode, result.stdout + result.stderr


def run_in_process(argv: list[str], env: dict[str, str], capsys, monkeypatch) -> tuple[int, str]:
    from kwizard.cli.main import main

    for name in ("HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME"):
        monkeypatch.setenv(name, env[name])
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))

    def too_slow(signum, frame):
        raise TimeoutError(f"no answer within {TIME_BOUND_S}s")

    old = signal.signal(signal.SIGALRM, too_slow)
    signal.alarm(TIME_BOUND_S)
    try:
        try:
            code = main(argv)
        except SystemExit as exit_:  # argparse's own refusals
            code = exit_.code if isinstance(exit_.code, int) else 2
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    captured = capsys.readouterr()
    return code, captured.out + captured.err


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_refused_clearly(case: Case, tmp_path, capsys, monkeypatch):
    profile = _profile_path(case, tmp_path)
    argv = [a.replace("{profile}", profile) for a in case.argv]
    home = tmp_path / "home"
    home.mkdir()
    env = {**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"), "XDG_STATE_HOME": str(home / ".state")}
    if case.file in ("fifo", "devnull") or argv[0] in ("tui", "--profile"):
        code, said = run_cli(argv, env)
    else:
        code, said = run_in_process(argv, env, capsys, monkeypatch)
    assert "Traceback" not in said, said[-2000:]
    assert code == case.expect_exit, said[-2000:]
    assert case.must_say.lower() in said.lower(), said[-2000:]
    assert len(said) < 20_000, "the message must not echo a huge value back"
    assert not any(home.rglob("*")), "nothing is written for bad input"
