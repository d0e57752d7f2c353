"""Rule governance (규칙 변경 승인): a rule change goes draft -> simulate -> approve -> live.

A compliance official edits a copy of a rule file (or folder) outside the rule folders and
proposes it as a draft of what it replaces (``naebu rules propose COPY --replaces
rules/cards/business_card.toml --as EMPLOYEE -m WHY``). The store keeps the files as
proposed with their sha256, and the rules they change (each rule's old and new version hash,
as :mod:`naebu.rulechanges` hashes them). ``naebu rules simulate`` replays the draft over the
store's history against the rules in force (:mod:`naebu.rule_simulation`); ``naebu rules
approve`` (a 감사자 only, never the proposer, and only a simulated draft) installs the files
in the rule folder.

With ``[rules] require_approval`` (by default on when the officials directory has a 감사자),
the daemon runs a rule only in a version that ran before (the store's current rule versions)
or that an approved draft brings (:func:`gate`); an edit made in the rule folder without a
draft is held back and reported. The first time the daemon runs an approved draft's versions
the draft becomes ``live`` (:func:`mark_loaded`). Proposal, simulation, approval and load are
each an entry of the chained audit trail with who and why; ``naebu audit verify`` checks the
drafts table against them (alerts/trail.py).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update

from naebu import rulechanges
from naebu.alerts.directory import Directory
from naebu.alerts.roles import ROLE_AUDITOR
from naebu.alerts.trail import SYSTEM, Step, append
from naebu.engine.examples import run_examples
from naebu.engine.loader import RuleSet, load_rules
from naebu.engine.registry import RuleType
from naebu.settings.config import Config
from naebu.store.tables import officials, rule_drafts, rule_versions

#: Statuses of a draft whose versions may run.
APPROVED = ("approved", "live")


class DraftError(Exception):
    """A refused step on a draft, in Korean and English (one line, no traceback)."""

    def __init__(self, ko: str, en: str) -> None:
        self.ko, self.en = ko, en
        super().__init__(f"{ko} ({en})")


@dataclass(frozen=True)
class Draft:
    """One stored draft."""

    id: int
    target: str
    files: dict[str, str]
    content_hash: str
    rules: dict[str, dict[str, str | None]]
    status: str
    proposed_by: str
    reason: str
    simulation: dict[str, Any] | None
    approved_by: str | None

    @property
    def folder(self) -> bool:
        """Whether the draft replaces a whole folder (its target ends with ``/``)."""
        return self.target.endswith("/")


def files_hash(files: Mapping[str, str]) -> str:
    """sha256 (hex) of the files (path -> text) as canonical JSON."""
    text = json.dumps(dict(files), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _relative(config: Config, path: Path) -> str | None:
    """``path`` relative to the config's folder when it lies in a rule folder, else None."""
    path = path.resolve()
    for root in config.rule_paths:
        if path == root or root in path.parents:
            try:
                return path.relative_to(config.base_dir.resolve()).as_posix()
            except ValueError:
                return None
    return None


def read_draft_files(config: Config, path: Path, replaces: str) -> tuple[str, dict[str, str]]:
    """The target (relative to the config's folder; a folder ends with ``/``) and the files
    of the draft at ``path`` as they will be installed there."""
    if not path.exists():
        raise DraftError(f"{path}이(가) 없습니다", f"{path} does not exist")
    if _relative(config, path) is not None:
        raise DraftError(
            f"{path}은(는) 규칙 폴더 안에 있습니다: 사본을 고쳐 제안하십시오",
            f"{path} is inside the rule folders, which hold only approved versions: copy it "
            "elsewhere, edit the copy and propose it with --replaces",
        )
    target_path = Path(replaces)
    if not target_path.is_absolute():
        target_path = config.base_dir / target_path
    target = _relative(config, target_path)
    if target is None:
        raise DraftError(
            f"{replaces}은(는) 규칙 폴더 안이 아닙니다",
            f"--replaces {replaces} is not in the rule folders ({', '.join(map(str, config.rule_paths))})",
        )
    sources = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    files: dict[str, str] = {}
    for source in sources:
        if any(part.startswith(".") for part in source.relative_to(path.parent).parts):
            continue  # an editor's swap or backup file is no part of the draft
        try:
            text = source.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise DraftError(
                f"{source}을(를) 읽을 수 없습니다", f"cannot read {source} as UTF-8 text: {exc}"
            ) from None
        name = target if path.is_file() else f"{target}/{source.relative_to(path).as_posix()}"
        files[name] = text
    if not files:
        raise DraftError(f"{path}에 파일이 없습니다", f"{path} holds no file")
    return (target if path.is_file() else target.rstrip("/") + "/"), files


