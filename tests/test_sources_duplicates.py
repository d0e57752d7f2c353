"""Duplicate primary keys in one batch (issue 9, messy sources).

A source may hold a key twice in one pull: a change-log table, or a CSV file that repeats a
payment with a corrected amount. Within a batch the last row read is the record
(naebu.connectors.base.keep_last), as the record history keeps it: the rules, the stored record and
the alert all see that version, one alert per key and not two, and a key whose last version
is not flagged raises nothing. Tested through the pipeline both when a rule judges the
history (its first run) and when it judges each batch (every run after).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from minicity import (
    NOW,
    create_payments,
    history_query,
    insert_payments,
    make_city,
    payment,
    query,
    run,
)

LATER = "2025-06-11 10:00:00"


def _alerts(config: Path) -> dict[str, str]:
    return dict(query(config, "SELECT record_key, message FROM alerts ORDER BY id"))  # type: ignore[arg-type]


def _records(config: Path) -> dict[str, float]:
    return dict(history_query(config, "SELECT payment_id, amount FROM rec_payments"))  # type: ignore[arg-type]


def test_repeated_keys_in_one_sql_batch_keep_the_last_row(tmp_path: Path) -> None:
    config = make_city(tmp_path / "city")
    url = f"sqlite:///{tmp_path / 'city' / 'city.sqlite'}"
    create_payments(url, [payment(1, 10)])
    run(config)  # PAY-BIG has judged the history once: from now on it judges each batch
    insert_payments(
        url,
        [
            payment(9, 5_000_000, LATER),  # flagged, then corrected to 10: no alert
            payment(9, 10, LATER),
            payment(8, 10, LATER),  # corrected upwards: one alert, on the last amount
            payment(8, 6_000_000, LATER),
            payment(7, 7_000_000, LATER),  # flagged twice: one alert, on the last amount
            payment(7, 7_500_000, LATER),
        ],
    )
    summary = run(config, now=NOW + timedelta(hours=1))
    payments = {s.name: s for s in summary.sources}["payments"]
    assert payments.rows_read == 7  # the boundary row P-00001 again, and all six rows
    assert summary.findings["PAY-BIG"] == 2 and summary.new_alerts["PAY-BIG"] == 2
    assert _records(config) == {
        "P-00001": 10.0,
        "P-00009": 10.0,
        "P-00008": 6_000_000.0,
        "P-00007": 7_500_000.0,
    }
    assert _alerts(config) == {
        "P-00008": "지출 P-00008: 6,000,000원",
        "P-00007": "지출 P-00007: 7,500,000원",
    }
    # One digest line per alert and recipient.
    assert query(config, "SELECT count(*) FROM deliveries WHERE kind = 'new'") == [(6,)]


def test_repeated_keys_in_a_csv_file_keep_the_last_row_on_a_rules_first_run(
    tmp_path: Path,
) -> None:
    config = make_city(tmp_path / "city", files=True)
    create_payments(f"sqlite:///{tmp_path / 'city' / 'city.sqlite'}", [])
    (tmp_path / "city" / "drops" / "pay.csv").write_text(
        "payment_id,department,official_id,amount,paid_on\n"
        "F-1,재무과,E001,5000000,2025-06-02\n"
        "F-2,재무과,E001,2000000,2025-06-02\n"
        'F-1,재무과,E001,"10",2025-06-02\n'
        "F-2,재무과,E001,3000000,2025-06-02\n",
        encoding="utf-8",
    )
    summary = run(config)
    drops = {s.name: s for s in summary.sources}["drops"]
    assert drops.rows_read == 4 and drops.quarantined == 0
    assert _records(config) == {"F-1": 10.0, "F-2": 3_000_000.0}
    assert _alerts(config) == {"F-2": "지출 F-2: 3,000,000원"}
    # Read again (nothing new): nothing raised again.
    again = run(config, now=NOW + timedelta(hours=1))
    assert sum(again.new_alerts.values()) == 0 and len(_alerts(config)) == 1
