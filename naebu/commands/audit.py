"""`naebu audit verify`: check the audit trail's hash chain (감사 기록 위변조 검사).

Exit codes: 0 the chain is whole and every alert agrees with it; 1 a problem was found (each
printed on one line, naming the entry or alert).
"""

from __future__ import annotations

import click

from naebu import store
from naebu.commands.common import UserError, with_config
from naebu.config import Config


@click.group()
def audit() -> None:
    """The audit trail of every alert step (감사 기록)."""


@audit.command("verify")
@with_config
def audit_verify(config: Config) -> None:
    """Recompute the hash chain; name any edited or deleted entry."""
    from alerts.trail import verify

    engine = store.connect(config.store_url)
    try:
        with engine.connect() as conn:
            result = verify(conn)
    finally:
        engine.dispose()
    if not result.ok:
        raise UserError(
            [f"naebu audit: {p}" for p in result.problems]
            + [f"naebu audit: {len(result.problems)} problem(s) in {result.entries} entries"]
        )
    click.echo(f"audit trail intact: {result.entries} entries, chain and alert statuses verified")