def in_force(config: Config) -> RuleSet:
    """The rules in the rule folders now."""
    return load_rules(config.rule_paths, root=config.base_dir, government=config.city)


@contextmanager
def overlaid(
    config: Config, target: str, files: Mapping[str, str]
) -> Iterator[tuple[RuleSet, Path]]:
    """The rule folders with the draft installed, in a temporary copy, loaded (files named
    as in the real folders), and the copy's folder. Any problem of the loaded rules is a :class:`DraftError`."""
    base = config.base_dir.resolve()
    with tempfile.TemporaryDirectory(prefix="naebu-draft-") as tmp:
        root = Path(tmp)
        paths = []
        for rule_path in config.rule_paths:
            rel = rule_path.resolve().relative_to(base)
            copy = root / rel
            copy.parent.mkdir(parents=True, exist_ok=True)
            if rule_path.is_dir():
                shutil.copytree(rule_path, copy)
            elif rule_path.exists():
                shutil.copy2(rule_path, copy)
            paths.append(copy)
        if target.endswith("/"):
            shutil.rmtree(root / target, ignore_errors=True)
        for name, text in files.items():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_text(text, encoding="utf-8")
        ruleset = load_rules(paths, root=root, government=config.city)
        if ruleset.problems:
            shown = "; ".join(str(p) for p in ruleset.problems[:5])
            raise DraftError(
                f"변경안의 규칙에 문제가 {len(ruleset.problems)}건 있습니다: {shown}",
                f"the draft's rules have {len(ruleset.problems)} problem(s): {shown}",
            )
        yield ruleset, root


def version_hashes(ruleset: RuleSet, root: Path) -> dict[str, str]:
    """Rule id (or ``list:NAME``) -> the hash :mod:`naebu.rulechanges` records for it."""
    return {k: v.content_hash for k, v in rulechanges.current_versions(ruleset, root=root).items()}


def changed_rules(
    before: Mapping[str, str], after: Mapping[str, str]
) -> dict[str, dict[str, str | None]]:
    """Rule id -> old and new hash, for every rule whose version differs."""
    return {
        k: {"old": before.get(k), "new": after.get(k)}
        for k in sorted(set(before) | set(after))
        if before.get(k) != after.get(k)
    }


def _check_examples(rules: list[RuleType]) -> None:
    """The changed rules' examples must behave: the daemon would not run a rule whose
    examples fail (naebu/daemon/rules.py), approved or not."""
    failing = [
        p
        for p in run_examples(rules)
        if p.key and p.key.removeprefix("fallback.").startswith("example[")
    ]
    if failing:
        shown = "; ".join(str(p) for p in failing[:3])
        raise DraftError(
            f"변경안의 규칙 예시 {len(failing)}건이 맞지 않습니다: {shown}",
            f"{len(failing)} example(s) of the draft's rules fail: {shown} - move the "
            "examples with the change",
        )


def check_actor(directory: Directory, actor: str) -> None:
    """:class:`DraftError` unless ``actor`` is an active official of ``directory``."""
    official = directory.get(actor)
    if official is None or not official.active:
        raise DraftError(
            f"직원 {actor}은(는) 담당자 명부에 없거나 재직 중이 아닙니다",
            f"employee {actor} is not an active official of the directory",
        )


