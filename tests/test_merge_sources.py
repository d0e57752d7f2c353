"""Several sources into one dataset (issue 16): overtime claims and leave/trip records.

Two file drops (and a database table) feed ``attendance``, merged on ``employee_id`` and
``work_date``: naebu builds the record key from those values, each batch is completed from the
stored record before the rules see it, and the real rule ATT-OVERTIME-ON-LEAVE
(rules/attendance/overtime.toml) fires on the merged rows, whatever order the pieces come in.
"""

from __future__ import annotations

import shutil
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from minicity import history_query, query

from naebu import replay
from naebu.connectors.merge import merge_keys
from naebu.connectors.merge_settings import complete
from naebu.core import datasets
from naebu.core.problems import ProblemsError
from naebu.pipeline import RunSummary, run_once
from naebu.pipeline.pull import PullStage
from naebu.settings.config import load_config

REPO = Path(__file__).resolve().parent.parent
NOW = datetime(2025, 7, 1, 9, 0)
RULE = "ATT-OVERTIME-ON-LEAVE"

EMPLOYEES = """\
employee_id,name,department,role
E001,김담당,재무과,담당자
E010,이과장,재무과,부서관리자
E030,박감사,감사실,감사자
"""

#: Overtime claims (초과근무 신청), UTF-8, the system's own Korean headers.
OVERTIME = """\
직원번호,부서,근무일,초과근무시간
E001,재무과,2025-06-02,3
E001,재무과,2025-06-03,2
E010,재무과,2025-06-02,4
"""

#: Leave and trip records (휴가·출장), CP949: dates in three layouts, a padded id, a row
#: without a day (quarantined: it cannot be keyed).
LEAVE = """\
직원번호,근무일자,휴가구분,출장구분
E001,2025.06.02,연가,
E010,20250602,,관외출장
E010,2025-06-03,,관외출장
E001 ,2025-06-04,병가,
E010,,연가,
"""

OVERTIME_SOURCE = """
[sources.overtime]
kind = "files"
path = "drops/overtime"
dataset = "attendance"
merge_on = ["employee_id", "work_date"]

[sources.overtime.columns]
employee_id = "직원번호"
department = "부서"
work_date = "근무일"
overtime_hours = "초과근무시간"
"""

LEAVE_SOURCE = """
[sources.leave]
kind = "files"
path = "drops/leave"
dataset = "attendance"
encoding = "auto"
merge_on = ["employee_id", "work_date"]

[sources.leave.columns]
employee_id = "직원번호"
work_date = "근무일자"
leave_type = "휴가구분"
trip_type = "출장구분"
"""


def make_city(folder: Path, *sections: str) -> Path:
    """A city whose attendance comes from ``sections`` (source tables), with the real
    attendance rules and a directory from a CSV drop."""
    for sub in ("rules", "drops/employees", "drops/overtime", "drops/leave"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "rules" / "attendance" / "overtime.toml", folder / "rules")
    (folder / "drops" / "employees" / "emp.csv").write_text(EMPLOYEES, encoding="utf-8")
    text = f"""\
[store]
url = "sqlite:///{folder / "var" / "naebu.sqlite"}"

[rules]
paths = ["rules"]

[sources.employees]
kind = "files"
path = "drops/employees"
dataset = "employees"
{"".join(sections)}
[notify]
language = "ko"
"""
    path = folder / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def drop(config: Path, source: str, name: str, text: str, encoding: str = "utf-8") -> None:
    (config.parent / "drops" / source / name).write_bytes(text.encode(encoding))


def run(config: Path, now: datetime = NOW) -> RunSummary:
    return run_once(load_config(config), now=now)


def alerts(config: Path) -> list[str]:
    rows = query(config, f"SELECT record_key FROM alerts WHERE rule_id = '{RULE}' ORDER BY 1")
    return [str(r[0]) for r in rows]


def records(config: Path) -> dict[str, tuple[object, ...]]:
    rows = history_query(
        config,
        "SELECT record_id, employee_id, department, work_date, leave_type, trip_type, "
        "overtime_hours FROM rec_attendance ORDER BY record_id",
    )
    return {str(r[0]): tuple(r[1:]) for r in rows}


