"""The card rules on five Seoul districts' 업무추진비 disclosures (examples/seoul-districts/).

Each district's example config is run as a user runs it (``naebu run --once --config ...``, in
this process, on a copy whose data path points at the shared folder), once per district for
the module. Pinned per district: rows read, rows quarantined (by kind of reason), records
evaluated (read = evaluated + quarantined, per file), findings and alerts per rule, and which
rules the run says are not evaluable. Two rules are also computed here independently, from
the CSV text, on the two HTML-sourced districts (holidays and same-day splits).

The real files live beside the repository (``../shared/data/real/seoul-districts-expense``);
the tests that need them are skipped, saying so, when that folder is absent. Small files in
the districts' shapes, written here, check what the real files make hard to see: a time in
the date column, a two-digit year, a date without a year, placeholders ("00:00", "-").
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import sqlite3
import tomllib
import unicodedata
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import holidays
import pytest
from click.testing import CliRunner
from conftest import ROOT
from history_copy import history_db

from naebu.cli import main

REAL = ROOT.parent / "shared" / "data" / "real" / "seoul-districts-expense"
EXAMPLES = ROOT / "examples" / "seoul-districts"
DISTRICTS = ("ep", "guro", "mapo", "nowon", "sdm")
CARD_RULES = ("CARD-HOLIDAY", "CARD-MERCHANT", "CARD-NIGHT", "CARD-PERPERSON", "CARD-SPLIT")
needs_real = pytest.mark.skipif(
    not REAL.is_dir(),
    reason=f"{REAL} absent: the shared data folder is not beside the repository, "
    "so the runs over the real district files are skipped",
)


# -- running an example in a copy ---------------------------------------------------------------


def example(tmp: Path, district: str, data: Path, pattern: str | None = None) -> Path:
    """A copy of ``district``'s example config (and the card rules) reading ``data``."""
    repo = tmp / "repo"
    (repo / "examples" / "seoul-districts").mkdir(parents=True, exist_ok=True)
    shutil.copytree(ROOT / "rules" / "cards", repo / "rules" / "cards", dirs_exist_ok=True)
    text = (EXAMPLES / f"{district}.toml").read_text(encoding="utf-8")
    old = 'path = "../../../shared/data/real/seoul-districts-expense"'
    assert old in text
    text = text.replace(old, f"path = {json.dumps(str(data))}")
    if pattern is not None:
        old = f'pattern = "{district}_expense_raw.csv"'
        assert old in text
        text = text.replace(old, f"pattern = {json.dumps(pattern)}")
    config = repo / "examples" / "seoul-districts" / f"{district}.toml"
    config.write_text(text, encoding="utf-8")
    return config


def naebu(*args: str) -> str:
    """``naebu ARGS`` in this process; its standard output."""
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def run(config: Path) -> dict[str, Any]:
    """``naebu run --once``: rows read and quarantined, findings and new alerts per rule."""
    out = naebu("run", "--once", "--config", str(config))
    source = next(line for line in out.splitlines() if line.startswith(config.stem + " "))
    rows, bad = (int(x.replace(",", "")) for x in source.split()[2:4])
    findings, new = {}, {}
    for line in out.splitlines():
        parts = line.split()
        if parts and parts[0] in CARD_RULES:
            findings[parts[0]] = int(parts[1].replace(",", ""))
            new[parts[0]] = int(parts[2].replace(",", ""))
    not_evaluable = sorted(
        line.split()[0] for line in out.splitlines() if "NOT EVALUABLE (평가 불가)" in line
    )
    return {
        "rows": rows,
        "quarantined": bad,
        "findings": findings,
        "alerts": new,
        "not_evaluable": not_evaluable,
        "text": out,
    }


def store(config: Path) -> sqlite3.Connection:
    return sqlite3.connect(config.parent / "var" / f"{config.stem}.sqlite")


def history(config: Path) -> sqlite3.Connection:
    """The store's record history as ``rec_<dataset>`` tables, read through the history's own
    readers (tests/history_copy.py): the store keeps it in segment files."""
    return history_db(config.parent / "var" / f"{config.stem}.sqlite")


