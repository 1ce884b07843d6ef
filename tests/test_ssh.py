"""kwizard.ssh against real sshd hosts (the lab): host keys, sudo, streaming, timeouts, files."""

from __future__ import annotations

import asyncio
import subprocess
import time

import pytest

from kwizard.profile.model import HostKeyPolicy
from kwizard.ssh import (
    AuthRefused,
    CommandTimeout,
    Fleet,
    HostKeyChanged,
    HostKeyUnknown,
    HostUnreachable,
    SudoRefused,
)
from kwizard.plan.context import RemoteScript, Upload
from tests.lab import Scenario
from tests.lab.hostfs import HOST_KEY

pytestmark = pytest.mark.lab


def fleet(profile, **options) -> Fleet:
    """A Fleet that reads no ~/.ssh/config and no agent: only what the lab gives."""
    return Fleet(profile, ssh_config=[], use_agent=False, **options)


def with_ssh(profile, **changes):
    return profile.model_copy(update={"ssh": profile.ssh.model_copy(update=changes)})


def server_fingerprint(lab, index: int = 0) -> str:
    return lab.exec(index, f"ssh-keygen -lf {HOST_KEY}.pub").stdout.split()[1]


def one_host(profile, index: int = 0):
    return profile.model_copy(update={"hosts": [profile.hosts[index].model_copy(update={"role": profile.hosts[0].role})]})


# --- host keys ---


async def test_strict_refuses_unknown_key_and_shows_fingerprint(lab_factory, tmp_path):
    lab = lab_factory(hosts=1)
    profile = with_ssh(lab.profile(), known_hosts=str(tmp_path / "known_hosts"))
    async with fleet(profile) as f:
        with pytest.raises(HostKeyUnknown) as refused:
            await f.session(profile.hosts[0].name)
    assert refused.value.fingerprint.startswith("SHA256:")
    assert refused.value.fingerprint in str(refused.value)
    assert refused.value.fingerprint == server_fingerprint(lab)
    assert (tmp_path / "known_hosts").read_text() == ""


async def test_accept_new_asks_once_then_remembers(lab_factory, tmp_path):
    lab = lab_factory(hosts=1)
    known = tmp_path / "ssh" / "known_hosts"
    profile = with_ssh(lab.profile(), known_hosts=str(known), host_key_policy=HostKeyPolicy.ACCEPT_NEW)
    host = profile.hosts[0]
    asked = []

    async def confirm(name, address, key_type, fingerprint):
        asked.append((name, address, key_type, fingerprint))
        return True

    async with fleet(profile, decide_host_key=confirm) as f:
        session = await f.session(host.name)
        assert await session.run(RemoteScript("true", sudo=False), lambda *_: None) == 0
    assert asked == [(host.name, host.address, "ssh-ed25519", server_fingerprint(lab))]
    line = known.read_text().split()
    assert line[0] == host.address and line[1] == "ssh-ed25519"  # port 22: the plain form OpenSSH writes
    assert oct(known.stat().st_mode & 0o777) == "0o600"

    async def never(*_):
        raise AssertionError("a remembered key must not be asked about again")

    async with fleet(profile, decide_host_key=never) as f:
        await f.session(host.name)


async def test_accept_new_refused_by_the_user(lab_factory, tmp_path):
    lab = lab_factory(hosts=1)
    profile = with_ssh(lab.profile(), known_hosts=str(tmp_path / "kh"), host_key_policy=HostKeyPolicy.ACCEPT_NEW)

    async def no(*_):
        return False

    async with fleet(profile, decide_host_key=no) as f:
        with pytest.raises(HostKeyUnknown, match="was not accepted"):
            await f.session(profile.hosts[0].name)
    assert (tmp_path / "kh").read_text() == ""