def propose(
    engine: Engine,
    config: Config,
    path: Path,
    replaces: str,
    *,
    actor: str,
    reason: str,
    now: datetime,
    directory: Directory,
) -> Draft:
    """Store the draft at ``path`` (replacing ``replaces``); one trail entry. Commits."""
    check_actor(directory, actor)
    if not reason.strip():
        raise DraftError("변경 사유를 적어야 합니다 (-m)", "say why with -m")
    target, files = read_draft_files(config, path, replaces)
    before = version_hashes(in_force(config), config.base_dir)
    with overlaid(config, target, files) as (ruleset, root):
        after = version_hashes(ruleset, root)
        rules = changed_rules(before, after)
        _check_examples([r for r in ruleset.rules if r.meta.id in rules])
    if not rules:
        raise DraftError(
            "변경안이 규칙을 바꾸지 않습니다", "the draft changes no rule or list in force"
        )
    digest = files_hash(files)
    with engine.begin() as conn:
        inserted = conn.execute(
            insert(rule_drafts).values(
                target=target,
                files=files,
                content_hash=digest,
                rules=rules,
                status="draft",
                proposed_by=actor,
                proposed_at=now,
                reason=reason.strip(),
            )
        ).inserted_primary_key
        assert inserted is not None
        draft_id = int(inserted[0])
        append(
            conn,
            [
                Step(
                    actor=actor,
                    action="rule_propose",
                    at=now,
                    comment=reason.strip(),
                    details={
                        "draft": int(draft_id),
                        "target": target,
                        "content_hash": digest,
                        "rules": rules,
                    },
                )
            ],
        )
        return get(conn, int(draft_id))


def get(conn: Connection, draft_id: int) -> Draft:
    """Draft ``draft_id``; :class:`DraftError` when there is none."""
    row = conn.execute(select(rule_drafts).where(rule_drafts.c.id == draft_id)).first()
    if row is None:
        raise DraftError(f"규칙 변경안 #{draft_id}이(가) 없습니다", f"no rule draft #{draft_id}")
    return Draft(
        id=int(row.id),
        target=str(row.target),
        files=dict(row.files),
        content_hash=str(row.content_hash),
        rules=dict(row.rules),
        status=str(row.status),
        proposed_by=str(row.proposed_by),
        reason=str(row.reason),
        simulation=row.simulation,
        approved_by=row.approved_by,
    )


def all_drafts(conn: Connection) -> list[Draft]:
    """Every draft, newest first."""
    ids = conn.execute(select(rule_drafts.c.id).order_by(rule_drafts.c.id.desc())).scalars()
    return [get(conn, int(i)) for i in ids]


def attach_simulation(
    engine: Engine, draft: Draft, result: dict[str, Any], *, actor: str, now: datetime
) -> int:
    """Keep ``result`` (naebu.rule_simulation) with the draft; one trail entry; its number."""
    with engine.begin() as conn:
        conn.execute(
            update(rule_drafts)
            .where(rule_drafts.c.id == draft.id)
            .values(simulation=result, simulated_at=now)
        )
        (seq,) = append(
            conn,
            [
                Step(
                    actor=actor,
                    action="rule_simulate",
                    at=now,
                    comment=f"규칙 변경안 #{draft.id} 모의 적용 (simulated)",
                    details={
                        "draft": draft.id,
                        "content_hash": draft.content_hash,
                        "summary": result.get("summary"),
                    },
                )
            ],
        )
    return seq


def approve(
    engine: Engine,
    config: Config,
    draft_id: int,
    *,
    actor: str,
    reason: str,
    now: datetime,
    directory: Directory,
) -> Draft:
    """Approve draft ``draft_id`` as 감사자 ``actor`` and install its files in the rule
    folder; one trail entry holding the simulation's summary. Commits."""
    with engine.connect() as conn:
        draft = get(conn, draft_id)
    check_actor(directory, actor)
    official = directory.get(actor)
    assert official is not None
    if not directory.is_auditor(official):
        raise DraftError(
            "규칙 변경은 감사자만 승인할 수 있습니다",
            f"only an auditor (감사자) may approve a rule change; {actor} is {official.role or '-'}",
        )
    if actor == draft.proposed_by:
        raise DraftError(
            f"자신이 제안한 규칙 변경안 #{draft_id}은(는) 승인할 수 없습니다",
            f"nobody approves their own proposal: {actor} proposed draft #{draft_id}",
        )
    if draft.status != "draft":
        raise DraftError(
            f"규칙 변경안 #{draft_id}은(는) 이미 처리되었습니다 ({draft.status})",
            f"draft #{draft_id} is {draft.status}, not a draft",
        )
    if not draft.simulation:
        raise DraftError(
            f"규칙 변경안 #{draft_id}을(를) 먼저 모의 적용하십시오",
            f"simulate draft #{draft_id} first: naebu rules simulate {draft_id}",
        )
    if not reason.strip():
        raise DraftError("승인 사유를 적어야 합니다 (-m)", "say why with -m")
    now_in_force = version_hashes(in_force(config), config.base_dir)
    moved = [k for k, v in draft.rules.items() if now_in_force.get(k) != v["old"]]
    if moved:
        raise DraftError(
            f"모의 적용 뒤 규칙 폴더가 바뀌었습니다 ({', '.join(moved)})",
            f"the rules in force changed since the draft was made ({', '.join(moved)}): "
            "propose it again",
        )
    with engine.begin() as conn:
        changed = conn.execute(
            update(rule_drafts)
            .where(rule_drafts.c.id == draft_id, rule_drafts.c.status == "draft")
            .values(
                status="approved",
                approved_by=actor,
                approved_at=now,
                approval_reason=reason.strip(),
            )
        ).rowcount
        if not changed:
            raise DraftError(
                f"규칙 변경안 #{draft_id}이(가) 방금 처리되었습니다",
                f"draft #{draft_id} was changed by someone else meanwhile",
            )
        append(
            conn,
            [
                Step(
                    actor=actor,
                    action="rule_approve",
                    at=now,
                    comment=reason.strip(),
                    details={
                        "draft": draft_id,
                        "content_hash": draft.content_hash,
                        "rules": draft.rules,
                        "simulation": (draft.simulation or {}).get("summary"),
                    },
                )
            ],
        )
        _install(config, draft)
        return get(conn, draft_id)


