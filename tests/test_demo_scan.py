"""A scan of everything officials read after a whole demo run: the digests, the follow-up
notices (reminders, escalations, review requests), ``naebu alerts show`` of every alert and
the export. None may show a canonical column or dataset name, an amount without separators,
or ``None``/``nan``/``NaT`` (issue 18, "Done when" 3).

One demo serves every test (module fixture): ``naebu demo``, ``naebu run --once``, an
official's answer, then ``naebu run --once --now`` on the last deadline's morning (reminders,
escalations to managers) and ten weeks on (every open alert reported to the audit office).
"""

from __future__ import annotations

import csv
import json
import re
import shutil
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from conftest import ROOT, run_cli
from sqlalchemy import func, select

from naebu.alerts.officials import directory_from_store
from naebu.core.datasets import DATASETS
from naebu.store import tables as store

#: Canonical names: every column of every dataset, and the datasets' own names.
NAMES = sorted(
    {c.name for d in DATASETS.values() for c in d.columns} | set(DATASETS), key=len, reverse=True
)
NAME = re.compile(r"(?<![A-Za-z0-9_])(" + "|".join(map(re.escape, NAMES)) + r")(?![A-Za-z0-9_])")
MISSING = re.compile(r"(?<![A-Za-z])(None|nan|NaN|NaT)(?![A-Za-z])")
#: An amount of 5 digits or more without separators: before 원, or after KRW.
RAW_MONEY = re.compile(r"(?<![\d,.])\d{5,}(\.\d+)?\s*원|KRW \d{5,}")
MONEY_LABELS = tuple(
    sorted({c.label for d in DATASETS.values() for c in d.columns if c.kind == "money"})
)


@dataclass
class Demo:
    """The demo city after its runs: its folder, the digests and the notices sent."""

    folder: Path
    digests: list[dict[str, str]]
    notices: list[dict[str, str]]


def _outbox(folder: Path) -> list[dict[str, str]]:
    return [json.loads(line) for line in (folder / "var" / "outbox.jsonl").open()]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    folder = tmp_path_factory.mktemp("demo-scan")
    shutil.copy(ROOT / "config.toml", folder / "config.toml")
    shutil.copytree(ROOT / "rules", folder / "rules")
    made = run_cli("demo", "--out", str(folder / "demo-city"), "--scale", "0.3", cwd=folder)
    assert made.returncode == 0, made.stderr
    ran = run_cli("run", "--once", cwd=folder)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    digests = _outbox(folder)
    # an answer, so the auditors get a review request in the follow-ups
    engine = store.connect(f"sqlite:///{folder / 'var' / 'naebu.sqlite'}")
    try:
        with engine.connect() as conn:
            a = store.alerts.c
            first = conn.execute(select(a.id, a.assignee).order_by(a.id).limit(1)).one()
            last_deadline = conn.execute(select(func.max(a.deadline))).scalar_one()
    finally:
        engine.dispose()
    answered = run_cli(
        "alerts", "explain", str(first.id), "--as", first.assignee, "-m", "정상 지급", cwd=folder
    )
    assert answered.returncode == 0, answered.stdout + answered.stderr
    if "awaiting the department manager's approval" in answered.stdout:
        # 조치 -> 승인 (issue 22): the department manager approves it on to the audit office
        # (who is told in the same follow-ups as the manager was).
        manager = _manager_of(folder, first.id)
        approved = run_cli("alerts", "approve", str(first.id), "--as", manager, cwd=folder)
        assert approved.returncode == 0, approved.stdout + approved.stderr
    # the morning of the last deadline: its alerts are reminded, the earlier ones overdue;
    # ten weeks on, every open alert is reported to the audit office
    last_day = datetime.fromisoformat(str(last_deadline)).strftime("%Y-%m-%dT09:00")
    later = (datetime.now() + timedelta(days=70)).strftime("%Y-%m-%dT09:00")
    for now in (last_day, later):
        ran = run_cli("run", "--once", "--now", now, cwd=folder)
        assert ran.returncode == 0, ran.stdout + ran.stderr
    notices = _outbox(folder)[len(digests) :]
    assert digests and notices, (len(digests), len(notices))
    engine = store.connect(f"sqlite:///{folder / 'var' / 'naebu.sqlite'}")
    try:
        with engine.connect() as conn:
            kinds = set(conn.execute(select(store.deliveries.c.kind).distinct()).scalars())
    finally:
        engine.dispose()
    assert {"remind", "escalate_manager", "escalate_audit", "answered"} <= kinds, kinds
    return Demo(folder, digests, notices)


def _manager_of(folder: Path, alert_id: int) -> str:
    """An active 부서관리자 of the alert's department."""
    engine = store.connect(f"sqlite:///{folder / 'var' / 'naebu.sqlite'}")
    try:
        with engine.connect() as conn:
            department = conn.execute(
                select(store.alerts.c.department).where(store.alerts.c.id == alert_id)
            ).scalar_one()
            directory = directory_from_store(conn)
        return next(o.employee_id for o in directory.managers(department))
    finally:
        engine.dispose()


def _problems(texts: list[str], checks: tuple[str, ...] = ("name", "missing", "money")) -> list:
    """``(what, found, line)`` for each line of ``texts`` that breaks a check."""
    rules = {"name": NAME, "missing": MISSING, "money": RAW_MONEY}
    found = []
    for text in texts:
        for line in text.splitlines():
            for check in checks:
                m = rules[check].search(line)
                if m:
                    found.append((check, m.group(0), line.strip()))
    return found


def _mails(messages: list[dict[str, str]]) -> list[str]:
    return [f"{m.get('subject', '')}\n{m.get('body', '')}" for m in messages]


