"""Rule governance (issue 24): a rule change goes draft -> simulate -> approve -> live.

On the demo city after a month of answers (officials answer some business-card alerts as
findings corrected, some as false positives, one explained, one rejected by the audit
office), a draft that raises the per-person limit and widens the night hours is simulated:
the alerts gained and lost and the precision before and after are checked against counts
this test makes itself from the store's card records and the answers it gave. Then the daemon's
reload: an edit made in place is held back, a non-auditor's approval is refused, the
approved draft runs, and proposal, approval and load are in the audit trail that
``naebu audit verify`` checks.
"""

from __future__ import annotations

import json
import math
import re
import shutil
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import ROOT, run_cli
from sqlalchemy import Engine, select, update

from naebu.alerts.lifecycle import act
from naebu.alerts.officials import directory_from_store
from naebu.cli import main
from naebu.daemon.rules import RuleKeeper
from naebu.pipeline import run_once
from naebu.rule_simulation import wilson
from naebu.settings.config import load_config
from naebu.store import history
from naebu.store import tables as store
from naebu.store.tables import alerts as alerts_table
from naebu.store.tables import audit_trail, rule_drafts

CARDS = "rules/cards/business_card.toml"
OLD_LIMIT = "params = { max_per_person = 40_000, card_kinds"
NEW_LIMIT = "params = { max_per_person = 76_000, card_kinds"
OLD_NIGHT = "params = { night_from = 23, night_until = 6, card_kinds"
NEW_NIGHT = "params = { night_from = 22, night_until = 6, card_kinds"
T0 = datetime(2026, 3, 2, 9, 0)
#: The rule examples the change moves across its thresholds, moved with it (an edit whose
#: examples fail would not run): the record and its amount or time, old -> new.
EXAMPLES = (
    (
        '"A-2", payment_method = "카드", card_kind = "업무추진비", approved_date = "2025-03-12", '
        'approved_time = "22:59"',
        "22:59",
        "21:59",
    ),
    (
        '"A-9", payment_method = "카드", card_kind = "업무추진비", approved_date = "2025-03-12", '
        "amount = 250_000",
        "250_000",
        "400_000",
    ),
    (
        '"A-9c", payment_method = "카드", card_kind = "업무추진비", approved_date = "2025-03-12", '
        "amount = 130_000",
        "130_000",
        "250_000",
    ),
    (
        '"A-9d", payment_method = "카드", card_kind = "업무추진비", approved_date = "2025-03-12", '
        "amount = 600_000",
        "600_000",
        "1_000_000",
    ),
    (
        '"A-35", payment_method = "카드", approved_date = "2025-03-12", amount = 250_000',
        "250_000",
        "400_000",
    ),
    (
        '"A-32", payment_method = "카드", approved_date = "2025-03-12", approved_time = "22:40"',
        "22:40",
        "21:40",
    ),
)


