"""Anchoring the audit trail outside the store (감사 기록 외부 고정).

The hash chain of :mod:`naebu.alerts.trail` shows an edit only to someone who did not recompute
it: an insider who can write the store can rewrite every entry with fresh hashes, move the
head back, or append an entry of their own. Two anchors the store does not hold stop that:

- **the audit key** (감사 기록 서명 키): a secret read from a file or an environment variable
  named in ``[audit]`` (:mod:`naebu.alerts.audit_settings`), never written to the database. With it,
  every entry carries ``mac = HMAC-SHA256(key, "entry" + hash)`` and the head row
  ``HMAC-SHA256(key, "head" + seq + hash)``. Without the key nobody can write an entry (or a
  head) that verifies, so a rewritten chain, a forged append and a head moved back show
  (short of putting back an old head row kept from before, or a whole backup: only heads
  published since catch that).
- **published heads** (공개된 기록 지점): each run appends the head (number and hash) to a
  file outside the store (``[audit] heads_file``) and puts it at the foot of every follow-up
  digest to an auditor, as ``감사 기록 #1234 · 3f2a9c0e5b7d1a44``. A published
  head that is no longer in the chain with the same hash means the chain was rewritten or cut
  back; `naebu audit verify --heads FILE` checks every line of such a file (or of saved mail).

It also keeps the digest of an alert's content (:func:`alert_digest`): each step that raises
an alert or changes it records the digest of what the alert then says (in the entry's
``details["fields"]``), so a message, evidence, assignee or deadline edited in the store
differs from the last digest the chain recorded.

The key is process-wide (:func:`install`): one naebu process writes one store. Commands
install it from the config; library callers that install nothing write unsigned entries.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from naebu.store.tables import alerts as alerts_table

#: The alert columns whose content the trail vouches for (status is checked on its own,
#: against each entry's ``to_status``). What changes on an answer (``answered_at``,
#: ``last_answer``...) is the step itself, recorded by the entry.
ALERT_FIELDS = (
    "fingerprint",
    "rule_id",
    "dataset",
    "record_key",
    "severity",
    "department",
    "assignee",
    "title",
    "message",
    "evidence",
    "evidence_hash",
    "deadline",
    "event_time",
    "created_at",
)
#: The same, as an official reads them in verify's output.
FIELD_NAMES = "message, evidence, assignee, department, deadline, severity, rule, record key"

#: Hex digits of a head in a digest: 64 bits, beyond what an insider can search for a
#: rewritten entry whose hash begins the same.
PUBLISHED_DIGITS = 16
#: A published head in a mail, in the heads file or as pasted: ``#1234 · 3f2a...``, ``#1234 3f2a...``.
_HEAD_RE = re.compile(r"#\s*(\d+)\s*(?:·|:|\s)\s*([0-9a-fA-F]{16,64})\b")


class AnchorError(Exception):
    """A key or heads file that cannot be used: the message says which and why."""


@dataclass(frozen=True)
class Anchor:
    """What this process anchors the trail with: the key (None: entries are not signed)
    and the file heads are published to (None: not written)."""

    key: bytes | None = None
    heads_file: Path | None = None


_installed = Anchor()


def install(anchor: Anchor) -> None:
    """Use ``anchor`` for every entry this process appends from now on."""
    global _installed
    _installed = anchor


def installed() -> Anchor:
    """The anchor in use (no key and no heads file unless :func:`install` was called)."""
    return _installed


# -- the key ----------------------------------------------------------------------------------


def new_key() -> str:
    """A fresh key as written to a key file: 64 hex digits (256 bits)."""
    return secrets.token_hex(32)


def parse_key(text: str, where: str) -> bytes:
    """The key in ``text`` (64 hex digits, spaces and newlines ignored); ``where`` names its
    origin in the error."""
    digits = "".join(text.split())
    if not re.fullmatch(r"[0-9a-fA-F]{64}", digits):
        raise AnchorError(
            f"{where}: not an audit key (expected 64 hex digits); "
            "create one with `naebu audit init-key`"
        )
    return bytes.fromhex(digits)


def read_key_file(path: Path) -> bytes:
    """The key in the file at ``path``; :class:`AnchorError` when missing, unreadable or
    readable by every user of the host (a key anyone can read anchors nothing)."""
    try:
        if path.stat().st_mode & 0o004:
            raise AnchorError(
                f"{path}: the audit key is readable by every user of this host; "
                f"make it readable by naebu's user only (chmod 600 {path})"
            )
        text = path.read_text(encoding="ascii")
    except FileNotFoundError:
        raise AnchorError(
            f"{path}: audit key file not found; create it with `naebu audit init-key`"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise AnchorError(f"{path}: cannot read the audit key ({exc})") from None
    return parse_key(text, str(path))


def write_key_file(path: Path) -> None:
    """Create the key file at ``path`` readable by its owner only (0600); never overwrites."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(new_key() + "\n")