def _evidence_blocks(body: str) -> list[str]:
    """The evidence lines (``- label: value``) of a digest body."""
    out: list[str] = []
    inside = False
    for line in body.splitlines():
        if line.strip() in ("근거 자료:", "Evidence:"):
            inside = True
            continue
        if inside and line.strip().startswith("- "):
            out.append(line.strip()[2:])
        else:
            inside = False
    return out


def test_the_digests_read_as_plain_korean(demo: Demo) -> None:
    assert _problems(_mails(demo.digests))[:5] == []
    lines = [e for b in demo.digests for e in _evidence_blocks(str(b.get("body", "")))]
    assert len(lines) > 500
    codes = tuple(
        c.label for d in DATASETS.values() for c in d.columns if c.kind in ("code", "person")
    )
    for line in lines:
        label, _, value = line.partition(": ")
        assert not re.search(r"[a-z]+_[a-z]+", line), line
        if not label.endswith(codes):  # identifiers may be all digits (카드 승인번호)
            assert not re.fullmatch(r"-?[\d,]+(\.\d+)?", value), line  # a number, no unit
        if label.endswith(MONEY_LABELS):
            assert value.endswith("원") or value == "없음", line


def test_the_follow_up_notices_have_no_missing_value_or_raw_amount(demo: Demo) -> None:
    subjects = {m["subject"].split(":")[-1].split()[0] for m in demo.notices}
    assert {"기한", "감사부서"} <= subjects, subjects  # the reminders and escalations fired
    assert any("검토 대기" in m["subject"] for m in demo.notices)
    assert _problems(_mails(demo.notices), ("missing", "money"))[:5] == []


def test_the_follow_up_notices_name_no_column_or_dataset(demo: Demo) -> None:
    assert _problems(_mails(demo.notices), ("name",))[:5] == []


def test_alerts_show_of_every_alert_reads_as_plain_korean(demo: Demo) -> None:
    """``naebu alerts show`` of every alert, rendered by the command's own functions (one
    directory and rule pack for all, instead of a process per alert)."""
    from naebu.commands.alerts_show import gather, show_lines
    from naebu.commands.common import rule_metas
    from naebu.commands.directory import stored_directory
    from naebu.settings.config import load_config

    config = load_config(demo.folder / "config.toml")
    metas = rule_metas(config)
    engine = store.connect(config.store_url)
    try:
        directory = stored_directory(config, engine, "naebu alerts")
        with engine.connect() as conn:
            ids = list(conn.execute(select(store.alerts.c.id)).scalars())
            shown = [gather(conn, n) for n in ids]
    finally:
        engine.dispose()
    texts: list[str] = []
    english: list[str] = []
    for item in shown:
        assert item is not None
        meta = metas.get(item["alert"]["rule_id"])
        for language, out in (("ko", texts), ("en", english)):
            lines = show_lines(
                **item, meta=meta, directory=directory, today=datetime.now().date(),
                language=language,
            )  # fmt: skip
            out.append("\n".join(lines))
    assert len(texts) > 100
    assert _problems(texts)[:5] == []
    # a case alert lists its records (once the rule types raise cases: issue 18, Build 1)
    for item, text in zip(shown, texts, strict=True):
        assert item is not None
        listed = item["alert"]["evidence"].get("case.members") or []
        if listed:
            heading = f"  대상 기록 {item['alert']['evidence']['case.count']:,}건:"
            assert heading in text and text.count("\n    - ") >= len(listed), text
    # English: no raw key either (group.count, case.members, snake_case)
    assert not [t for t in english if re.search(r"\b(group|peer|case)\.\w+|[a-z]+_[a-z]+", t)]
    assert _problems(english, ("missing",)) == []
    # officials by name: no assignee, actor or recipient as a bare employee number
    people = [
        line
        for text in texts
        for line in [*text.split("  처리 이력:")[1].splitlines(), *text.splitlines()[4:6]]
    ]
    assert len(people) > 3 * len(texts)
    assert [line for line in people if re.search(r"(?<![\w-])E\d{3,}(?![\w-])", line)][:3] == []


def test_alerts_show_prints_in_both_languages(demo: Demo) -> None:
    """The command itself, as a user runs it."""
    ko = run_cli("alerts", "show", "1", cwd=demo.folder)
    en = run_cli("alerts", "show", "1", "--lang", "en", cwd=demo.folder)
    assert ko.returncode == 0 and en.returncode == 0, ko.stderr + en.stderr
    assert "  근거 자료:" in ko.stdout and "  처리 이력:" in ko.stdout
    assert "  evidence:" in en.stdout and "  audit trail:" in en.stdout


def test_the_export_reads_as_plain_korean(demo: Demo) -> None:
    out = demo.folder / "alerts.csv"
    result = run_cli("export", "--out", str(out), cwd=demo.folder)
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(out.open(encoding="utf-8-sig")))
    assert len(rows) > 100
    # the columns officials read (the others are for tools: ids, the evidence as JSON)
    read = ("title", "message", "deadline_text", "근거", "왜 문제인가", "근거 자료", "대상 기록")
    texts = [row[column] for row in rows for column in read]
    assert _problems(texts)[:5] == []
    for row in rows:  # a case's records, counted as listed
        assert bool(row["대상 기록"]) == bool(row["대상 기록 수"]), row["id"]
        if row["대상 기록"]:
            assert row["대상 기록"].startswith(f"대상 기록 {int(row['대상 기록 수']):,}건\n")
    evidence = [line for row in rows for line in row["근거 자료"].splitlines()]
    assert len(evidence) > 500
    for line in evidence:
        label, _, value = line.partition(": ")
        if label.endswith(MONEY_LABELS):
            assert value.endswith("원") or value == "없음", line