MERGED = {
    "E001|2025-06-02": ("E001", "재무과", "2025-06-02", "연가", None, 3.0),
    "E001|2025-06-03": ("E001", "재무과", "2025-06-03", None, None, 2.0),
    "E001|2025-06-04": ("E001", None, "2025-06-04", "병가", None, None),
    "E010|2025-06-02": ("E010", "재무과", "2025-06-02", None, "관외출장", 4.0),
    "E010|2025-06-03": ("E010", None, "2025-06-03", None, "관외출장", None),
}
FLAGGED = ["E001|2025-06-02", "E010|2025-06-02"]


def test_two_drops_become_one_row_per_official_per_day(tmp_path: Path) -> None:
    config = make_city(tmp_path, OVERTIME_SOURCE, LEAVE_SOURCE)
    drop(config, "overtime", "ot.csv", OVERTIME)
    drop(config, "leave", "leave.csv", LEAVE, "cp949")
    summary = run(config)
    by_name = {s.name: s for s in summary.sources}
    assert by_name["overtime"].rows_read == 3 and by_name["overtime"].quarantined == 0
    assert by_name["leave"].rows_read == 5 and by_name["leave"].quarantined == 1
    assert records(config) == MERGED
    assert alerts(config) == FLAGGED
    assert summary.new_alerts[RULE] == 2
    (reason,) = query(config, "SELECT reason FROM quarantine WHERE source = 'leave'")
    assert reason == ("work_date: missing",)
    # Nothing new: nothing raised again.
    again = run(config, NOW + timedelta(hours=1))
    assert sum(again.new_alerts.values()) == 0 and alerts(config) == FLAGGED


@pytest.mark.parametrize("first", ["overtime", "leave"])
def test_a_source_arriving_a_run_later_completes_the_record_and_raises_then(
    tmp_path: Path, first: str
) -> None:
    config = make_city(tmp_path, OVERTIME_SOURCE, LEAVE_SOURCE)
    files = {"overtime": ("ot.csv", OVERTIME, "utf-8"), "leave": ("leave.csv", LEAVE, "cp949")}
    later = "leave" if first == "overtime" else "overtime"
    drop(config, first, *files[first])
    one = run(config)
    assert one.new_alerts[RULE] == 0 and alerts(config) == []
    # The rule has now judged the history once: from here on it judges each batch, which the
    # pipeline completes from the stored records before the rule sees it.
    drop(config, later, *files[later])
    two = run(config, NOW + timedelta(hours=1))
    assert two.new_alerts[RULE] == 2
    assert alerts(config) == FLAGGED
    assert records(config) == MERGED
    # The merged records were written by the later run: rules that read the history see them
    # as changed.
    written = history_query(config, "SELECT record_id, _run_id FROM rec_attendance ORDER BY 1")
    assert {k for k, run_id in written if run_id == two.run_id} >= set(FLAGGED)
    three = run(config, NOW + timedelta(hours=2))
    assert sum(three.new_alerts.values()) == 0
    # A corrected leave file later: the same record, the same alert, not a second one.
    drop(config, "leave", "leave-fix.csv", LEAVE.replace("연가,\n", "공가,\n", 1), "cp949")
    four = run(config, NOW + timedelta(hours=3))
    assert sum(four.new_alerts.values()) == 0 and alerts(config) == FLAGGED
    assert records(config)["E001|2025-06-02"][3] == "공가"


def test_order_of_the_sources_in_one_run_does_not_matter(tmp_path: Path) -> None:
    outcomes = []
    for name, sections in (
        ("a", (OVERTIME_SOURCE, LEAVE_SOURCE)),
        ("b", (LEAVE_SOURCE, OVERTIME_SOURCE)),
    ):
        config = make_city(tmp_path / name, *sections)
        drop(config, "overtime", "ot.csv", OVERTIME)
        drop(config, "leave", "leave.csv", LEAVE, "cp949")
        run(config)
        outcomes.append((records(config), alerts(config)))
    assert outcomes[0] == outcomes[1] == (MERGED, FLAGGED)


