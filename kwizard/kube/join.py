"""Making the join command workers run: fresh token, CA hash checked first.

The token never passes through a log: the command is captured (not streamed),
registered with the run's masker, checked against the control plane's own CA
and kept in memory only.
"""

from __future__ import annotations

from kwizard.kube.joincmd import (
    FRESH_JOIN_COMMAND,
    CAHashMismatch,
    JoinCommand,
    JoinCommandError,
    parse_join_command,
    verify_join_command,
)
from kwizard.plan.steps import LocalWork, StepFailed
from kwizard.plan.context import RemoteScript
from kwizard.plan.scripts import ADMIN_CONF
from kwizard.plan.context import RunContext

CA_CERT = "/etc/kubernetes/pki/ca.crt"


async def require_cluster(session, host: str) -> None:
    """StepFailed("no cluster on HOST") when the control plane has no admin.conf (never set up, or reset)."""
    status, out, _ = await session.capture(RemoteScript(f"test -s {ADMIN_CONF} && echo present || echo absent\n"), timeout=60)
    if status == 0 and out.strip() == "absent":
        raise StepFailed(
            f"no cluster on {host}: {ADMIN_CONF} is not there (never set up, or reset); "
            "set the cluster up with `kwizard apply` first"
        )


async def fresh_join_command(ctx: RunContext, host: str) -> JoinCommand:
    session = await ctx.session(host)
    await require_cluster(session, host)
    status, out, err = await session.capture(RemoteScript(FRESH_JOIN_COMMAND + "\n"), timeout=120)
    try:
        join = parse_join_command(out)
    except JoinCommandError as exc:
        detail = (err.strip().splitlines() or [""])[-1] if status != 0 else str(exc)
        raise StepFailed(f"{FRESH_JOIN_COMMAND} failed on {host}: {detail or exc}") from None
    for secret in join.secrets:
        ctx.add_secret(secret)
    ca_pem = await session.download(CA_CERT)
    try:
        verify_join_command(join, ca_pem)
    except CAHashMismatch as exc:
        raise StepFailed(str(exc)) from None
    return join


def make_join_command(host: str) -> LocalWork:
    async def work(ctx: RunContext) -> None:
        join = await fresh_join_command(ctx, host)
        ctx.outcome.join_command = join
        ctx.note(host, f"join command ready, CA hash verified: {join.masked()}")

    return work
