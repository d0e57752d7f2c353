"""The card rules on Seoul's published 업무추진비 disclosures (examples/seoul-expense/).

The example config is run as a user runs it (``naebu run --once --config ...`` in a copy), and
every finding is checked against the rule's plain meaning computed here, independently, from
the CSV text: night hours, weekends and holidays, same department + merchant + day groups,
amount per head counted from the attendee text (attendee_count, itself checked against a hand
count in tests/test_attendee_count.py), restricted merchant names. The record key of a
disclosure row is ``file:line``, so each alert leads back to its line.

The real files live beside the repository (``../shared/data/real``); the tests that need them
are skipped, saying so, when that folder is absent. A small disclosure in the same layout is
written here for the cases the real files do not hold (a row with a date but no time).
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import sqlite3
import unicodedata
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import holidays
import pytest
from conftest import ROOT, run_cli
from history_copy import history_db

from naebu.engine.expr.functions_attendees import count_attendees
from naebu.engine.loader import load_rules

REAL = ROOT.parent / "shared" / "data" / "real"
SEOUL_2018 = REAL / "seoul_expense_2018.csv"
SEOUL_2017 = REAL / "seoul_expense_2017.csv"
EXAMPLE = ROOT / "examples" / "seoul-expense" / "config.toml"
needs_real = pytest.mark.skipif(
    not SEOUL_2018.exists() or not SEOUL_2017.exists(),
    reason=f"{REAL} absent: the shared data folder is not beside the repository, "
    "so the runs on the real Seoul files are skipped",
)
CARD_RULES = ("CARD-HOLIDAY", "CARD-MERCHANT", "CARD-NIGHT", "CARD-PERPERSON", "CARD-SPLIT")
#: A disclosure row: its raw cells and the values the rules read.
Row = dict[str, Any]
PARAMS = {r.meta.id: r.meta.params for r in load_rules([ROOT / "rules" / "cards"]).rules}


# -- running the example in a copy -------------------------------------------------------------


def example(tmp: Path, data: Path, pattern: str, key: str = "line") -> Path:
    """A copy of the example (config and card rules) reading ``pattern`` in ``data``."""
    repo = tmp / "repo"
    (repo / "examples" / "seoul-expense").mkdir(parents=True, exist_ok=True)
    shutil.copytree(ROOT / "rules" / "cards", repo / "rules" / "cards", dirs_exist_ok=True)
    text = EXAMPLE.read_text(encoding="utf-8")
    for old, new in (
        ('path = "../../../shared/data/real"', f"path = {json.dumps(str(data))}"),
        ('pattern = "seoul_expense_2018.csv"', f"pattern = {json.dumps(pattern)}"),
        ('key = "line"', f"key = {json.dumps(key)}"),
    ):
        assert old in text, old
        text = text.replace(old, new)
    config = repo / "examples" / "seoul-expense" / "config.toml"
    config.write_text(text, encoding="utf-8")
    return config


def run(config: Path) -> dict[str, Any]:
    """``naebu run --once`` with ``config``: rows read, quarantined, findings and new alerts."""
    result = run_cli("run", "--once", "--config", str(config), cwd=config.parent)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    source = next(line for line in out.splitlines() if line.startswith("seoul "))
    rows, bad = (int(x.replace(",", "")) for x in source.split()[2:4])
    findings, new = {}, {}
    for line in out.splitlines():
        if line.split(" ")[0] in CARD_RULES:
            parts = line.split()
            findings[parts[0]] = int(parts[1].replace(",", ""))
            new[parts[0]] = int(parts[2].replace(",", ""))
    return {"rows": rows, "quarantined": bad, "findings": findings, "new": new, "text": out}


def alerts(config: Path) -> list[dict[str, str]]:
    result = run_cli(
        "alerts", "list", "--format", "json", "--config", str(config), cwd=config.parent
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def store(config: Path) -> sqlite3.Connection:
    return sqlite3.connect(config.parent / "var" / "seoul.sqlite")


def history(config: Path) -> sqlite3.Connection:
    """The store's record history as ``rec_<dataset>`` tables, read through the history's own
    readers (tests/history_copy.py): the store keeps it in segment files."""
    return history_db(config.parent / "var" / "seoul.sqlite")


def keys_by_rule(found: list[dict[str, str]]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {r: set() for r in CARD_RULES}
    for a in found:  # every record of each alert's case
        out[a["rule_id"]].update(a["records"])
    return out


# -- the rules' meaning, computed from the CSV text ------------------------------------------


def norm(text: str) -> str:
    """normalize(): NFKC, trimmed, inner whitespace runs collapsed."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).strip()