def test_a_source_never_blanks_what_it_does_not_give_and_the_newest_value_wins(
    tmp_path: Path,
) -> None:
    config = make_city(tmp_path, OVERTIME_SOURCE, LEAVE_SOURCE)
    drop(config, "overtime", "ot.csv", OVERTIME)
    drop(config, "leave", "leave.csv", LEAVE, "cp949")
    run(config)
    # A later claims file: one day's hours corrected, another day's cell left empty, and a
    # day given twice in one file (the last row wins).
    drop(
        config,
        "overtime",
        "ot-2.csv",
        "직원번호,부서,근무일,초과근무시간\n"
        "E001,재무과,2025-06-03,5\n"
        "E010,,2025-06-02,\n"
        "E010,재무과,2025-06-03,1\n"
        "E010,재무과,2025-06-03,6\n",
    )
    run(config, NOW + timedelta(hours=1))
    got = records(config)
    assert got["E001|2025-06-03"] == ("E001", "재무과", "2025-06-03", None, None, 5.0)
    assert got["E010|2025-06-02"] == MERGED["E010|2025-06-02"]  # nothing blanked
    assert got["E010|2025-06-03"] == ("E010", "재무과", "2025-06-03", None, "관외출장", 6.0)
    assert alerts(config) == [*FLAGGED, "E010|2025-06-03"]


def test_a_database_table_and_a_file_drop_merge(tmp_path: Path) -> None:
    db = tmp_path / "hr.sqlite"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE ot (emp_no TEXT, dept TEXT, ymd TEXT, hrs TEXT, upd TEXT)")
        conn.executemany(
            "INSERT INTO ot VALUES (?, ?, ?, ?, ?)",
            [
                ("E001", "재무과", "20250602", "3", "2025-06-05 10:00:00"),
                ("E010 ", "재무과", "2025-06-02", "4", "2025-06-05 10:00:00"),
                ("E010", "재무과", None, "4", "2025-06-05 10:00:00"),
            ],
        )
    sql_source = f"""
[sources.overtime]
kind = "sql"
url = "sqlite:///{db}"
table = "ot"
watermark = "upd"
dataset = "attendance"
merge_on = ["employee_id", "work_date"]

[sources.overtime.columns]
employee_id = "emp_no"
department = "dept"
work_date = "ymd"
overtime_hours = "hrs"
"""
    config = make_city(tmp_path / "city", LEAVE_SOURCE, sql_source)
    drop(config, "leave", "leave.csv", LEAVE, "cp949")
    summary = run(config)
    assert {s.name: s.quarantined for s in summary.sources}["overtime"] == 1
    got = records(config)
    assert got["E001|2025-06-02"] == MERGED["E001|2025-06-02"]
    assert got["E010|2025-06-02"] == MERGED["E010|2025-06-02"]
    assert alerts(config) == FLAGGED


def test_built_keys_use_the_typed_values() -> None:
    attendance = datasets.get("attendance")
    frame = pd.DataFrame(
        {
            "employee_id": pd.Series(["E1", "E|2", None], dtype="string"),
            "work_date": pd.to_datetime(["2025-03-12", "2025-03-13", "2025-03-14"]),
        }
    )
    keys = list(merge_keys(frame, attendance, ["employee_id", "work_date"]))
    assert keys[:2] == ["E1|2025-03-12", "E%7C2|2025-03-13"]
    assert pd.isna(keys[2])


def test_complete_fills_only_empty_values() -> None:
    new = pd.DataFrame(
        {"k": ["a", "b"], "x": pd.Series([None, "n"], dtype="string"), "y": [1.0, None]}
    )
    old = pd.DataFrame(
        {
            "k": ["b", "a", "c"],
            "x": pd.Series(["o", "p", "q"], dtype="string"),
            "y": [7.0, 8.0, 9.0],
        }
    )
    out = complete(new, old, "k")
    assert out["x"].tolist() == ["p", "n"] and out["y"].tolist() == [1.0, 7.0]
    assert out["x"].dtype == new["x"].dtype


# Config problems, located -------------------------------------------------------------------


