"""Rule-change auditing (규칙 변경 감사): every rule and reference list that runs is recorded.

The people an internal control watches may also be able to edit its rule files: raise a
threshold, disable a rule, take a vendor off a watch list. So before every run (``naebu run
--once`` and every daemon run, after its hot reload) :func:`record` compares the rules about
to run with the versions the store last saw, in the ``rule_versions`` table (rule id, file,
sha256 of the rule's TOML table, the table itself, first and last seen, retired):

- a rule or list seen for the first time, edited, disabled, enabled again, moved to another
  file or removed gets a new version row (the previous one is retired) and an entry in the
  tamper-evident audit trail (action ``rule_change``, actor ``system``) holding the old and new
  hashes and every changed key with its old and new value;
- the trail entry is told to the audit office in its next follow-up digest (as suppressions
  are: :mod:`naebu.alerts.escalation`), so a change nobody announced is seen by someone who did not
  make it;
- the very first run of a store records the rules as a baseline: one ``rule_baseline`` trail
  entry with every hash, and no notice (nothing changed yet).

A rule is hashed from its table in the rule file as TOML reads it, so formatting and comments
do not count, while any change of meaning does (a parameter, the condition, the severity, the
message). A rule the daemon keeps running in its last good version (its file has a mistake) is
left as it was: what is recorded is what runs. Nothing here is ever executed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import tomllib
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update

from naebu.alerts.trail import SYSTEM, Step, append
from naebu.core.jsonsafe import json_safe
from naebu.engine.loader import RuleSet
from naebu.store.tables import rule_versions

log = logging.getLogger(__name__)

#: Changed values longer than this are cut in the trail entry (the full tables are stored).
_VALUE_CHARS = 300


@dataclass(frozen=True)
class Version:
    """One rule or reference list as it is now."""

    #: The rule id, or ``list:NAME``.
    rule_id: str
    file: str
    content: dict[str, Any]

    @property
    def content_hash(self) -> str:
        """sha256 of the content's canonical JSON."""
        return content_hash(self.content)


@dataclass
class Change:
    """A difference between the versions that ran last and the ones about to run."""

    rule_id: str
    #: ``added``, ``edited``, ``disabled``, ``enabled``, ``moved`` or ``removed``.
    kind: str
    file: str
    old_hash: str | None
    new_hash: str | None
    #: Changed keys (``params.max_amount``) -> [old, new].
    changes: dict[str, list[Any]] = field(default_factory=dict)

    def comment(self) -> str:
        """One line for the trail, Korean then English."""
        what = ", ".join(
            f"{k}: {_short(v[0])} → {_short(v[1])}" for k, v in list(self.changes.items())[:5]
        )
        if len(self.changes) > 5:
            what += f" 외 {len(self.changes) - 5}건"
        ko = _KO[self.kind]
        text = f"규칙 {self.rule_id} {ko} ({self.kind}) - {self.file}"
        return f"{text}: {what}" if what else text


_KO = {
    "added": "추가",
    "edited": "수정",
    "disabled": "비활성화",
    "enabled": "활성화",
    "moved": "파일 이동",
    "removed": "삭제",
}