def number(text: str) -> float | None:
    try:
        return float(norm(text).replace(",", ""))
    except ValueError:
        return None


def read_rows(path: Path) -> dict[str, Row]:
    """Each data row of a disclosure by its record key ``file:line``, with its parsed values
    (None where the connector must quarantine the row)."""
    rows: dict[str, Row] = {}
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        while True:
            line = reader.line_num + 1
            cells = next(reader, None)
            if cells is None:
                break
            raw = dict(zip(header, cells, strict=False))
            ymd = [number(raw[c]) for c in ("year", "month", "day")]
            try:
                day = date(*[int(v) for v in ymd if v is not None]) if None not in ymd else None
            except ValueError:
                day = None
            time = norm(raw["time"])
            rows[f"{path.name}:{line}"] = {
                "raw": raw,
                "date": day,
                "amount": number(raw["집행금액"]),
                "hour": int(time.split(":")[0]) if time else None,
                "card": norm(raw["결제방법"]) == "카드",
                "department": norm(raw["1소속부서"]),
                "merchant": norm(raw["집행지명"]),
                "attendees": norm(raw["대상인원"]),
            }
    return rows


def expected(rows: dict[str, Row]) -> dict[str, set[str]]:
    """What each card rule must flag, by its plain meaning (valid card rows only)."""
    valid = {k: r for k, r in rows.items() if r["date"] is not None and r["amount"] is not None}
    cards = {k: r for k, r in valid.items() if r["card"]}
    years = {r["date"].year for r in cards.values()}
    kr = holidays.KR(years=years)
    out: dict[str, set[str]] = {r: set() for r in CARD_RULES}
    keywords = re.compile(PARAMS["CARD-MERCHANT"]["name_keywords"])
    limit = PARAMS["CARD-PERPERSON"]["max_per_person"]
    groups: dict[tuple[object, ...], list[str]] = {}
    for key, r in cards.items():
        day: date = r["date"]
        hour = r["hour"]
        if hour is not None and (hour >= 23 or hour < 6):
            out["CARD-NIGHT"].add(key)
        if day.weekday() >= 5 or day in kr:
            out["CARD-HOLIDAY"].add(key)
        n = count_attendees(r["attendees"]) or 0
        if n > 0 and r["amount"] / n > limit:
            out["CARD-PERPERSON"].add(key)
        if keywords.search(str(r["merchant"])):
            out["CARD-MERCHANT"].add(key)
        if r["department"] and r["merchant"]:
            groups.setdefault((r["department"], r["merchant"], day), []).append(key)
    for members in groups.values():
        if len(members) >= 2:
            out["CARD-SPLIT"].update(members)
    return out


def meaning_holds(rule: str, keys: set[str], rows: dict[str, Row]) -> None:
    """Each flagged row, read back from its line, has what the rule says."""
    kr = holidays.KR(years=range(2015, 2020))
    same_day: dict[tuple[object, ...], set[str]] = {}
    for k, o in rows.items():
        if o["card"]:
            same_day.setdefault((o["department"], o["merchant"], o["date"]), set()).add(k)
    for key in keys:
        r = rows[key]
        assert r["card"], key
        if rule == "CARD-NIGHT":
            assert r["hour"] is not None and (r["hour"] >= 23 or r["hour"] < 6), key
        elif rule == "CARD-HOLIDAY":
            assert r["date"].weekday() >= 5 or r["date"] in kr, key
        elif rule == "CARD-PERPERSON":
            n = count_attendees(r["attendees"])
            assert n and r["amount"] / n > 40_000, key
        elif rule == "CARD-SPLIT":
            group = same_day[(r["department"], r["merchant"], r["date"])]
            assert len(group) >= 2 and group <= keys, key
        elif rule == "CARD-MERCHANT":
            assert re.search(PARAMS["CARD-MERCHANT"]["name_keywords"], str(r["merchant"])), key


