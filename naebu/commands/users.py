"""`naebu users`: the web inbox's local accounts, one per official of the directory.

``set-password`` creates or updates an account (the official must be in the store's
``officials`` table, i.e. a run has stored the directory), reading the password twice from
the terminal, or once from standard input with ``--password-stdin``. Exit codes: 0 done;
1 unknown or inactive official, too short a password, no such account.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime

import click

from naebu.commands.common import UserError, with_config
from naebu.settings.config import Config
from naebu.store import tables as store


@click.group()
def users() -> None:
    """Accounts of the web inbox (경보함 사용자)."""


@users.command("set-password")
@click.argument("employee_id")
@click.option("--password-stdin", is_flag=True, help="read the password from standard input")
@with_config
def set_password(config: Config, employee_id: str, password_stdin: bool) -> None:
    """Create the account of EMPLOYEE_ID, or set its password (its sessions end)."""
    from naebu.inbox.auth import AccountError
    from naebu.inbox.auth import set_password as store_password

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("password", hide_input=True, confirmation_prompt=True)
    engine = store.connect(config.store_url)
    try:
        with engine.begin() as conn:
            created = store_password(
                conn, employee_id, password, now=datetime.now().replace(microsecond=0)
            )
    except AccountError as exc:
        raise UserError(f"naebu users: {exc}") from None
    finally:
        engine.dispose()
    click.echo(f"account {employee_id} {'created' if created else 'updated'}")


@users.command("disable")
@click.argument("employee_id")
@with_config
def disable(config: Config, employee_id: str) -> None:
    """Disable the account of EMPLOYEE_ID and end its sessions."""
    from naebu.inbox.auth import AccountError, disable_account

    engine = store.connect(config.store_url)
    try:
        with engine.begin() as conn:
            disable_account(conn, employee_id, now=datetime.now().replace(microsecond=0))
    except AccountError as exc:
        raise UserError(f"naebu users: {exc}") from None
    finally:
        engine.dispose()
    click.echo(f"account {employee_id} disabled")


@users.command("list")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@with_config
def list_users(config: Config, fmt: str) -> None:
    """Every account: employee id, name, department, role, state."""
    from naebu.inbox.auth import list_accounts

    engine = store.connect(config.store_url)
    try:
        with engine.connect() as conn:
            rows = list_accounts(conn)
    finally:
        engine.dispose()
    if fmt == "json":
        click.echo(json.dumps(rows, ensure_ascii=False, default=str, indent=2))
        return
    for r in rows:
        state = (
            "disabled" if r["disabled"] else ("inactive official" if not r["active"] else "active")
        )
        click.echo(
            f"{r['employee_id']}\t{r['name'] or '-'}\t{r['department'] or '-'}\t"
            f"{r['role'] or '-'}\t{state}"
        )