def content_hash(content: Mapping[str, Any]) -> str:
    """sha256 (hex) of ``content`` as canonical JSON (sorted keys, dates as ISO text)."""
    text = json.dumps(
        content, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _shown(path: Path, root: Path | None) -> str:
    # As the rule loader names files (relative to the config's folder), so both agree.
    base = root or Path.cwd()
    try:
        return str(path.resolve().relative_to(base.resolve()))
    except ValueError:
        return str(path)


def current_versions(
    ruleset: RuleSet, *, root: Path | None = None, skip: Collection[str] = ()
) -> dict[str, Version]:
    """The versions of the rules and lists in ``ruleset``, read back from their files.

    Rules in ``skip`` (running in their last good version) and rules whose table cannot be
    read back (their file broke after they were loaded) are left out: they count as unchanged.
    """
    tables: dict[tuple[str, str], dict[str, Any]] = {}
    by_id: dict[str, tuple[str, dict[str, Any]]] = {}
    for path in ruleset.files:
        shown = _shown(path, root)
        try:
            doc = tomllib.loads(path.read_text(encoding="utf-8").removeprefix("\ufeff"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError, ValueError):
            continue  # the loader has reported it (engine/loader.py): never stop the run here
        specs = doc.get("rule", [])
        for spec in specs if isinstance(specs, list) else []:
            if isinstance(spec, dict) and isinstance(spec.get("id"), str):
                tables[(shown, spec["id"])] = spec
                by_id.setdefault(spec["id"], (shown, spec))
    found: dict[str, Version] = {}
    for rule in ruleset.rules:
        rule_id = rule.meta.id
        if rule_id in skip:
            continue
        file = str(rule.meta.file)
        spec = tables.get((file, rule_id))
        if spec is None and rule_id in by_id:
            file, spec = by_id[rule_id]
        if spec is None:
            continue
        found[rule_id] = Version(rule_id, file, json_safe(_with_params_in_force(spec, rule.meta)))
    for ref in ruleset.lists.values():
        content = {
            "name": ref.name,
            "items": list(ref.items),
            "title": ref.title,
            "description": ref.description,
            "basis": ref.basis,
        }
        found[f"list:{ref.name}"] = Version(f"list:{ref.name}", str(ref.file), json_safe(content))
    return found


def _with_params_in_force(spec: dict[str, Any], meta: Any) -> dict[str, Any]:
    """The rule's table, plus the parameters it runs with that its table does not hold: the
    file's shared ``[params]`` it reads and its ``by_government`` values for the configured city
    (engine/params.py). Editing those, or the city's government type, changes what runs, so it
    is a change; a rule with neither hashes as its table alone."""
    own = spec.get("params")
    own = own if isinstance(own, dict) else {}
    extra = {k: v for k, v in meta.params.items() if k not in own}
    return {**spec, "params_in_force": extra} if extra else spec


def diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, list[Any]]:
    """Changed keys -> [old, new]; the keys of ``params`` (and other tables) one by one."""
    out: dict[str, list[Any]] = {}
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if a == b:
            continue
        if isinstance(a, dict) and isinstance(b, dict):
            for sub, values in diff(a, b).items():
                out[f"{key}.{sub}"] = values
        else:
            out[key] = [_cut(a), _cut(b)]
    return out


def _cut(value: Any) -> Any:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return value if len(text) <= _VALUE_CHARS else text[:_VALUE_CHARS] + "…"


def _short(value: Any) -> str:
    text = "(없음)" if value is None else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def _kind(old: Mapping[str, Any], new: Mapping[str, Any], old_file: str, new_file: str) -> str:
    was, now = old.get("enabled", True), new.get("enabled", True)
    if was and not now:
        return "disabled"
    if now and not was:
        return "enabled"
    if old == new and old_file != new_file:
        return "moved"
    return "edited"


def changes(conn: Connection, versions: Mapping[str, Version]) -> tuple[list[Change], bool]:
    """The changes from the stored current versions to ``versions``; and whether the store
    had no version at all yet (a baseline)."""
    t = rule_versions.c
    stored = {
        r.rule_id: r
        for r in conn.execute(
            select(t.rule_id, t.file, t.content_hash, t.content).where(t.retired_at.is_(None))
        )
    }
    baseline = not stored and conn.execute(select(t.id).limit(1)).first() is None
    found: list[Change] = []
    for rule_id in sorted(set(stored) | set(versions)):
        old, new = stored.get(rule_id), versions.get(rule_id)
        if new is None:
            assert old is not None
            found.append(Change(rule_id, "removed", old.file, old.content_hash, None))
        elif old is None:
            found.append(Change(rule_id, "added", new.file, None, new.content_hash))
        elif old.content_hash != new.content_hash or old.file != new.file:
            kind = _kind(old.content or {}, new.content, old.file, new.file)
            delta = diff(old.content or {}, new.content)
            if old.file != new.file:
                delta["file"] = [old.file, new.file]
            found.append(Change(rule_id, kind, new.file, old.content_hash, new.content_hash, delta))
    return found, baseline


def record(
    engine: Engine,
    ruleset: RuleSet,
    *,
    now: datetime,
    root: Path | None = None,
    skip: Collection[str] = (),
) -> list[Change]:
    """Record the versions of the rules about to run; audit every change. Commits.

    ``skip``: rules the daemon keeps running in their last good version. Returns the changes
    (empty on the first run of a store, which records a baseline instead).
    """
    versions = current_versions(ruleset, root=root, skip=skip)
    # Rules skipped, or not read back, keep their stored version: never "removed".
    keep = set(skip) | {r.meta.id for r in ruleset.rules} - set(versions)
    t = rule_versions.c
    with engine.begin() as conn:
        found, baseline = changes(conn, versions)
        found = [c for c in found if not (c.kind == "removed" and c.rule_id in keep)]
        changed = {c.rule_id for c in found}
        for c in found:
            conn.execute(
                update(rule_versions)
                .where(t.rule_id == c.rule_id, t.retired_at.is_(None))
                .values(retired_at=now)
            )
        new_rows = [
            {
                "rule_id": v.rule_id,
                "file": v.file,
                "content_hash": v.content_hash,
                "content": v.content,
                "first_seen": now,
                "last_seen": now,
            }
            for v in versions.values()
            if v.rule_id in changed or baseline
        ]
        if new_rows:
            conn.execute(insert(rule_versions), new_rows)
        same = sorted(set(versions) - changed)
        if same and not baseline:
            conn.execute(
                update(rule_versions)
                .where(t.rule_id.in_(same), t.retired_at.is_(None))
                .values(last_seen=now)
            )
        if baseline:
            if versions:
                append(conn, [_baseline_step(versions, now)])
            return []
        append(conn, [_step(c, now) for c in found])
    for c in found:
        log.warning("rule change: %s", c.comment())
    return found


def _step(change: Change, now: datetime) -> Step:
    return Step(
        actor=SYSTEM,
        action="rule_change",
        at=now,
        comment=change.comment(),
        details={
            "rule_id": change.rule_id,
            "change": change.kind,
            "file": change.file,
            "old_hash": change.old_hash,
            "new_hash": change.new_hash,
            "changes": change.changes,
        },
    )


def _baseline_step(versions: Mapping[str, Version], now: datetime) -> Step:
    return Step(
        actor=SYSTEM,
        action="rule_baseline",
        at=now,
        comment=f"규칙 기준 버전 기록: {len(versions)}개 (rule baseline recorded)",
        details={
            "rules": {
                k: {"file": v.file, "hash": v.content_hash} for k, v in sorted(versions.items())
            }
        },
    )


def history(conn: Connection, rule_id: str) -> list[dict[str, Any]]:
    """Every stored version of ``rule_id`` (or ``list:NAME``), oldest first."""
    t = rule_versions.c
    rows = conn.execute(select(rule_versions).where(t.rule_id == rule_id).order_by(t.id))
    return [dict(r._mapping) for r in rows]