def _install(config: Config, draft: Draft) -> None:
    """Write the draft's files into the rule folder (a folder draft replaces the folder)."""
    base = config.base_dir
    if draft.folder:
        folder = base / draft.target
        keep = {(base / name).resolve() for name in draft.files}
        for old in folder.rglob("*") if folder.is_dir() else []:
            if old.is_file() and old.resolve() not in keep:
                old.unlink()
    for name, text in draft.files.items():
        path = base / name
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".naebu-new")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)  # in one step: the daemon never reads a half-written file


def required(config: Config, conn: Connection) -> bool:
    """Whether the daemon runs approved versions only: ``[rules] require_approval``, by
    default when the officials directory (as last stored) has an active 감사자."""
    if config.require_approval is not None:
        return config.require_approval
    t = officials.c
    found = conn.execute(
        select(t.employee_id).where(t.role == ROLE_AUDITOR, t.active.is_(True)).limit(1)
    ).first()
    return found is not None


def approved_versions(conn: Connection) -> dict[str, set[str]] | None:
    """Rule id -> the version hashes that may run: those that ran last (the store's current
    rule versions) and those of approved drafts. None before the store's first run (every
    rule then is the baseline)."""
    t = rule_versions.c
    current = conn.execute(
        select(t.rule_id, t.content_hash).where(t.retired_at.is_(None))
    ).fetchall()
    if not current and conn.execute(select(t.id).limit(1)).first() is None:
        return None
    allowed: dict[str, set[str]] = {}
    for row in current:
        allowed.setdefault(str(row.rule_id), set()).add(str(row.content_hash))
    for rules in conn.execute(
        select(rule_drafts.c.rules).where(rule_drafts.c.status.in_(APPROVED))
    ).scalars():
        for rule_id, v in (rules or {}).items():
            if v.get("new"):
                allowed.setdefault(rule_id, set()).add(str(v["new"]))
    return allowed


def mark_loaded(engine: Engine, loaded: Mapping[str, str], *, now: datetime) -> list[int]:
    """Approved drafts whose every version now runs (``loaded``: rule id -> hash) become
    ``live``, each with a trail entry; their ids."""
    done: list[int] = []
    with engine.begin() as conn:
        rows = conn.execute(
            select(rule_drafts.c.id, rule_drafts.c.rules, rule_drafts.c.content_hash).where(
                rule_drafts.c.status == "approved"
            )
        ).fetchall()
        for row in rows:
            rules = row.rules or {}
            if not all(loaded.get(k) == v.get("new") for k, v in rules.items()):
                continue
            conn.execute(
                update(rule_drafts)
                .where(rule_drafts.c.id == row.id)
                .values(status="live", loaded_at=now)
            )
            append(
                conn,
                [
                    Step(
                        actor=SYSTEM,
                        action="rule_load",
                        at=now,
                        comment=f"승인된 규칙 변경안 #{row.id} 적용 (loaded by the daemon)",
                        details={
                            "draft": int(row.id),
                            "content_hash": row.content_hash,
                            "rules": {k: v.get("new") for k, v in rules.items()},
                        },
                    )
                ],
            )
            done.append(int(row.id))
    return done