def problems_of(tmp_path: Path, *sections: str) -> list[str]:
    config = make_city(tmp_path, *sections)
    with pytest.raises(ProblemsError) as info:
        load_config(config)
    return [str(p) for p in info.value.problems]


def test_every_source_of_a_merged_dataset_needs_the_same_merge_on(tmp_path: Path) -> None:
    other = LEAVE_SOURCE.replace(
        'merge_on = ["employee_id", "work_date"]', 'merge_on = ["work_date", "employee_id"]'
    )
    (found,) = problems_of(tmp_path / "a", OVERTIME_SOURCE, other)
    assert "sources.leave.merge_on: every source of one dataset must merge on the same" in found
    assert 'merge_on = ["employee_id", "work_date"]' in found
    without = LEAVE_SOURCE.replace('merge_on = ["employee_id", "work_date"]\n', "")
    (found,) = problems_of(tmp_path / "b", OVERTIME_SOURCE, without)
    assert "config.toml:24: sources.leave: dataset attendance is merged on" in found
    assert "has no merge_on" in found


def test_merge_on_columns_must_be_given_and_known(tmp_path: Path) -> None:
    unmapped = LEAVE_SOURCE.replace('work_date = "근무일자"\n', "")
    (found,) = problems_of(tmp_path / "a", OVERTIME_SOURCE, unmapped)
    assert "sources.leave.columns.work_date: merge_on column work_date is not given" in found
    typo = LEAVE_SOURCE.replace('"work_date"]', '"work_day"]')
    found_all = problems_of(tmp_path / "b", typo)
    assert any(
        "sources.leave.merge_on: 'work_day' is not a column of dataset attendance" in p
        and "did you mean 'work_date'?" in p
        for p in found_all
    )
    keyed = LEAVE_SOURCE.replace('"work_date"]', '"record_id"]')
    assert any("record_id is the record key" in p for p in problems_of(tmp_path / "c", keyed))
    content = LEAVE_SOURCE.replace('encoding = "auto"', 'key = "content"')
    assert any("sources.leave.key" in p for p in problems_of(tmp_path / "d", content))
    reference = """
[sources.hr2]
kind = "files"
path = "drops/employees"
dataset = "employees"
merge_on = ["name"]
"""
    assert any(
        "sources.hr2.merge_on: dataset employees is reference data" in p
        for p in problems_of(tmp_path / "e", reference)
    )


def test_backtest_from_sources_merges_the_pieces_in_memory(tmp_path: Path) -> None:
    config = make_city(tmp_path, OVERTIME_SOURCE, LEAVE_SOURCE)
    drop(config, "overtime", "ot.csv", OVERTIME)
    drop(config, "leave", "leave.csv", LEAVE, "cp949")
    # Two files of one source: the later one's rows complete the earlier one's.
    drop(
        config,
        "leave",
        "leave-2.csv",
        "직원번호,근무일자,휴가구분,출장구분\nE001,2025-06-03,,관내출장\n",
    )
    frames = replay.from_sources(load_config(config), ["attendance"])
    frame = frames.get("attendance").set_index("record_id")
    assert frame.index.is_unique and len(frame) == 5
    assert frame.loc["E001|2025-06-03", "trip_type"] == "관내출장"
    assert frame.loc["E001|2025-06-03", "overtime_hours"] == 2.0
    assert frame.loc["E001|2025-06-02", "leave_type"] == "연가"
    assert frame.loc["E001|2025-06-02", "department"] == "재무과"


def test_datasets_without_merge_on_read_nothing_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = OVERTIME_SOURCE.replace('merge_on = ["employee_id", "work_date"]\n', "")
    plain = plain.replace(
        'work_date = "근무일"', 'work_date = "근무일"\nrecord_id = ["직원번호", "근무일"]'
    )
    config = make_city(tmp_path, plain)
    drop(config, "overtime", "ot.csv", OVERTIME)

    def refuse(*args: object) -> None:
        raise AssertionError("a dataset without merge_on was completed from the store")

    monkeypatch.setattr(PullStage, "complete", refuse)
    summary = run(config)
    assert summary.ok and len(records(config)) == 3
