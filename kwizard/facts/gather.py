"""Facts from every host at once: one script, one round trip per host.

`gather_facts` answers per host with `HostFacts` or the error that kept the
host from answering (an `SSHError`: unreachable, auth refused, host key
unknown/changed, timeout, ...). One bad host never stops the others. When sudo
is refused the facts are still gathered as the plain user, with
`sudo_ok=False` and the reason, because most of them need no root.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from kwizard.facts.model import HostError, HostFacts, parse_facts
from kwizard.facts.script import facts_script, split_sections
from kwizard.profile.model import Profile
from kwizard.ssh import Fleet, HostKeyDecision, SSHError, SSHSession, SudoRefused
from kwizard.plan.context import RemoteScript

FACTS_TIMEOUT = 60.0


class FactsUnreadable(SSHError):
    kind = "facts unreadable"


# --- gathering ---


async def gather_facts(
    profile: Profile,
    fleet: Fleet | None = None,
    *,
    decide_host_key: HostKeyDecision | None = None,
    sudo_password: str | None = None,
    ssh_config: Sequence[str] | tuple[()] = (),
    timeout: float = FACTS_TIMEOUT,
    only: Sequence[str] | None = None,
) -> dict[str, HostFacts | HostError]:
    """Facts from every host of the profile (or those in `only`) at once; a failing host gives its error.

    With no `fleet`, one is opened for this call and closed after it. Every
    host is asked to resolve every profile host name, `only` or not.
    """
    if fleet is None:
        own = Fleet(profile, decide_host_key=decide_host_key, sudo_password=sudo_password, ssh_config=ssh_config)
        async with own:
            return await gather_facts(profile, own, timeout=timeout, only=only)
    names = [h.name for h in profile.hosts if only is None or h.name in only]
    results = await asyncio.gather(*(_facts_or_error(profile, fleet, n, timeout) for n in names))
    return dict(zip(names, results))


async def _facts_or_error(profile: Profile, fleet: Fleet, name: str, timeout: float) -> HostFacts | HostError:
    try:
        session = await fleet.session(name)
        return await host_facts(session, [h.name for h in profile.hosts], timeout)
    except SSHError as error:
        return error
    except Exception as error:  # a parser bug on one odd host must not hide the others' answers
        return FactsUnreadable(name, f"could not read the facts: {type(error).__name__}: {error}")


async def host_facts(session: SSHSession, names: list[str], timeout: float = FACTS_TIMEOUT) -> HostFacts:
    """One host's facts: as root when sudo lets us, else as the plain user (noting why)."""
    script = facts_script(names)
    try:
        status, out, err = await session.capture(RemoteScript(script, sudo=True), timeout)
        sudo_problem = ""
    except SudoRefused as refused:
        status, out, err = await session.capture(RemoteScript(script, sudo=False), timeout)
        sudo_problem = refused.message  # the check says the fix once, in its own words
    sections = split_sections(out)
    if "end" not in sections:
        raise FactsUnreadable(session.host, f"the facts script stopped early (status {status}): {err.strip()[-300:]}")
    return parse_facts(session.host, sections, sudo_problem=sudo_problem)