@pytest.mark.parametrize("policy", [HostKeyPolicy.STRICT, HostKeyPolicy.ACCEPT_NEW])
async def test_changed_key_refused_with_both_fingerprints(lab_factory, policy):
    lab = lab_factory(hosts=1)
    old = server_fingerprint(lab)
    lab.set_fault(0, "host_key_changed")
    new = server_fingerprint(lab)
    assert old != new
    profile = with_ssh(lab.profile(), host_key_policy=policy)

    async def yes(*_):
        raise AssertionError("a changed key is never a question")

    async with fleet(profile, decide_host_key=yes) as f:
        with pytest.raises(HostKeyChanged) as changed:
            await f.session(profile.hosts[0].name)
    text = str(changed.value)
    assert old in text and new in text
    assert changed.value.known_fingerprints == (old,) and changed.value.offered_fingerprint == new
    assert f"ssh-keygen -R {profile.hosts[0].address} -f {lab.known_hosts}" in changed.value.fix


# --- connecting ---


async def test_down_host_and_wrong_key_are_typed_errors(lab_factory, tmp_path):
    lab = lab_factory(hosts=2)
    lab.set_fault(1, "ssh_down")
    stranger = tmp_path / "stranger"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(stranger)], check=True)
    async with fleet(lab.profile()) as f:
        opened = await f.open_all()
    assert isinstance(opened[lab.profile().hosts[1].name], HostUnreachable)
    assert not isinstance(opened[lab.profile().hosts[0].name], Exception)
    async with fleet(with_ssh(lab.profile(), identity_file=str(stranger))) as f:
        with pytest.raises(AuthRefused, match="refused"):
            await f.session(lab.profile().hosts[0].name)


async def test_one_connection_per_host_is_reused(lab3):
    profile = lab3.profile()
    async with fleet(profile) as f:
        first = await asyncio.gather(*(f.session(h.name) for h in profile.hosts for _ in range(3)))
        assert len({id(s) for s in first}) == 3
        assert await f.session(profile.hosts[0].name) is first[0]


# --- running ---


async def test_lines_stream_as_they_come(lab_factory):
    lab = lab_factory(hosts=1)
    profile = lab.profile()
    seen: list[tuple[float, str, str]] = []
    started = time.monotonic()
    script = "echo one; echo warn >&2; sleep 1; echo two; printf 'no newline'; exit 3"
    async with fleet(profile) as f:
        session = await f.session(profile.hosts[0].name)
        status = await session.run(RemoteScript(script), lambda s, l: seen.append((time.monotonic() - started, s, l)))
    assert status == 3
    assert [(s, l) for _, s, l in seen] == [("stdout", "one"), ("stderr", "warn"), ("stdout", "two"),
                                            ("stdout", "no newline")]
    assert seen[1][0] < seen[2][0] - 0.7  # "two" came a second after the first lines, not all at the end


async def test_timeout_kills_the_remote_processes(lab_factory):
    lab = lab_factory(hosts=1)
    profile = lab.profile()
    lines: list[str] = []
    async with fleet(profile) as f:
        session = await f.session(profile.hosts[0].name)
        started = time.monotonic()
        with pytest.raises(CommandTimeout):
            await session.run(RemoteScript("echo $$; sleep 1000 & wait"), lambda s, l: lines.append(l), timeout=1.5)
        assert time.monotonic() - started < 10
        assert await _group_gone(session, int(lines[0]))


async def test_cancel_kills_the_remote_processes_even_when_they_ignore_term(lab_factory):
    lab = lab_factory(hosts=1)
    profile = lab.profile()
    lines: list[str] = []
    async with fleet(profile) as f:
        session = await f.session(profile.hosts[0].name)
        task = asyncio.ensure_future(
            session.run(RemoteScript("echo $$; trap '' TERM; sleep 1000"), lambda s, l: lines.append(l))
        )
        while not lines:
            await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert await _group_gone(session, int(lines[0]), wait=8)


async def _group_gone(session, pgid: int, wait: float = 5) -> bool:
    """True once no live process of that group is left on the host."""
    probe = RemoteScript(f"ps -e -o pgid=,stat= | awk '$1 == {pgid} && $2 !~ /Z/' | wc -l")
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        _, out, _ = await session.capture(probe)
        if out.strip() == "0":
            return True
        await asyncio.sleep(0.5)
    return False