# -- without the real files: a disclosure in the same layout ----------------------------------

HEADER = "1소속부서,결제방법,구분,대상인원,집행금액,집행목적,집행지주소,집행지명,year,month,day,time,cnt\n"
SMALL = (
    HEADER
    + (
        "회계과,카드,,과장 등 3명,90000.0,간담회,중구,한우마을,2018.0,3.0,14.0,23:30,1\n"  # 2 night
        "회계과,카드,,과장 등 3명,90000.0,간담회,중구,남도식당,2018.0,3.0,14.0,22:59,1\n"  # 3
        "회계과,카드,,과장 등 3명,90000.0,간담회,중구,참치집,2018.0,3.0,17.0,,1\n"  # 4 Sat, no time
        "회계과,현금,,과장 등 3명,90000.0,간담회,중구,국밥집,2018.0,3.0,17.0,23:40,1\n"  # 5 cash
        "회계과,=I10,,과장 등 3명,90000.0,간담회,중구,국밥집,2018.0,3.0,18.0,23:40,1\n"  # 6 residue
        "회계과,카드,,과장 등 3명,90000.0,간담회,중구,국밥집,2018.0,3.0,,,1\n"  # 7 no day
        "회계과,카드,,과장 등 3명,미정,간담회,중구,국밥집,2018.0,3.0,15.0,12:00,1\n"  # 8 no amount
        "세무과,카드,,팀장 등 2명,100000.0,간담회,중구,한빛식당,2018.0,3.0,15.0,12:10,1\n"  # 9 split
        "세무과,카드,,팀장 1명,30000.0,간담회,중구, 한빛식당 ,2018.0,3.0,15.0,12:20,1\n"  # 10 split
        "민원과,카드,,팀장 등 9명,30000.0,간담회,중구,한빛식당,2018.0,3.0,15.0,12:30,1\n"  # 11 other dept
        "세무과,카드,,직원 격려,900000.0,격려,중구,한빛식당,2018.0,3.0,16.0,12:10,1\n"  # 12 next day
        "민원과,카드,,팀장 등 4명,200000.0,간담회,중구,한빛 노래연습장,2018.0,3.0,16.0,20:00,1\n"  # 13
        "민원과,카드,,팀장 등 4명,160000.0,간담회,중구,프레스클럽,2018.0,3.0,16.0,13:00,1\n"  # 14 40,000 a head
    )
)


def test_a_small_disclosure_through_the_example_config(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "small.csv").write_text(SMALL, encoding="utf-8")
    config = example(tmp_path, data, "small.csv")
    summary = run(config)
    assert summary["rows"] == 13 and summary["quarantined"] == 2
    with store(config) as db:
        reasons = dict(db.execute("select location, reason from quarantine").fetchall())
        kept = history(config).execute("select count(*) from rec_card_transactions").fetchone()[0]
        timeless = (
            history(config)
            .execute("select approval_id from rec_card_transactions where approved_time is null")
            .fetchall()
        )
    assert kept + len(reasons) == 13
    assert "approved_date" in reasons["small.csv:7"] and "amount" in reasons["small.csv:8"]
    assert timeless == [("small.csv:4",)], "a row with a date but no time stays"
    found = keys_by_rule(alerts(config))
    assert found == {
        "CARD-NIGHT": {"small.csv:2"},
        "CARD-HOLIDAY": {"small.csv:4"},  # the Saturday without a time: holiday, never night
        "CARD-SPLIT": {"small.csv:9", "small.csv:10"},
        "CARD-PERPERSON": {"small.csv:9", "small.csv:13"},  # 100,000 / 2 and 200,000 / 4
        "CARD-MERCHANT": {"small.csv:13"},
    }
    assert found == expected(read_rows(data / "small.csv"))