def _edited(text: str, *, limit: bool = True, night: bool = True) -> str:
    """The card rules with the per-person limit at 76,000 and the night from 22:00."""
    for record, old, new in EXAMPLES:
        timed = "approved_time" in record
        if (timed and night) or (not timed and limit):
            assert text.count(record) == 1, record
            text = text.replace(record, record.replace(old, new))
    if limit:
        text = text.replace(OLD_LIMIT, NEW_LIMIT)
    if night:
        text = text.replace(OLD_NIGHT, NEW_NIGHT)
    return text


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo city, run once with its business-card rules (the rules a change touches
    here; the others would only make the test slow): its records and alerts in the store."""
    folder = tmp_path_factory.mktemp("governed")
    config = (ROOT / "config.toml").read_text(encoding="utf-8")
    assert config.count('paths = ["rules"]\n') == 1
    config = config.replace('paths = ["rules"]\n', 'paths = ["rules/cards"]\n')
    (folder / "config.toml").write_text(config, encoding="utf-8")
    shutil.copytree(ROOT / "rules", folder / "rules")
    assert run_cli("demo", "--scale", "0.2", cwd=folder).returncode == 0
    first = run_cli("run", "--once", cwd=folder)
    assert first.returncode == 0, first.stderr
    return folder


@pytest.fixture
def city(demo_store: Path, tmp_path: Path) -> Iterator[Path]:
    """A copy of the demo city of its own (approvals change its rule folder)."""
    folder = tmp_path / "city"
    shutil.copytree(demo_store, folder)
    yield folder


class _Result:
    def __init__(self, code: int, stdout: str, stderr: str) -> None:
        self.returncode, self.stdout, self.stderr = code, stdout, stderr


def naebu(city: Path, *args: str) -> _Result:
    """``naebu ARGS --config CITY/config.toml`` in this process (a subprocess costs seconds)."""
    result = CliRunner().invoke(main, [*args, "--config", str(city / "config.toml")])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return _Result(result.exit_code, result.stdout, result.stderr)


def _engine(city: Path) -> Engine:
    return store.connect(f"sqlite:///{city / 'var' / 'naebu.sqlite'}")


def _draft_copy(city: Path, tmp_path: Path) -> Path:
    """An edited copy of the card rules, outside the rule folders."""
    text = (city / CARDS).read_text(encoding="utf-8")
    assert text.count(OLD_LIMIT) == 1 and text.count(OLD_NIGHT) == 1
    copy = tmp_path / "drafts" / "business_card.toml"
    copy.parent.mkdir()
    copy.write_text(_edited(text), "utf-8")
    return copy


# -- an independent count ---------------------------------------------------------------------


def _people(text: Any) -> int:
    """Attendees as the demo writes them: ``담당 등 4명`` is 4, ``과장 외 2명`` is 3."""
    if not isinstance(text, str):
        return 0
    counts = [int(n) for n in re.findall(r"(\d+)\s*명", text)]
    return sum(counts) + (1 if counts and "외" in text else 0)


def _cards(city: Path) -> pd.DataFrame:
    engine = _engine(city)
    with engine.connect() as conn:
        frame = history.load(conn, "card_transactions")
    engine.dispose()
    frame = frame[(frame["payment_method"] == "카드") & (frame["card_kind"] == "업무추진비")]
    return frame


def _over(frame: pd.DataFrame, limit: int) -> set[str]:
    people = frame["attendees_text"].map(_people)
    per_head = frame["amount"] / people.where(people > 0)
    return set(frame.loc[per_head > limit, "approval_id"])


def _night(frame: pd.DataFrame, start: int) -> set[str]:
    hours = frame["approved_time"].dt.components["hours"]
    known = frame["approved_time"].notna()
    return set(frame.loc[known & ((hours >= start) | (hours < 6)), "approval_id"])


# -- a month of answers -----------------------------------------------------------------------


def _answer_a_month(city: Path) -> dict[str, dict[str, str | None]]:
    """Answer the card alerts over March: per rule, record key -> the answer that stands."""
    plan: dict[str, list[str | None]] = {
        # the per-person alerts, cheapest per head first
        "CARD-PERPERSON": ["fp+accept", "correct+accept", "explain+accept", "fp+reject", "correct"],
        "CARD-NIGHT": ["correct+accept", "fp+accept", "correct", None, "fp"],
    }
    standing: dict[str, dict[str, str | None]] = {}
    engine = _engine(city)
    frame = _cards(city).set_index("approval_id")
    with engine.begin() as conn:
        directory = directory_from_store(conn)
        t = T0
        for rule_id, answers in plan.items():
            rows = list(conn.execute(select(alerts_table).where(alerts_table.c.rule_id == rule_id)))
            assert len(rows) == len(answers), rule_id
            rows.sort(
                key=lambda r: (
                    frame.loc[r.record_key, "amount"]
                    / max(_people(frame.loc[r.record_key, "attendees_text"]), 1)
                )
            )
            for row, answer in zip(rows, answers, strict=True):
                standing.setdefault(rule_id, {})[row.record_key] = None
                if answer is None:
                    continue
                first, _, review = answer.partition("+")
                action = {"fp": "false_positive", "correct": "correct", "explain": "explain"}
                t += timedelta(days=1)
                act(conn, row.id, action[first], row.assignee, "처리 의견", now=t)
                auditor = directory.audit_office(row.department)[0].employee_id
                if review == "accept":
                    act(conn, row.id, "accept", auditor, now=t + timedelta(hours=2))
                elif review == "reject":
                    act(conn, row.id, "reject", auditor, "근거 부족", now=t + timedelta(hours=2))
                    continue  # the answer no longer stands
                standing[rule_id][row.record_key] = {
                    "fp": "false_positive",
                    "correct": "confirmed",
                    "explain": "explained",
                }[first]
    engine.dispose()
    return standing


def _precision(labels: list[str | None]) -> tuple[int, int]:
    answered = [x for x in labels if x]
    return answered.count("confirmed"), len(answered)


def test_wilson_interval_matches_the_textbook() -> None:
    low, high = wilson(8, 10) or (0, 0)
    assert math.isclose(low, 0.4902, abs_tol=1e-4) and math.isclose(high, 0.9433, abs_tol=1e-4)
    assert wilson(0, 0) is None
    low, high = wilson(0, 5) or (1, 1)
    assert low == 0 and math.isclose(high, 0.4345, abs_tol=1e-4)


def test_simulating_a_threshold_change_on_past_answers(city: Path, tmp_path: Path) -> None:
    standing = _answer_a_month(city)
    cards = _cards(city)
    # The count this test makes agrees with what the rules in force raised.
    assert _over(cards, 40_000) == set(standing["CARD-PERPERSON"])
    assert _night(cards, 23) == set(standing["CARD-NIGHT"])

    copy = _draft_copy(city, tmp_path)
    proposed = naebu(
        city,
        "rules",
        "propose",
        str(copy),
        "--replaces",
        CARDS,
        "--as",
        "E29010",
        "-m",
        "1인당 기준 상향, 심야 시간 확대",
    )
    assert proposed.returncode == 0, proposed.stderr
    draft_id = int(re.search(r"rule draft #(\d+)", proposed.stdout).group(1))  # type: ignore[union-attr]
    assert "CARD-PERPERSON" in proposed.stdout and "CARD-NIGHT" in proposed.stdout

    result = naebu(city, "rules", "simulate", str(draft_id), "--format", "json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert set(doc["rules"]) == {"CARD-PERPERSON", "CARD-NIGHT"}
    assert "Wilson" in doc["definition"]

    for rule_id, before, after in (
        ("CARD-PERPERSON", _over(cards, 40_000), _over(cards, 76_000)),
        ("CARD-NIGHT", _night(cards, 23), _night(cards, 22)),
    ):
        got = doc["rules"][rule_id]
        labels = standing[rule_id]
        assert {a["record_key"] for a in got["added"]} == after - before, rule_id
        assert {a["record_key"] for a in got["removed"]} == before - after, rule_id
        assert (got["alerts_before"], got["alerts_after"]) == (len(before), len(after))
        lost = [labels[k] for k in before - after]
        assert got["confirmed_lost"] == lost.count("confirmed")
        assert got["false_positives_removed"] == lost.count("false_positive")
        for side, keys in (("before", before), ("after", before & after)):
            k, n = _precision([labels[key] for key in keys])
            assert (got[side]["confirmed"], got[side]["answered"]) == (k, n), (rule_id, side)
            assert got[side]["precision"] == (k / n if n else None)
            assert got[side]["interval"] == (list(wilson(k, n) or ()) or None)
    # The figures of this month: the per-person change loses one finding a department
    # corrected and removes a false positive; the night change adds one alert, answered by
    # nobody yet.
    per_person = doc["rules"]["CARD-PERPERSON"]
    assert (len(per_person["added"]), len(per_person["removed"])) == (0, 3)
    assert per_person["before"]["answered"] == 4 and per_person["before"]["confirmed"] == 2
    assert len(doc["rules"]["CARD-NIGHT"]["added"]) >= 1

    table = naebu(city, "rules", "simulate", str(draft_id))
    assert table.returncode == 0, table.stderr
    for item in per_person["removed"]:
        assert f"    - {item['record_key']}" in table.stdout
    for item in doc["rules"]["CARD-NIGHT"]["added"]:
        assert f"    + {item['record_key']} (new, no answer yet)" in table.stdout
    assert "precision before 50% (2/4; 95% CI 15%-85%)" in table.stdout
    assert "Wilson score interval" in table.stdout


def _trail(engine: Engine, action: str) -> list[Any]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                select(audit_trail)
                .where(audit_trail.c.action == action)
                .order_by(audit_trail.c.seq)
            )
        )


def test_only_an_approved_change_is_loaded_and_every_step_is_audited(
    city: Path, tmp_path: Path
) -> None:
    config = load_config(city / "config.toml")
    assert config.require_approval is None  # on: the demo directory has an audit office
    engine = _engine(city)
    keeper = RuleKeeper(config, engine)
    first = keeper.refresh()
    assert not first.held and not first.problems
    limit = first.ruleset.by_id()["CARD-PERPERSON"].meta.params["max_per_person"]
    assert limit == 40_000

    # An edit made in the rule folder without a draft is held back: the old version runs.
    sheet = city / CARDS
    original = sheet.read_text(encoding="utf-8")
    sheet.write_text(_edited(original, night=False), encoding="utf-8")
    held = keeper.refresh()
    assert held.held == ["CARD-PERPERSON"]
    assert held.ruleset.by_id()["CARD-PERPERSON"].meta.params["max_per_person"] == 40_000
    assert any("CARD-PERPERSON" in str(p) and "approved" in str(p) for p in held.new_problems)
    # A daemon started afresh does not run it at all.
    assert "CARD-PERPERSON" not in RuleKeeper(config, engine).refresh().ruleset.by_id()
    sheet.write_text(original, encoding="utf-8")

    copy = _draft_copy(city, tmp_path)
    proposed = naebu(
        city,
        "rules",
        "propose",
        str(copy),
        "--replaces",
        CARDS,
        "--as",
        "E29010",
        "-m",
        "기준 조정",
    )
    assert proposed.returncode == 0, proposed.stderr
    unsimulated = naebu(city, "rules", "approve", "1", "--as", "E10469", "-m", "승인")
    assert unsimulated.returncode == 1 and "simulate draft #1 first" in unsimulated.stderr
    assert naebu(city, "rules", "simulate", "1", "--as", "E10469").returncode == 0

    # Approval by a non-auditor (a department manager) is refused, in Korean and English.
    refused = run_cli("rules", "approve", "1", "--as", "E20145", "-m", "승인", cwd=city)
    assert refused.returncode == 1
    assert "규칙 변경은 감사자만 승인할 수 있습니다" in refused.stderr
    assert "only an auditor (감사자) may approve" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert keeper.refresh().ruleset.by_id()["CARD-PERPERSON"].meta.params["max_per_person"] == (
        40_000
    )

    approved = naebu(
        city, "rules", "approve", "1", "--as", "E10469", "-m", "모의 적용 결과 검토: 오탐 감소"
    )
    assert approved.returncode == 0, approved.stderr
    assert sheet.read_text(encoding="utf-8") == copy.read_text(encoding="utf-8")
    live = keeper.refresh()
    assert not live.held and live.loaded == [1]
    assert live.ruleset.by_id()["CARD-PERPERSON"].meta.params["max_per_person"] == 76_000
    summary = run_once(config, ruleset=live.ruleset, engine=engine, deliver=False)
    assert summary.status == "ok"

    (propose,) = _trail(engine, "rule_propose")
    (approve,) = _trail(engine, "rule_approve")
    (load,) = _trail(engine, "rule_load")
    assert (propose.actor, propose.comment) == ("E29010", "기준 조정")
    assert (approve.actor, approve.comment) == ("E10469", "모의 적용 결과 검토: 오탐 감소")
    assert approve.details["simulation"]["removed"] == 3
    assert load.actor == "system" and load.details["draft"] == 1
    assert set(load.details["rules"]) == {"CARD-PERPERSON", "CARD-NIGHT"}
    assert {r.details["rule_id"] for r in _trail(engine, "rule_change")} == {
        "CARD-PERPERSON",
        "CARD-NIGHT",
    }
    assert propose.seq < approve.seq < load.seq
    verified = naebu(city, "audit", "verify")
    assert verified.returncode == 0, verified.stderr
    assert "rule versions and drafts" in verified.stdout

    # A draft whose rule ids clash with the rules in force is refused; a draft marked
    # approved in the table, past the trail, is named by verify.
    second = tmp_path / "again" / "business_card.toml"
    second.parent.mkdir()
    second.write_text(_edited(original, limit=False), encoding="utf-8")
    clash = naebu(
        city, "rules", "propose", str(second), "--replaces", "rules/cards/other.toml",
        "--as", "E29010", "-m", "다른 파일",
    )  # fmt: skip
    assert clash.returncode == 1 and "problem" in clash.stderr, clash.stdout
    proposed = naebu(
        city, "rules", "propose", str(second), "--replaces", CARDS, "--as", "E29010", "-m", "되돌림"
    )
    assert proposed.returncode == 0, proposed.stderr
    with engine.begin() as conn:
        conn.execute(update(rule_drafts).where(rule_drafts.c.id == 2).values(status="approved"))
    tampered = run_cli("audit", "verify", cwd=city)
    assert tampered.returncode == 1
    assert "rule draft #2 is approved but the audit trail has no rule_approve entry" in (
        tampered.stderr
    )
    engine.dispose()