def records(config: Path) -> dict[str, dict[str, Any]]:
    """The stored records by key (``file:line``)."""
    db = history(config)
    db.row_factory = sqlite3.Row
    rows = db.execute("select * from rec_card_transactions").fetchall()
    return {r["approval_id"]: dict(r) for r in rows}


def alerts(config: Path) -> list[dict[str, Any]]:
    return json.loads(naebu("alerts", "list", "--format", "json", "--config", str(config)))


def keys_by_rule(found: list[dict[str, Any]]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {r: set() for r in CARD_RULES}
    for a in found:  # every record of each alert's case
        out[a["rule_id"]].update(a["records"])
    return out


def reason_kind(reason: str) -> str:
    """A quarantine reason in a few kinds, for pinning (the raw value is in the reason)."""
    kinds = []
    for part in reason.split("; "):
        value = re.search(r"'(.*)'", part)
        text = value.group(1) if value else ""
        if part == "amount: missing":
            kinds.append("amount 0")  # the example maps "0" to empty
        elif part == "approved_date: missing":
            kinds.append("no date")
        elif part.startswith("approved_time"):
            kinds.append("bad time")
        elif re.fullmatch(r"\d{1,2}:\d{2}(:\d{2})?", text):
            kinds.append("time, no date")
        elif re.fullmatch(r"\d{4}", text):
            kinds.append("year only")
        elif re.match(r"\d{1,2}\s*([-./월])\s*\d{1,2}(?!\d)", text) and not re.match(
            r"\d{2}\s*[-./]\s*\d{1,2}\s*[-./]\s*\d{1,2}(?![\d:])", text
        ):
            kinds.append("no year")
        else:
            kinds.append("other date")
    return " + ".join(kinds)


# -- without the real files: small files in the districts' shapes -------------------------------

HEADER = "부서_메타,부서명,사용일,사용시간,사용장소,식당명,주소,사용목적,사용금액,사용자,결제방법,비목,source_file\n"


def disclosure(folder: Path, name: str, rows: list[str]) -> None:
    """A disclosure file: each row gives 사용일,사용시간,사용장소,사용금액,결제방법."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = []
    for row in rows:
        day, time, place, amount, method = row.split("|")
        lines.append(
            f'구 총무과,구 총무과,"{day}",{time},{place},{place},,간담회,{amount},주무관,{method},시책,p1\n'
        )
    (folder / name).write_text("\ufeff" + HEADER + "".join(lines), encoding="utf-8")


def test_residue_in_the_date_column_is_read_or_quarantined_with_its_value(tmp_path: Path) -> None:
    """guro.toml's derived date and time: two-digit years, times in the date column; a date
    without a year and a time alone are quarantined, the value in the reason."""
    data = tmp_path / "data"
    disclosure(
        data,
        "guro_expense_raw.csv",
        [
            "26-03-04 12:27:18||한우집|90000|법인카드",  # 2 Wed: date and time from one cell
            "25.9.27. 18:48||국밥집|40000|카드",  # 3 Saturday 2025-09-27
            "03.09.(월) (12:46)||국밥집|40000|카드",  # 4 no year: quarantined
            "19:55:58||국밥집|40000|카드",  # 5 a time alone: quarantined
            "12.2. 17:26||국밥집|40000|카드",  # 6 no year (not 2012-02-17)
            "2026-03-20|23:30|참치집|90000|신용 카드",  # 7 night, from the time column
            "2026-03-19||-|50000|카드",  # 8 no merchant ("-") ...
            "2026-03-19||-|50000|카드",  # 9 ... twice: no split
            "2026-03-18|12:10|분식집|0|카드",  # 10 amount 0: quarantined
            "24-11-04 11:40 PM||호프집|30000|카드",  # 11 a 12-hour time: not read
            "2025 .12. 12.(금) 12:07||떡집|30000|카드",  # 12 Friday, residue after the date
            "2026-03-17|12:00|분식집|20000|카드",  # 13 split ...
            "26.03.17, 12:40||분식집|20000|카드",  # 14 ... with this one
        ],
    )
    config = example(tmp_path, "guro", data)
    summary = run(config)
    assert summary["rows"] == 13 and summary["quarantined"] == 4
    with store(config) as db:
        reasons = dict(db.execute("select location, reason from quarantine").fetchall())
    at = "guro_expense_raw.csv:"
    assert reasons == {
        at + "4": "approved_date (derived): '03.09.(월) (12:46)' is not a valid date",
        at + "5": "approved_date (derived): '19:55:58' is not a valid date",
        at + "6": "approved_date (derived): '12.2. 17:26' is not a valid date",
        at + "10": "amount: missing",
    }
    kept = records(config)
    assert len(kept) + len(reasons) == 13
    assert (kept[at + "2"]["approved_date"], kept[at + "2"]["approved_time"]) == (
        "2026-03-04",
        12 * 3600 + 27 * 60 + 18,
    )
    assert kept[at + "3"]["approved_date"] == "2025-09-27"
    assert kept[at + "11"]["approved_date"] == "2024-11-04"
    assert kept[at + "11"]["approved_time"] is None, "11:40 PM is not 11:40, nor known"
    assert kept[at + "12"]["approved_date"] == "2025-12-12"
    assert kept[at + "14"]["approved_time"] == 12 * 3600 + 40 * 60
    assert kept[at + "8"]["merchant_name"] is None
    assert keys_by_rule(alerts(config)) == {
        "CARD-HOLIDAY": {at + "3"},
        "CARD-MERCHANT": set(),
        "CARD-NIGHT": {at + "7"},
        "CARD-PERPERSON": set(),  # not evaluable: no attendee text
        "CARD-SPLIT": {at + "13", at + "14"},
    }
    assert summary["not_evaluable"] == ["CARD-PERPERSON"]


def test_placeholder_times_are_unknown_not_midnight(tmp_path: Path) -> None:
    """A value map works on any column: ep.toml reads "00:00" (경조사비 rows) as no time, and
    takes a time written after the date in the date column."""
    data = tmp_path / "data"
    disclosure(
        data,
        "ep_expense_raw.csv",
        [
            "2026-03-09|00:00|경조사비|50000|카드",  # 2 placeholder: never night
            "20251210 23:40||포장마차|45000|법인카드",  # 3 night, time in the date column
            "2026-03-10|00:18|편의점|8000|카드",  # 4 a real time after midnight
            "2026-03-11|50:54|국밥집|9000|카드",  # 5 no such time: quarantined
        ],
    )
    config = example(tmp_path, "ep", data)
    summary = run(config)
    assert (summary["rows"], summary["quarantined"]) == (4, 1)
    at = "ep_expense_raw.csv:"
    assert records(config)[at + "2"]["approved_time"] is None
    found = keys_by_rule(alerts(config))
    assert found["CARD-NIGHT"] == {at + "3", at + "4"}


@pytest.mark.parametrize(
    ("district", "not_evaluable"),
    [
        ("ep", ["CARD-PERPERSON"]),
        ("guro", ["CARD-PERPERSON"]),
        ("mapo", []),
        ("nowon", ["CARD-PERPERSON"]),
        ("sdm", ["CARD-NIGHT"]),
    ],
)
def test_check_names_the_rules_the_data_cannot_feed(
    tmp_path: Path, district: str, not_evaluable: list[str]
) -> None:
    config = example(tmp_path, district, tmp_path)
    out = naebu("check", "--config", str(config))
    blocked = sorted(
        line.split()[0] for line in out.splitlines() if " not evaluable (missing " in line
    )
    assert blocked == not_evaluable, out
    # The disclosures have no merchant category: the restricted-merchant rule reads names.
    assert re.search(r"CARD-MERCHANT\s+partial", out), out


# -- the real files ------------------------------------------------------------------------------


def _rules(holiday: int, night: int, perperson: int, split: int) -> dict[str, int]:
    return {
        "CARD-HOLIDAY": holiday,
        "CARD-MERCHANT": 0,
        "CARD-NIGHT": night,
        "CARD-PERPERSON": perperson,
        "CARD-SPLIT": split,
    }


#: What each district's run gives, pinned. Findings are records (a split's payments each
#: count); alerts are cases (one per split group). The quarantine kinds are reason_kind()'s.
PINNED: dict[str, dict[str, Any]] = {
    "ep": {
        "rows": 9_999,
        "quarantined": {"bad time": 1},  # '50:54'
        "findings": _rules(161, 4, 0, 503),
        "alerts": _rules(161, 4, 0, 238),
        "not_evaluable": ["CARD-PERPERSON"],  # 사용자 is a role, no attendee text
    },
    "guro": {
        "rows": 13_588,
        "quarantined": {
            "no year": 189,
            "time, no date": 46,
            "amount 0": 35,
            "other date": 24,
            "no date": 12,
            "no year + amount 0": 1,
        },
        "findings": _rules(76, 2, 0, 353),
        "alerts": _rules(76, 2, 0, 169),
        "not_evaluable": ["CARD-PERPERSON"],
    },
    "mapo": {
        "rows": 18_296,
        "quarantined": {
            "amount 0": 2_741,
            "no date": 738,
            "year only": 279,
            "year only + amount 0": 56,
            "no date + amount 0": 56,
            "no year": 14,
            "other date": 13,
            "no year + amount 0": 9,
            "other date + amount 0": 4,
            "time, no date": 1,
            "time, no date + amount 0": 1,
        },
        "findings": _rules(169, 1, 1, 491),
        "alerts": _rules(169, 1, 1, 243),
        "not_evaluable": [],  # 사용자 holds the attendee text on some rows
    },
    "nowon": {
        "rows": 16_866,
        "quarantined": {
            "no year": 7_276,
            "no date": 478,
            "no year + amount 0": 306,
            "amount 0": 156,
            "other date + amount 0": 35,
            "other date": 25,
        },
        "findings": _rules(1, 0, 0, 16),
        "alerts": _rules(1, 0, 0, 8),
        "not_evaluable": ["CARD-PERPERSON"],
    },
    "sdm": {
        "rows": 1_813,
        "quarantined": {},
        "findings": _rules(56, 0, 0, 77),
        "alerts": _rules(56, 0, 0, 38),
        "not_evaluable": ["CARD-NIGHT"],  # no time of day in the disclosure
    },
}


@pytest.fixture(scope="module", params=DISTRICTS)
def district(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, Path, dict[str, Any]]:
    """One run of a district's example over its whole real file, for the module."""
    if not REAL.is_dir():
        pytest.skip(f"{REAL} absent: the real district files are not beside the repository")
    name = request.param
    config = example(tmp_path_factory.mktemp(name), name, REAL)
    return name, config, run(config)


def _lines(path: Path) -> dict[str, dict[str, str]]:
    """Each data row of a file by its record key ``file:line`` (a quoted cell may hold a line
    break: the key is the line the row starts on)."""
    rows: dict[str, dict[str, str]] = {}
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        while True:
            line = reader.line_num + 1
            cells = next(reader, None)
            if cells is None:
                return rows
            rows[f"{path.name}:{line}"] = dict(zip(header, cells, strict=True))


@needs_real
def test_every_row_is_evaluated_or_quarantined(district: tuple[str, Path, dict[str, Any]]) -> None:
    name, config, summary = district
    lines = _lines(REAL / f"{name}_expense_raw.csv")
    with store(config) as db:
        evaluated = {
            k for (k,) in history(config).execute("select approval_id from rec_card_transactions")
        }
        quarantined = dict(db.execute("select location, reason from quarantine").fetchall())
    pinned = PINNED[name]
    assert summary["rows"] == len(lines) == pinned["rows"]
    # read = evaluated + quarantined, and every line is one or the other, never both
    assert len(evaluated) + len(quarantined) == summary["rows"]
    assert evaluated | set(quarantined) == set(lines)
    assert not evaluated & set(quarantined)
    assert summary["quarantined"] == len(quarantined)
    assert dict(Counter(reason_kind(r) for r in quarantined.values())) == pinned["quarantined"]


@needs_real
def test_findings_and_alerts_per_rule(district: tuple[str, Path, dict[str, Any]]) -> None:
    name, config, summary = district
    pinned = PINNED[name]
    assert summary["findings"] == pinned["findings"]
    assert summary["alerts"] == pinned["alerts"]
    assert summary["not_evaluable"] == pinned["not_evaluable"]
    listed = alerts(config)
    assert dict(Counter(a["rule_id"] for a in listed)) == {
        r: n for r, n in pinned["alerts"].items() if n
    }
    found = keys_by_rule(listed)
    assert {r: len(k) for r, k in found.items()} == pinned["findings"]


@needs_real
def test_no_finding_rests_on_absent_data(district: tuple[str, Path, dict[str, Any]]) -> None:
    """Every flagged record is a known card payment, and has what its rule reads: a time for
    the night rule (no placeholder), a merchant for a split, a count of people per head."""
    name, config, _ = district
    stored = records(config)
    placeholders = {0}  # "00:00" is read as empty: no flagged record may be at midnight
    for rule, keys in keys_by_rule(alerts(config)).items():
        for key in keys:
            r = stored[key]
            assert r["payment_method"] == "카드", (rule, key)
            if rule == "CARD-NIGHT":
                assert r["approved_time"] is not None and r["approved_time"] not in placeholders
            elif rule == "CARD-SPLIT":
                assert r["merchant_name"] not in (None, "-", "_"), key
            elif rule == "CARD-PERPERSON":
                assert re.search(r"\d\s*[명인]", r["attendees_text"]), key


def _config_values(district: str, column: str) -> dict[str, str]:
    raw = tomllib.loads((EXAMPLES / f"{district}.toml").read_text(encoding="utf-8"))
    return raw["sources"][district].get("values", {}).get(column, {})


def norm(text: str) -> str:
    """normalize(): NFKC, trimmed, inner whitespace runs collapsed."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).strip()


@needs_real
@pytest.mark.parametrize("district", ["ep", "sdm"], indirect=True)
def test_holidays_and_splits_agree_with_a_count_from_the_csv_text(
    district: tuple[str, Path, dict[str, Any]],
) -> None:
    """The two HTML-sourced districts (ISO dates): CARD-HOLIDAY and CARD-SPLIT computed here
    from the CSV text (dates read by hand, the example's payment-method map applied) flag the
    same rows as the run."""
    name, config, _ = district  # the PDF-parsed districts' dates are pinned above instead
    with store(config) as db:
        quarantined = {k for (k,) in db.execute("select location from quarantine")}
    methods = _config_values(name, "payment_method")
    cards: dict[str, tuple[str, str, date]] = {}
    for key, row in _lines(REAL / f"{name}_expense_raw.csv").items():
        method = norm(row["결제방법"])
        if key in quarantined or methods.get(method, method) != "카드":
            continue
        digits = re.match(r"(\d{4})-?(\d{2})-?(\d{2})", row["사용일"])
        assert digits, row["사용일"]
        day = date(*(int(g) for g in digits.groups()))
        cards[key] = (norm(row["부서명"]), norm(row["사용장소"]), day)
    kr = holidays.KR(years=range(2023, 2030))
    holiday = {k for k, (_, _, d) in cards.items() if d.weekday() >= 5 or d in kr}
    groups: dict[tuple[str, str, date], set[str]] = {}
    for key, group in cards.items():
        groups.setdefault(group, set()).add(key)
    split = set().union(*(g for g in groups.values() if len(g) >= 2))
    found = keys_by_rule(alerts(config))
    assert found["CARD-HOLIDAY"] == holiday
    assert found["CARD-SPLIT"] == split
