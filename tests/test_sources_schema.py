"""A source schema that changes between pulls (issue 9, messy sources).

- A column added to the source is ignored (it is not mapped).
- A mapped column renamed or dropped, or a required column missing from a CSV drop, stops
  that source with one line naming the source (and the file) and the column, with a
  did-you-mean hint; the other sources go on. Its watermark stays, and a CSV file that lacks
  the column is not taken, so once the mapping or the file is fixed the next pull reads every
  row that arrived meanwhile: nothing lost, nothing alerted twice.
"""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

from minicity import NOW, create_payments, insert_payments, make_city, payment, query, run

HEADER = "payment_id,department,official_id,amount,paid_on"


def _by_name(summary: object) -> dict[str, object]:
    return {s.name: s for s in summary.sources}  # type: ignore[attr-defined]


def _alert_keys(config: Path) -> list[str]:
    return [str(k) for (k,) in query(config, "SELECT record_key FROM alerts ORDER BY record_key")]


def _watermark(config: Path) -> str:
    return str(query(config, "SELECT value FROM watermarks WHERE source = 'payments'")[0][0])


def test_sql_columns_added_renamed_and_dropped_between_pulls(tmp_path: Path) -> None:
    folder = tmp_path / "city"
    config = make_city(folder, files=True)
    city = folder / "city.sqlite"
    url = f"sqlite:///{city}"
    create_payments(url, [payment(1, 5_000_000)])
    assert run(config).ok

    # Added: a column nobody mapped. Ignored; the new row is read and judged.
    with sqlite3.connect(city) as db:
        db.execute("ALTER TABLE pay ADD COLUMN memo TEXT")
        db.execute(
            "INSERT INTO pay VALUES ('P-00002', '재무과', 'E001', 2000000, '2025-06-02', "
            "'2025-06-11 10:00:00', '새 컬럼')"
        )
    second = run(config, now=NOW + timedelta(hours=1))
    assert second.ok and _by_name(second)["payments"].rows_read == 2  # type: ignore[attr-defined]
    assert _alert_keys(config) == ["P-00001", "P-00002"]
    mark = _watermark(config)

    # Renamed: amt -> pay_amt. The source stops with one line; the CSV source goes on.
    with sqlite3.connect(city) as db:
        db.execute("ALTER TABLE pay RENAME COLUMN amt TO pay_amt")
        db.execute(
            "INSERT INTO pay VALUES ('P-00003', '재무과', 'E001', 3000000, '2025-06-02', "
            "'2025-06-12 10:00:00', NULL)"
        )
    (folder / "drops" / "a.csv").write_text(
        f"{HEADER}\nF-1,재무과,E001,4000000,2025-06-03\n", encoding="utf-8"
    )
    third = run(config, now=NOW + timedelta(hours=2))
    sources = _by_name(third)
    error = sources["payments"].error  # type: ignore[attr-defined]
    assert error == (
        "source payments: column 'amt' (mapped to amount) is not in the source - "
        "did you mean 'pay_amt'?"
    )
    assert sources["drops"].error is None and sources["drops"].rows_read == 1  # type: ignore[attr-defined]
    assert third.status == "partial" and _watermark(config) == mark
    assert _alert_keys(config) == ["F-1", "P-00001", "P-00002"]

    # The mapping is fixed: the rows that arrived meanwhile are read, nothing twice.
    text = config.read_text(encoding="utf-8").replace('amount = "amt"', 'amount = "pay_amt"')
    config.write_text(text, encoding="utf-8")
    fourth = run(config, now=NOW + timedelta(hours=3))
    assert fourth.ok
    assert _alert_keys(config) == ["F-1", "P-00001", "P-00002", "P-00003"]
    assert query(config, "SELECT count(*), count(DISTINCT record_key) FROM alerts") == [(4, 4)]

    # Dropped: emp_no (mapped to official_id) goes. The source stops again, by name.
    with sqlite3.connect(city) as db:
        db.execute("ALTER TABLE pay DROP COLUMN emp_no")
    fifth = run(config, now=NOW + timedelta(hours=4))
    error = _by_name(fifth)["payments"].error  # type: ignore[attr-defined]
    assert error.startswith("source payments: column 'emp_no' (mapped to official_id) is not in")
    assert "\n" not in error


def test_csv_drops_whose_columns_change(tmp_path: Path) -> None:
    folder = tmp_path / "city"
    config = make_city(folder, files=True)
    url = f"sqlite:///{folder / 'city.sqlite'}"
    create_payments(url, [payment(1, 10)])
    drops = folder / "drops"
    (drops / "a.csv").write_text(f"{HEADER}\nF-1,재무과,E001,4000000,2025-06-03\n", "utf-8")
    # b: an extra column (ignored); c: the amount column renamed (a required column missing).
    (drops / "b.csv").write_text(
        f"{HEADER},비고\nF-2,재무과,E001,5000000,2025-06-03,메모\n", encoding="utf-8"
    )
    (drops / "c.csv").write_text(
        "payment_id,department,official_id,amt,paid_on\nF-3,재무과,E001,6000000,2025-06-03\n",
        encoding="utf-8",
    )
    (drops / "d.csv").write_text(f"{HEADER}\nF-4,재무과,E001,7000000,2025-06-03\n", "utf-8")
    insert_payments(url, [payment(5, 9_000_000, "2025-06-11 10:00:00")])
    first = run(config)
    sources = _by_name(first)
    error = sources["drops"].error  # type: ignore[attr-defined]
    assert error == (
        "source drops: c.csv: required column amount of dataset payments is not mapped; "
        'the file is not taken until fixed - add columns.amount = "<source column>"'
    )
    # The SQL source went on; the files before and after c.csv are taken, c.csv is not.
    assert sources["payments"].error is None  # type: ignore[attr-defined]
    assert _alert_keys(config) == ["F-1", "F-2", "F-4", "P-00005"]
    taken = sorted(
        str(p).rsplit("/", 1)[-1] for (p,) in query(config, "SELECT path FROM files_seen")
    )
    assert taken == ["a.csv", "b.csv", "d.csv"]

    # The publisher sends c.csv again with the right header: c is read, d not again.
    (drops / "c.csv").write_text(f"{HEADER}\nF-3,재무과,E001,6000000,2025-06-03\n", "utf-8")
    second = run(config, now=NOW + timedelta(hours=1))
    assert second.ok
    assert _alert_keys(config) == ["F-1", "F-2", "F-3", "F-4", "P-00005"]
    third = run(config, now=NOW + timedelta(hours=2))
    assert _by_name(third)["drops"].rows_read == 0  # type: ignore[attr-defined]
    assert len(_alert_keys(config)) == 5