def test_group_by_expressions_are_checked_like_conditions(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules" / "cards", rules)
    path = rules / "business_card.toml"
    text = path.read_text(encoding="utf-8")
    for bad, message in (
        ('"normalize(merchant_nam)"', "unknown column 'merchant_nam'"),
        ('"merchant_nam"', "unknown column 'merchant_nam' - did you mean 'merchant_name'?"),
        ('"normalize(amount)"', "rule CARD-SPLIT: group_by:"),
    ):
        path.write_text(text.replace('"normalize(merchant_name)"', bad), encoding="utf-8")
        problems = [str(p) for p in load_rules([rules], root=tmp_path).problems]
        assert len(problems) == 1 and message in problems[0], problems
        assert problems[0].startswith("rules/business_card.toml:")


# -- the real files ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def seoul_2018(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    config = example(tmp_path_factory.mktemp("seoul"), REAL, "seoul_expense_2018.csv")
    return config, run(config)


@needs_real
def test_every_row_of_the_2018_file_is_evaluated_or_quarantined(
    seoul_2018: tuple[Path, dict[str, Any]],
) -> None:
    config, summary = seoul_2018
    rows = read_rows(SEOUL_2018)
    assert len(rows) == 21_260 == summary["rows"]
    with store(config) as db:
        evaluated = (
            history(config).execute("select count(*) from rec_card_transactions").fetchone()[0]
        )
        reasons = [r for (r,) in db.execute("select reason from quarantine")]
        methods = dict(
            history(config)
            .execute("select payment_method, count(*) from rec_card_transactions group by 1")
            .fetchall()
        )
    assert evaluated + len(reasons) == len(rows)
    assert len(reasons) == summary["quarantined"] == 53
    # Every quarantined row lacks a day (51) or a year (2): no date, so no event time.
    assert all(r.startswith("approved_date (year/month/day):") for r in reasons)
    invalid = [k for k, r in rows.items() if r["date"] is None or r["amount"] is None]
    assert len(invalid) == 53
    # Only 카드 rows are judged. Spreadsheet residue in the payment method (=I10) is no code of
    # the closed vocabulary: read as empty (unknown) and reported in the run summary.
    assert methods["카드"] > 21_000 and methods["현금"] > 0 and "=I10" not in methods
    assert methods[None] > 0
    assert "seoul: payment_method:" in summary["text"]
    assert "e.g. '=I10'" in summary["text"]  # "계좌" is mapped by the example config
    assert "add them under [sources.seoul.values.payment_method]" in summary["text"]


@needs_real
def test_alerts_list_gives_each_rules_findings_and_they_mean_what_the_rule_says(
    seoul_2018: tuple[Path, dict[str, Any]],
) -> None:
    config, summary = seoul_2018
    listed = alerts(config)
    per_rule = Counter(a["rule_id"] for a in listed)
    assert dict(per_rule) == {r: n for r, n in summary["new"].items() if n}  # one per case
    records = Counter()
    for a in listed:
        records[a["rule_id"]] += len(a["records"])
    assert dict(records) == {r: n for r, n in summary["findings"].items() if n}
    assert per_rule["CARD-SPLIT"] < records["CARD-SPLIT"]  # a split's payments are one case
    assert per_rule["CARD-NIGHT"] == records["CARD-NIGHT"]  # a late payment is its own
    found = keys_by_rule(listed)
    assert all(k.startswith("seoul_expense_2018.csv:") for ks in found.values() for k in ks)
    rows = read_rows(SEOUL_2018)
    for rule, keys in found.items():
        meaning_holds(rule, keys, rows)
    assert found == expected(rows)
    # What the 2018 disclosure holds: late nights and holidays are few but real; no merchant
    # name in it carries a restricted keyword.
    assert found["CARD-NIGHT"] and found["CARD-HOLIDAY"] and found["CARD-SPLIT"]
    assert found["CARD-PERPERSON"] and not found["CARD-MERCHANT"]


@needs_real
def test_a_second_run_over_the_same_file_adds_nothing(
    seoul_2018: tuple[Path, dict[str, Any]],
) -> None:
    config, first = seoul_2018
    again = run(config)
    assert again["rows"] == 0 and sum(again["new"].values()) == 0
    assert len(alerts(config)) == sum(first["new"].values())


def _data_lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines(keepends=True)


def _first_copies(rows: dict[str, Row]) -> dict[str, Row]:
    """The rows of a disclosure without their repeats (the first copy of each)."""
    first: dict[tuple[str, ...], tuple[str, Row]] = {}
    for key, r in rows.items():
        first.setdefault(tuple(r["raw"].values()), (key, r))
    return dict(first.values())


@needs_real
def test_the_2017_file_repeats_its_rows_and_line_keys_count_them_twice(tmp_path: Path) -> None:
    rows = read_rows(SEOUL_2017)
    copies = Counter(tuple(r["raw"].values()) for r in rows.values())
    assert len(rows) == 15_192 and len(copies) == 7_591  # each department's block twice
    assert set(copies.values()) == {2, 4}
    # The first block (대변인, 1,372 rows, published twice) is enough to show it, and fast:
    # by line each copy is a record of its own; by content the copies are one record.
    data = tmp_path / "data"
    data.mkdir()
    lines = SEOUL_2017.read_text(encoding="utf-8").splitlines(keepends=True)
    (data / "block.csv").write_text("".join(lines[: 1 + 2 * 1_372]), encoding="utf-8")
    block = read_rows(data / "block.csv")
    assert len(_first_copies(block)) == 1_372
    by_line = example(tmp_path / "line", data, "block.csv", key="line")
    by_content = example(tmp_path / "content", data, "block.csv", key="content")
    assert run(by_line)["rows"] == run(by_content)["rows"] == 2 * 1_372
    line_found, content_found = keys_by_rule(alerts(by_line)), keys_by_rule(alerts(by_content))
    assert line_found == expected(block)
    once = expected(_first_copies(block))
    for rule in CARD_RULES:
        assert len(content_found[rule]) == len(once[rule]), rule
        if rule != "CARD-SPLIT":  # by line, both copies of a flagged row are flagged
            assert len(line_found[rule]) == 2 * len(content_found[rule]), rule
    # By line, a row and its copy even look like a split payment: every card row of the block.
    assert len(line_found["CARD-SPLIT"]) == sum(r["card"] for r in block.values())
    assert len(content_found["CARD-SPLIT"]) == len(once["CARD-SPLIT"]) < 200


@needs_real
def test_content_keys_take_the_2017_file_and_its_redelivery_once(tmp_path: Path) -> None:
    rows = read_rows(SEOUL_2017)
    once = _first_copies(rows)
    config = example(tmp_path / "content", REAL, "seoul_expense_2017.csv", key="content")
    first = run(config)
    assert first["rows"] == 15_192 and first["quarantined"] == 14  # undated: 6 rows, repeated
    records = history(config).execute("select count(*) from rec_card_transactions").fetchone()[0]
    valid = [r for r in once.values() if r["date"] is not None and r["amount"] is not None]
    assert records == len(valid) == 7_585
    found = keys_by_rule(alerts(config))
    assert all(k.startswith("c:") for ks in found.values() for k in ks)
    assert {r: len(k) for r, k in found.items()} == {r: len(k) for r, k in expected(once).items()}

    # Delivered again: the same file under another name is known by its checksum and not read;
    # an overlapping file (the second half again, as a new file) is read and adds nothing.
    data = tmp_path / "data"
    data.mkdir()
    lines = SEOUL_2017.read_text(encoding="utf-8").splitlines(keepends=True)
    shutil.copy(SEOUL_2017, data / "seoul_expense_2017_again.csv")
    (data / "seoul_expense_2017_b.csv").write_text(lines[0] + "".join(lines[7_000:]), "utf-8")
    again = run(example(tmp_path / "content", data, "seoul_expense_2017*.csv", key="content"))
    assert again["rows"] == len(lines) - 7_000
    assert sum(again["new"].values()) == 0, "nothing in the overlap is new"
    assert (
        history(config).execute("select count(*) from rec_card_transactions").fetchone()[0]
        == records
    )
    assert keys_by_rule(alerts(config)) == found
