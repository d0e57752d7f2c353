"""`naebu audit verify` and `naebu audit init-key`: the audit trail (감사 기록 위변조 검사).

``verify`` recomputes the hash chain; with the audit key (``[audit] key_file`` or ``key_env``)
it checks every signature, and it checks every published head: the heads file (``[audit]
heads_file``) and each ``--heads FILE`` (saved digests of the audit office, or their head
lines). Exit codes: 0 the chain is whole and every alert agrees with it; 1 a problem was found
(each printed on one line, naming the entry or alert) or the key could not be read.

``init-key`` creates the key file (mode 0600, never overwritten) and signs the current head
of the trail, so signing starts there: earlier entries are reported as not signed, later
unsigned ones as forged.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click
from sqlalchemy import Connection, select

from naebu.commands.common import CONFIG_HELP, UserError, install_anchor, with_config
from naebu.core.problems import ProblemsError
from naebu.settings.config import Config, find_config, load_config
from naebu.store import tables as store


@click.group()
def audit() -> None:
    """The audit trail of every alert step (감사 기록)."""


@audit.command("verify")
@click.option(
    "--heads",
    "heads_files",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="a file of published heads (digests of the audit office saved as text, or their "
    "'감사 기록 #N · HASH' lines); repeatable",
)
@with_config
def audit_verify(config: Config, heads_files: tuple[Path, ...]) -> None:
    """Recompute the hash chain and signatures; check published heads and alert contents."""
    from naebu.alerts.anchor import AnchorError, installed, key_id, read_heads
    from naebu.alerts.trail import verify

    anchor = installed()
    files = list(heads_files)
    if anchor.heads_file is not None and anchor.heads_file.exists():
        files.insert(0, anchor.heads_file)
    try:
        heads = [h for f in files for h in read_heads(f)]
    except AnchorError as exc:
        raise UserError(f"naebu audit: {exc}") from None
    engine = store.connect(config.store_url)
    try:
        with engine.connect() as conn:
            result = verify(conn, key=anchor.key, heads=heads)
    finally:
        engine.dispose()
    notes = list(result.notes)
    if anchor.key is None:
        notes.append(
            "no audit key configured ([audit] key_file): without it a rewrite of the whole "
            "chain with recomputed hashes, an entry forged at the end and the head moved back "
            "are not detected (published heads catch a rewrite or a cut up to the newest head)"
        )
    if not heads:
        notes.append(
            "no published heads checked: pass --heads FILE with the audit office's digests "
            "to catch a chain rewritten or cut back up to a head published there"
        )
    for note in notes:
        click.echo(f"note: {note}")
    if not result.ok:
        raise UserError(
            [f"naebu audit: {p}" for p in result.problems]
            + [f"naebu audit: {len(result.problems)} problem(s) in {result.entries} entries"]
        )
    checked = ["the hash chain", "alert statuses and contents", "rule versions and drafts"]
    if anchor.key is not None:
        checked.append(f"{result.signed} signed entries (key {key_id(anchor.key)})")
    if heads:
        checked.append(f"{len({(h.seq, h.hash) for h in heads})} published head(s)")
    click.echo(f"audit trail intact: {result.entries} entries; verified: {', '.join(checked)}")


@audit.command("init-key")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help=CONFIG_HELP)
@click.option(
    "--print",
    "print_only",
    is_flag=True,
    help="print a new key (for [audit] key_env) and write nothing",
)
def audit_init_key(config_path: str | None, print_only: bool) -> None:
    """Create the audit key file (0600) and sign the current head of the audit trail."""
    from naebu.alerts import anchor
    from naebu.alerts.trail import current_head

    if print_only:
        click.echo(anchor.new_key())
        return
    try:
        config = load_config(find_config(config_path))
    except ProblemsError as exc:
        raise UserError(exc.problems) from None
    audit_config = config.audit
    if not audit_config.keyed:
        raise UserError(
            f"{config.path.name}: audit: no key configured - add [audit] "
            'key_file = "/etc/naebu/audit.key" (outside the store\'s host if you can), then '
            "run this again"
        )
    if audit_config.key_file is not None and not audit_config.key_file.exists():
        anchor.write_key_file(audit_config.key_file)
        click.echo(
            f"audit key written to {audit_config.key_file} (readable by its owner only); "
            "keep a copy where the database's administrators cannot read it"
        )
    install_anchor(config)
    key = anchor.installed().key
    assert key is not None
    engine = store.connect(config.store_url)
    try:
        with engine.begin() as conn:
            seq = _sign_head(conn, key)
            head = current_head(conn)
    finally:
        engine.dispose()
    if head is None:
        click.echo(f"audit trail empty: its entries will be signed with key {anchor.key_id(key)}")
    elif seq is None:
        click.echo(f"audit trail already signed with key {anchor.key_id(key)}")
    else:
        click.echo(f"audit trail signed from entry #{seq} with key {anchor.key_id(key)}")
    heads_file = anchor.installed().heads_file
    if head is not None and heads_file is not None:
        anchor.publish(heads_file, *head, at=datetime.now().replace(microsecond=0))


def _sign_head(conn: Connection, key: bytes) -> int | None:
    """Append a signed ``audit_key`` entry unless the newest entry is signed already (with
    this key: another key's signature is an error); its number, or None."""
    from naebu.alerts import anchor
    from naebu.alerts.trail import SYSTEM, Step, append
    from naebu.store.tables import audit_trail

    t = audit_trail.c
    newest = conn.execute(select(t.seq, t.hash, t.mac).order_by(t.seq.desc()).limit(1)).first()
    if newest is None:
        return None  # an empty trail: its first entry will be signed
    if newest.mac is not None:
        if not anchor.same(newest.mac, anchor.entry_mac(key, str(newest.hash))):
            raise UserError(
                f"naebu audit: entry #{newest.seq} is signed with another key than "
                f"{anchor.key_id(key)}: configure the key the trail was signed with"
            )
        return None
    (seq,) = append(
        conn,
        [
            Step(
                SYSTEM,
                "audit_key",
                datetime.now(),
                comment="감사 기록 서명 시작",
                details={
                    "key_id": anchor.key_id(key),
                    "unsigned_before": int(newest.seq),
                },
            )
        ],
    )
    return seq