async def test_upload_and_download_with_mode(lab_factory):
    lab = lab_factory(hosts=1)
    profile = lab.profile()
    content = bytes(range(256)) * 40 + b"token: abc.def\n"
    async with fleet(profile) as f:
        session = await f.session(profile.hosts[0].name)
        await session.upload("/etc/kwizard-test/data.bin", content, 0o600)
        assert await session.download("/etc/kwizard-test/data.bin") == content
        script = RemoteScript("stat -c '%a %U' /etc/kwizard-test/up.conf; cat /etc/kwizard-test/up.conf",
                              uploads=(Upload("/etc/kwizard-test/up.conf", b"hello\n", 0o640),))
        status, out, _ = await session.capture(script)
    assert (status, out) == (0, "640 root\nhello\n")
    assert lab.exec(0, "stat -c %a /etc/kwizard-test/data.bin").stdout.strip() == "600"


async def test_a_probe_and_its_script_in_one_round_trip(lab_factory):
    lab = lab_factory(hosts=1)
    profile = lab.profile()
    upload = Upload("/etc/kwizard-test/joined.conf", b"written\n", 0o600)
    work = RemoteScript("echo work; cat /etc/kwizard-test/joined.conf", uploads=(upload,))
    # a probe whose first command fails: under its own strict mode that is "not done", never done
    strict = RemoteScript("keys=$(false)\n! printf 'x\\n' | grep -qx y\n")
    async with fleet(profile) as f:
        session = await f.session(profile.hosts[0].name)
        seen: list[tuple[str, str]] = []
        assert await session.run_unless_done(strict, work, lambda s, l: seen.append((s, l))) == 0
        assert seen == [("stdout", "work"), ("stdout", "written")]
        lab.exec(0, "rm -f /etc/kwizard-test/joined.conf")
        seen.clear()
        done = RemoteScript("echo probe-noise; echo more >&2; true")
        assert await session.run_unless_done(done, work, lambda s, l: seen.append((s, l))) is None
        assert seen == []  # the probe's output is not shown, and the script (and its upload) did not run
        assert lab.exec(0, "test -e /etc/kwizard-test/joined.conf").returncode != 0
        # probe and script as different users: two round trips, the same answers
        plain = RemoteScript("test -e /etc/kwizard-test/nothing-here", sudo=False)
        assert await session.run_unless_done(plain, RemoteScript("id -u"), lambda s, l: seen.append((s, l))) == 0
        assert seen == [("stdout", "0")]


# --- sudo ---

LAB_PASSWORD = "lab-sudo-pw"


async def test_sudo_password_right_wrong_and_missing(lab_factory):
    lab = lab_factory(hosts=1, scenario=Scenario(name="sudo-pw").with_host(0, sudo_password=LAB_PASSWORD))
    profile = lab.profile()
    name = profile.hosts[0].name
    async with fleet(profile, sudo_password=LAB_PASSWORD) as f:
        session = await f.session(name)
        assert await session.capture(RemoteScript("id -u")) == (0, "0\n", "")
        # the password never reaches a command line on the host
        # pgrep never matches itself: any line is a process whose arguments hold the password
        status, out, _ = await session.capture(RemoteScript(f"pgrep -af -- {LAB_PASSWORD} || true"))
        assert out.strip() == ""
    for password, expected in (("wrong-password", "Sorry"), (None, "password")):
        async with fleet(profile, sudo_password=password) as f:
            session = await f.session(name)
            started = time.monotonic()
            with pytest.raises(SudoRefused, match=expected) as refused:
                await session.capture(RemoteScript("id -u"))
            assert time.monotonic() - started < 8
            assert LAB_PASSWORD not in str(refused.value) and "wrong-password" not in str(refused.value)
            assert await session.capture(RemoteScript("id -u", sudo=False)) != (0, "0\n", "")  # session still usable


async def test_connection_cut_mid_command_is_connection_lost_and_the_next_call_reconnects(lab_factory):
    from kwizard.ssh import ConnectionLost

    lab = lab_factory(hosts=1)
    lab.set_fault(0, "cut_during", "kubeadm config images pull")
    profile = lab.profile()
    async with fleet(profile) as f:
        session = await f.session(profile.hosts[0].name)
        with pytest.raises(ConnectionLost):
            await session.run(RemoteScript("echo before; kubeadm config images pull; sleep 30"), lambda *_: None, timeout=20)
        lab.clear_fault(0, "cut_during")
        again = await f.session(profile.hosts[0].name)
        assert again is not session and await again.capture(RemoteScript("echo ok")) == (0, "ok\n", "")