def key_id(key: bytes) -> str:
    """A short name of the key (not the key): shows which key signed, never what it is."""
    return hmac.new(key, b"naebu-audit-key-id", hashlib.sha256).hexdigest()[:8]


def entry_mac(key: bytes, entry_hash: str) -> str:
    """The signature of an entry: it covers the entry's hash, hence the whole chain before."""
    return hmac.new(key, ("entry\x1f" + entry_hash).encode(), hashlib.sha256).hexdigest()


def head_mac(key: bytes, seq: int, head_hash: str) -> str:
    """The signature of the head row: a head moved back to an older entry loses it."""
    return hmac.new(key, f"head\x1f{seq}\x1f{head_hash}".encode(), hashlib.sha256).hexdigest()


def same(a: str | None, b: str) -> bool:
    """Constant-time comparison of a stored signature with the expected one."""
    return a is not None and hmac.compare_digest(str(a), b)


# -- the content of alerts --------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


def alert_digest(values: Sequence[Any]) -> str:
    """sha256 of an alert's :data:`ALERT_FIELDS` values (in that order) as the store
    returns them.

    Computed from a row read back from the store (never from what was about to be written),
    so every database's rounding of times and JSON is already applied.
    """
    text = json.dumps(
        [_plain(v) for v in values],
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


#: The columns :func:`alert_digest` takes, in order, after the alert's id.
DIGEST_COLUMNS = [alerts_table.c.id, *(alerts_table.c[k] for k in ALERT_FIELDS)]


def alert_digests(conn: Connection, alert_ids: Iterable[int]) -> dict[int, str]:
    """Alert id -> :func:`alert_digest` of the alert as it now stands (in ``conn``'s
    transaction), for ``alert_ids``, read 500 at a time."""
    ids = sorted(set(alert_ids))
    found: dict[int, str] = {}
    for i in range(0, len(ids), 500):
        part = ids[i : i + 500]
        for r in conn.execute(select(*DIGEST_COLUMNS).where(alerts_table.c.id.in_(part))):
            found[int(r[0])] = alert_digest(r[1:])
    return found


# -- published heads --------------------------------------------------------------------------


def head_line(seq: int, head_hash: str, language: str = "ko") -> str:
    """The head as printed at the foot of an audit office's digest."""
    label = "감사 기록" if language == "ko" else "audit trail"
    return f"{label} #{seq} · {head_hash[:PUBLISHED_DIGITS]}"


def digest_footer(seq: int, head_hash: str, language: str = "ko") -> str:
    """The lines added to an audit office's follow-up digest: the head, and what it is for."""
    if language == "ko":
        note = (
            "※ 위 번호는 감사 기록의 현재 지점입니다. 메일을 보관해 두시면 "
            "`naebu audit verify --heads`로 기록이 사후에 고쳐지지 않았는지 확인할 수 있습니다."
        )
    else:
        note = (
            "Keep this mail: `naebu audit verify --heads` checks against the head above "
            "that the audit trail was not rewritten afterwards."
        )
    return f"\n{head_line(seq, head_hash, language)}\n{note}\n"


def publish(path: Path, seq: int, head_hash: str, at: datetime) -> bool:
    """Append the head to the heads file at ``path`` unless its last line is that head
    already; True when a line was written. The file is only ever appended to."""
    line = f"{at.isoformat(timespec='seconds')} #{seq} {head_hash}\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    last = _last_line(path)
    if last is not None and last.split(" ", 1)[-1] == line.split(" ", 1)[-1]:
        return False
    with open(path, "a", encoding="utf-8") as f:
        f.write(line)
        f.flush()
        os.fsync(f.fileno())
    return True


def _last_line(path: Path) -> str | None:
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 200))
            tail = f.read().decode("utf-8", "replace")
    except FileNotFoundError:
        return None
    lines = [x for x in tail.splitlines() if x.strip()]
    return lines[-1] + "\n" if lines else None


@dataclass(frozen=True)
class PublishedHead:
    """One head found in a heads file or saved mail: where it was read, its number and the
    (leading digits of the) hash the chain had there."""

    source: str
    line: int
    seq: int
    hash: str


def read_heads(path: Path) -> list[PublishedHead]:
    """Every published head in the text file at ``path`` (a heads file, mails saved as text,
    lines pasted from mails); :class:`AnchorError` when the file cannot be read."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise AnchorError(f"{path}: cannot read the published heads ({exc})") from None
    found = []
    for n, line in enumerate(text.splitlines(), start=1):
        for m in _HEAD_RE.finditer(line):
            found.append(PublishedHead(str(path), n, int(m.group(1)), m.group(2).lower()))
    return found
