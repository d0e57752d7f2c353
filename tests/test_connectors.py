"""The sql and files connectors against real databases and real files (no mocks)."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import sqlalchemy as sa
from services import mysql_url, pg_url, require_service, unique_name

import naebu.connectors
import naebu.connectors.files as files_connector
from naebu.connectors import (
    Batch,
    Connector,
    SourceError,
    SourceState,
    check_source,
    connector_kinds,
    make_connector,
    register,
)
from naebu.connectors.source_settings import SourceConfig
from naebu.core import datasets

SEOUL = Path("/work/shared/data/real/seoul_expense_2018.csv")


def pull(source: SourceConfig, state: SourceState | None = None) -> list[Batch]:
    return list(make_connector(source).pull(state or SourceState()))


def commit(batches: list[Batch], state: SourceState) -> SourceState:
    """What the pipeline does once batches are committed."""
    for b in batches:
        if b.watermark is not None:
            state.watermark = b.watermark
        state.seen_checksums.update(f.checksum for f in b.files)
    return state


def frame_of(batches: list[Batch]) -> pd.DataFrame:
    return pd.concat([b.frame for b in batches], ignore_index=True)


def quarantined(batches: list[Batch]) -> list:
    return [q for b in batches for q in b.quarantined]


# Registry and checks --------------------------------------------------------------------


def test_builtin_kinds_are_registered():
    kinds = connector_kinds()
    assert kinds["sql"] is naebu.connectors.sql.SqlConnector
    assert kinds["files"] is naebu.connectors.files.FilesConnector


def test_duplicate_kind_is_refused_with_a_clear_message():
    class Other(Connector):
        kind = "sql"

        def pull(self, state: SourceState) -> Iterator[Batch]:
            yield from ()

    with pytest.raises(
        ValueError, match="kind 'sql' is already registered by naebu.connectors.sql"
    ):
        register(Other)


def test_unknown_kind_and_unknown_option_get_did_you_mean():
    [p] = check_source(SourceConfig("s", "sqll", "payments"), "config.toml")
    assert "unknown kind 'sqll'" in str(p) and "did you mean 'sql'" in str(p)
    src = SourceConfig("s", "sql", "payments", options={"url": "sqlite:///x.db", "tabel": "t"})
    messages = [str(p) for p in check_source(src, "config.toml")]
    assert any("unknown option 'tabel'" in m and "did you mean 'table'" in m for m in messages)
    assert any("exactly one of table and query" in m for m in messages)


def test_sql_and_files_option_checks():
    bad_sql = SourceConfig(
        "s",
        "sql",
        "payments",
        options={"url": "nosuchdb://x", "query": "DELETE FROM t", "chunk_size": 0},
    )
    text = "\n".join(str(p) for p in check_source(bad_sql, "c.toml"))
    assert "not a usable database URL" in text
    assert "query must be a SELECT" in text
    assert "chunk_size must be a whole number >= 1" in text
    bad_files = SourceConfig(
        "f", "files", "payments", options={"encoding": "latin9", "delimiter": ";;"}
    )
    text = "\n".join(str(p) for p in check_source(bad_files, "c.toml"))
    assert "missing option path" in text
    assert "unknown encoding 'latin9'" in text
    assert "delimiter must be one character" in text
    good = SourceConfig(
        "f",
        "files",
        "card_transactions",
        columns={"approved_date": ["year", "month", "day"]},  # type: ignore[dict-item]
        options={"path": "/tmp", "pattern": ["*.csv", "*.xlsx"], "sheet": 1},
    )
    assert check_source(good, "c.toml") == []


def test_unknown_kind_at_make_connector_is_a_source_error():
    with pytest.raises(SourceError, match="source s: unknown kind 'fils'.*did you mean 'files'"):
        make_connector(SourceConfig("s", "fils", "payments"))


# SQL sources ----------------------------------------------------------------------------

COLUMNS = {"payment_id": "pay_no", "amount": "amt", "paid_on": "paid", "updated_at": "changed"}
T0 = dt.datetime(2025, 3, 1, 9, 0, 0)


def rows(start: int, count: int, changed: dt.datetime) -> list[dict]:
    return [
        {
            "pay_no": f"P-{i:03d}",
            "amt": f"{i * 1000:,}",
            "paid": "2025-03-01",
            "changed": changed + dt.timedelta(minutes=i // 2),  # pairs share a timestamp
            "dept": "재무과",
        }
        for i in range(start, start + count)
    ]


@pytest.fixture(params=["sqlite", "postgresql", "mariadb"])
def db(request, tmp_path) -> Iterator[tuple[sa.Engine, sa.Table, str]]:
    """A fresh payments table (unique name) in each backend; dropped afterwards."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'fin.db'}"
    elif request.param == "postgresql":
        url = require_service("PostgreSQL", pg_url())
    else:
        url = require_service("MariaDB/MySQL", mysql_url())
    engine = sa.create_engine(url)
    table = sa.Table(
        unique_name("fin_payment"),
        sa.MetaData(),
        sa.Column("pay_no", sa.String(20)),
        sa.Column("amt", sa.String(30)),  # text on purpose: the messy values of a real system
        sa.Column("paid", sa.String(30)),
        sa.Column("changed", sa.DateTime()),  # a real TIMESTAMP (text in SQLite)
        sa.Column("dept", sa.String(30)),
    )
    table.create(engine)
    try:
        yield engine, table, url
    finally:
        table.drop(engine)
        engine.dispose()


def insert(engine: sa.Engine, table: sa.Table, values: list[dict]) -> None:
    with engine.begin() as conn:
        conn.execute(table.insert(), values)


def sql_source(url: str, **options) -> SourceConfig:
    return SourceConfig(
        "fin", "sql", "payments", columns=dict(COLUMNS), options={"url": url, **options}
    )


def test_sql_table_whole_with_quarantine(db):
    engine, table, url = db
    insert(engine, table, rows(1, 4, T0))
    insert(
        engine,
        table,
        [
            {"pay_no": "P-900", "amt": "미정", "paid": "2025-03-01", "changed": T0},
            {"pay_no": "P-901", "amt": "1", "paid": "2025-02-30", "changed": T0},
            {"pay_no": None, "amt": "1", "paid": "2025-03-01", "changed": T0},
        ],
    )
    batches = pull(sql_source(url, table=table.name, chunk_size=100))
    assert len(batches) == 1 and batches[0].watermark is None  # no watermark option
    frame = batches[0].frame
    assert frame["payment_id"].tolist() == ["P-001", "P-002", "P-003", "P-004"]
    assert frame["amount"].tolist() == [1000, 2000, 3000, 4000]
    assert list(frame.columns) == naebu.connectors.base.DATASETS["payments"].column_names
    reasons = {q.location: q.reason for q in quarantined(batches)}
    assert reasons == {
        f"table {table.name}, pay_no=P-900": "amount: '미정' is not a number",
        f"table {table.name}, pay_no=P-901": "paid_on: '2025-02-30' is not a valid date",
        f"table {table.name}, row 7": "payment_id: missing",
    }
    assert batches[0].rows_read == 7


def test_sql_incremental_watermark_is_inclusive(db):
    engine, table, url = db
    insert(engine, table, rows(0, 6, T0))  # changed: 9:00, 9:00, 9:01, 9:01, 9:02, 9:02
    source = sql_source(url, table=table.name, watermark="changed")
    first = pull(source)
    assert len(frame_of(first)) == 6
    state = commit(first, SourceState())
    assert dt.datetime.fromisoformat(state.watermark) == T0 + dt.timedelta(minutes=2)

    # A row committed late with the last timestamp, a changed row, and a new row.
    insert(
        engine, table, [rows(10, 1, T0)[0] | {"pay_no": "P-LATE", "changed": T0.replace(minute=2)}]
    )
    with engine.begin() as conn:
        conn.execute(
            table.update()
            .where(table.c.pay_no == "P-000")
            .values(amt="999", changed=T0 + dt.timedelta(hours=1))
        )
    insert(engine, table, rows(20, 1, T0 + dt.timedelta(hours=2)))
    second = pull(source, state)
    ids = frame_of(second)["payment_id"].tolist()
    assert ids == ["P-004", "P-005", "P-LATE", "P-000", "P-020"]  # boundary rows come again
    assert frame_of(second).set_index("payment_id").loc["P-000", "amount"] == 999
    commit(second, state)
    assert dt.datetime.fromisoformat(state.watermark) == T0 + dt.timedelta(hours=2, minutes=10)
    third = pull(source, state)
    assert frame_of(third)["payment_id"].tolist() == ["P-020"]


def test_sql_chunks_carry_increasing_watermarks(db):
    engine, table, url = db
    insert(engine, table, rows(0, 10, T0))
    batches = pull(sql_source(url, table=table.name, watermark="changed", chunk_size=3))
    assert [len(b.frame) for b in batches] == [3, 3, 3, 1]
    marks = [dt.datetime.fromisoformat(b.watermark) for b in batches]
    assert marks == sorted(marks) and marks[-1] == T0 + dt.timedelta(minutes=4)
    assert sum(b.rows_read for b in batches) == 10


def test_sql_query_source_with_watermark(db):
    engine, table, url = db
    insert(engine, table, rows(1, 5, T0))
    query = f"SELECT pay_no, amt, paid, changed FROM {table.name} WHERE dept = '재무과';"
    source = sql_source(url, query=query, watermark="changed", chunk_size=2)
    first = pull(source)
    assert frame_of(first)["payment_id"].tolist() == [f"P-00{i}" for i in range(1, 6)]
    state = commit(first, SourceState())
    insert(engine, table, rows(6, 1, T0 + dt.timedelta(days=1)))
    second = pull(source, state)
    assert frame_of(second)["payment_id"].tolist() == ["P-004", "P-005", "P-006"]
    loc = quarantined(
        pull(
            sql_source(
                url,
                query="SELECT 'X' AS pay_no, 'bad' AS amt, '2025-03-01' AS paid, NULL AS changed",
            )
        )
    )[0].location
    assert loc == "query of source fin, pay_no=X"


def test_sql_reference_dataset_is_read_whole_every_pull(db):
    engine, table, url = db
    insert(engine, table, rows(1, 3, T0))
    source = SourceConfig(
        "vendors",
        "sql",
        "vendors",
        columns={"vendor_id": "pay_no", "name": "dept", "updated_at": "changed"},
        options={"url": url, "table": table.name, "watermark": "changed", "chunk_size": 2},
    )
    first = pull(source)
    assert len(frame_of(first)) == 3 and all(b.watermark is None for b in first)
    second = pull(source, commit(first, SourceState()))
    assert len(frame_of(second)) == 3


def test_sql_source_errors(db):
    engine, table, url = db
    insert(engine, table, rows(1, 1, T0))
    with pytest.raises(SourceError, match=r"source fin: column 'amout' .*did you mean 'amt'"):
        pull(_with(url, table.name, amount="amout"))
    with pytest.raises(SourceError, match=r"source fin: table .*not found.*did you mean"):
        pull(sql_source(url, table=table.name + "x"))
    with pytest.raises(SourceError, match="watermark column 'chnaged' is not in the source"):
        pull(sql_source(url, table=table.name, watermark="chnaged"))


def _with(url: str, table: str, **columns: str) -> SourceConfig:
    source = sql_source(url, table=table)
    source.columns.update(columns)
    return source


def test_sql_empty_table_yields_one_empty_batch(db):
    _, table, url = db
    [batch] = pull(sql_source(url, table=table.name, watermark="changed"))
    assert batch.frame.empty and batch.rows_read == 0 and batch.watermark is None
    assert list(batch.frame.columns)[0] == "payment_id"


def test_sql_unreachable_database_is_a_source_error(tmp_path):
    url = "postgresql+psycopg2://nobody:secret@127.0.0.1:1/none"
    with pytest.raises(SourceError) as info:
        pull(sql_source(url, table="t"))
    assert "secret" not in str(info.value) and "source fin:" in str(info.value)
    assert "\n" not in str(info.value)


# File drops -----------------------------------------------------------------------------

CARD_COLUMNS = {
    "approval_id": "승인번호",
    "approved_date": "승인일자",
    "merchant_name": "가맹점명",
    "amount": "금액",
}
HEADER = "승인번호,승인일자,가맹점명,금액\n"


def files_source(folder: Path, **options) -> SourceConfig:
    return SourceConfig(
        "cards",
        "files",
        "card_transactions",
        columns=dict(CARD_COLUMNS),
        options={"path": str(folder), **options},
    )


def test_files_in_mixed_encodings(tmp_path, monkeypatch):
    (tmp_path / "a-utf8.csv").write_text(HEADER + 'A1,2025-03-01,한우마을,"12,000"\n', "utf-8")
    (tmp_path / "b-bom.csv").write_text(HEADER + "B1,2025.03.02,（주）참치,5000원\n", "utf-8-sig")
    (tmp_path / "c-cp949.csv").write_bytes((HEADER + "C1,20250303,맛있는집,7000\n").encode("cp949"))
    (tmp_path / "d-bad.csv").write_bytes(HEADER.encode() + b"D1,\xff\xfe\xff,x,1\n")
    (tmp_path / "e-utf8.csv").write_text(HEADER + "E1,2025-03-05,끝집,1\n", "utf-8")
    batches = pull(files_source(tmp_path))
    frame = frame_of(batches)
    assert frame["approval_id"].tolist() == ["A1", "B1", "C1", "E1"]
    assert frame["merchant_name"].tolist() == ["한우마을", "(주)참치", "맛있는집", "끝집"]
    assert frame["amount"].tolist() == [12000, 5000, 7000, 1]
    [bad] = quarantined(batches)
    assert bad.location == "d-bad.csv" and "cannot decode the file" in bad.reason
    assert "utf-8" in bad.reason and "cp949" in bad.reason
    taken = [Path(f.path).name for b in batches for f in b.files]
    assert taken == ["a-utf8.csv", "b-bom.csv", "c-cp949.csv", "d-bad.csv", "e-utf8.csv"]
    # The undecodable file is recorded as taken, so it is not retried forever; taken files are
    # recognised by their checksum alone, not decoded again on every run.
    decoded: list[str] = []
    real = files_connector.decoding
    monkeypatch.setattr(
        files_connector, "decoding", lambda path, enc: decoded.append(path.name) or real(path, enc)
    )
    assert pull(files_source(tmp_path), commit(batches, SourceState())) == []
    assert decoded == []
    (tmp_path / "f-new.csv").write_text(HEADER + "F1,2025-03-06,새집,2\n", "utf-8")
    assert frame_of(pull(files_source(tmp_path), commit(batches, SourceState())))[
        "approval_id"
    ].tolist() == ["F1"]
    assert decoded == ["f-new.csv"]


def test_explicit_encoding(tmp_path):
    (tmp_path / "x.csv").write_bytes((HEADER + "C1,20250303,맛있는집,7000\n").encode("euc-kr"))
    assert (
        frame_of(pull(files_source(tmp_path, encoding="euc-kr")))["merchant_name"][0] == "맛있는집"
    )
    [batch] = pull(files_source(tmp_path, encoding="utf-8"))
    assert "cannot decode the file (utf-8:" in batch.quarantined[0].reason


def test_file_taken_once_and_new_file_next_pull(tmp_path):
    (tmp_path / "card-2025-01.csv").write_text(HEADER + "A1,2025-01-02,가게,100\n", "utf-8")
    state = commit(pull(files_source(tmp_path)), SourceState())
    assert len(state.seen_checksums) == 1
    assert pull(files_source(tmp_path), state) == []
    shutil.copy(tmp_path / "card-2025-01.csv", tmp_path / "card-2025-01 (copy).csv")
    (tmp_path / "card-2025-02.csv").write_text(HEADER + "B1,2025-02-02,가게,200\n", "utf-8")
    batches = pull(files_source(tmp_path), state)
    assert frame_of(batches)["approval_id"].tolist() == ["B1"]  # the renamed copy is not retaken
    commit(batches, state)
    (tmp_path / "card-2025-01.csv").write_text(HEADER + "A1,2025-01-02,가게,150\n", "utf-8")
    changed = pull(files_source(tmp_path), state)
    assert frame_of(changed)["amount"].tolist() == [150]  # new content: taken again


def test_empty_files_are_taken_without_error(tmp_path):
    (tmp_path / "a-empty.csv").write_bytes(b"")
    (tmp_path / "b-header.csv").write_text(HEADER, "utf-8")
    batches = pull(files_source(tmp_path))
    width = len(datasets.get("card_transactions").columns)
    assert [(b.rows_read, len(b.frame.columns)) for b in batches] == [(0, width), (0, width)]
    assert [f.rows for b in batches for f in b.files] == [0, 0]
    assert quarantined(batches) == []


def test_file_line_keys_locations_and_chunks(tmp_path):
    content = (
        "가맹점명,금액,일자\n"  # no approval number at all
        "가게1,100,2025-01-01\n"  # line 2
        "\n"  # line 3: blank, not a row
        '"여러\n줄 가게",200,2025-01-02\n'  # lines 4-5
        "가게3,미정,2025-01-03\n"  # line 6
        "가게4,400,2025-01-04,extra\n"  # line 7: one cell too many
        "가게5,500\n"  # line 8: short, padded, date missing
        "가게6,600,2025-01-06\n"  # line 9
    )
    (tmp_path / "d.csv").write_text(content, "utf-8")
    source = SourceConfig(
        "disclosure",
        "files",
        "card_transactions",
        columns={"merchant_name": "가맹점명", "amount": "금액", "approved_date": "일자"},
        options={"path": str(tmp_path), "chunk_size": 2},
    )
    batches = pull(source)
    assert len(batches) > 1 and [len(b.files) for b in batches][-1] == 1
    assert all(not b.files for b in batches[:-1])
    assert frame_of(batches)["approval_id"].tolist() == ["d.csv:2", "d.csv:4", "d.csv:9"]
    assert frame_of(batches)["merchant_name"][1] == "여러\n줄 가게"
    reasons = {q.location: q.reason for q in quarantined(batches)}
    assert reasons == {
        "d.csv:6": "amount: '미정' is not a number",
        "d.csv:7": "line has 4 cells but the header has 3",
        "d.csv:8": "approved_date: missing",
    }
    assert sum(b.rows_read for b in batches) == 6 == batches[-1].files[0].rows


def test_xlsx_and_skip_rows(tmp_path):
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "승인내역"
    ws.append(["법인카드 승인 내역 (2025년 3월)"])  # a title line above the header
    ws.append(["승인번호", "승인일자", "가맹점명", "금액", "시각"])
    ws.append([1001, dt.datetime(2025, 3, 1), "한우마을", 12000.0, dt.time(19, 30)])
    ws.append(["1002", "2025-02-30", "참치", "미정", "1930"])
    ws.append([None, None, None, None, None])
    ws.append(["1003", "2025.03.03", "  국밥 ", 8000, "12:05"])
    book.save(tmp_path / "cards.xlsx")
    source = files_source(tmp_path, pattern="*.xlsx", sheet="승인내역", skip_rows=1)
    source.columns["approved_time"] = "시각"
    batches = pull(source)
    frame = frame_of(batches)
    assert frame["approval_id"].tolist() == ["1001", "1003"]
    assert frame["approved_date"].tolist() == [
        pd.Timestamp("2025-03-01"),
        pd.Timestamp("2025-03-03"),
    ]
    assert frame["approved_time"].tolist() == [pd.Timedelta("19:30:00"), pd.Timedelta("12:05:00")]
    assert frame["merchant_name"].tolist() == ["한우마을", "국밥"]
    [q] = quarantined(batches)
    assert q.location == "cards.xlsx:4"
    assert (
        q.reason
        == "approved_date: '2025-02-30' is not a valid date; amount: '미정' is not a number"
    )
    with pytest.raises(SourceError, match="cards.xlsx has no sheet '시트1'"):
        pull(files_source(tmp_path, pattern="*.xlsx", sheet="시트1"))


def test_broken_xlsx_is_one_quarantined_entry(tmp_path):
    (tmp_path / "broken.xlsx").write_bytes(b"not a zip")
    [batch] = pull(files_source(tmp_path, pattern="*.xlsx"))
    assert batch.quarantined[0].location == "broken.xlsx"
    assert "not a readable .xlsx workbook" in batch.quarantined[0].reason
    assert batch.files[0].rows == 0


def test_missing_mapped_column_in_a_file_is_a_source_error_and_file_not_taken(tmp_path):
    (tmp_path / "x.csv").write_text("승인번호,승인일,가맹점명,금액\nA,2025-01-01,a,1\n", "utf-8")
    with pytest.raises(
        SourceError,
        match=r"source cards: x\.csv: column '승인일자'.*not taken.*did you mean '승인일'",
    ):
        pull(files_source(tmp_path))
    with pytest.raises(SourceError, match="folder .*nowhere not found"):
        pull(files_source(tmp_path / "nowhere"))


def test_utf8_check_streams_past_the_first_block(tmp_path):
    # Valid UTF-8 for over a megabyte, then one CP949 line: the file as a whole is CP949-only
    # if the tail is; here the tail is invalid in both, so the whole file is refused.
    filler = "".join(f"A{i},2025-01-01,가게,1\n" for i in range(60_000))
    (tmp_path / "big.csv").write_bytes((HEADER + filler).encode() + b"Z,2025-01-01,\xff,1\n")
    [batch] = pull(files_source(tmp_path))
    assert "cannot decode" in batch.quarantined[0].reason and batch.frame.empty


@pytest.mark.skipif(not SEOUL.exists(), reason=f"{SEOUL} absent: /work/shared is not mounted")
def test_real_seoul_expense_file_every_row_accounted_for(tmp_path):
    shutil.copy(SEOUL, tmp_path / SEOUL.name)
    source = SourceConfig(
        "seoul",
        "files",
        "card_transactions",
        columns={
            "department": "1소속부서",
            "payment_method": "결제방법",
            "amount": "집행금액",
            "purpose": "집행목적",
            "merchant_address": "집행지주소",
            "merchant_name": "집행지명",
            "approved_date": ["year", "month", "day"],  # type: ignore[dict-item]
            "approved_time": "time",
        },
        options={"path": str(tmp_path), "chunk_size": 5000},
    )
    batches = pull(source)
    with SEOUL.open(encoding="utf-8") as fh:
        data_rows = sum(1 for _ in fh) - 1
    frame, bad = frame_of(batches), quarantined(batches)
    assert len(frame) + len(bad) == data_rows == batches[-1].files[0].rows
    assert frame["approval_id"].is_unique
    assert frame["approved_date"].between("2016-01-01", "2018-12-31").all()
    assert frame["amount"].gt(0).all()
    assert not frame["merchant_name"].str.contains("（", regex=False).any()  # NFKC
    # Rows with no day (or no year) cannot be dated: quarantined with the reason, not lost.
    assert bad and all("approved_date" in q.reason for q in bad)
    assert all("" in (q.raw["year"], q.raw["day"]) for q in bad)


# Content keys: a re-delivered row is the same record ------------------------------------

DISCLOSURE = {
    "department": "부서",
    "merchant_name": "가맹점",
    "amount": "금액",
    "approved_date": "일자",
}


def disclosure_source(folder: Path, **options) -> SourceConfig:
    return SourceConfig(
        "disclosure",
        "files",
        "card_transactions",
        columns=dict(DISCLOSURE),
        options={"path": str(folder), "key": "content", **options},
    )


def test_content_keys_are_the_same_for_a_row_delivered_again(tmp_path):
    (tmp_path / "a.csv").write_text(
        "부서,가맹점,금액,일자\n"
        "회계과,한우마을,24000,2017-01-01\n"  # line 2
        "회계과,한우마을,24000,2017-01-01\n"  # line 3: the same row again in the same file
        "세무과,참치,30000,2017-01-02\n"  # line 4
        "세무과,참치,미정,2017-01-03\n",  # line 5: quarantined, located by its line
        "utf-8",
    )
    first = pull(disclosure_source(tmp_path))
    frame = frame_of(first)
    assert len(frame) == 2 and frame["approval_id"].is_unique
    assert all(k.startswith("c:") and len(k) == 22 for k in frame["approval_id"])
    assert [q.location for q in quarantined(first)] == ["a.csv:5"]
    assert sum(b.rows_read for b in first) == 4 == first[-1].files[0].rows
    state = commit(first, SourceState())

    # A later, overlapping file in other formats (24000.0, 2017.0/1.0/1.0 style written as a
    # full-width name with spaces): the overlap gets the keys it had, the new row a new key.
    (tmp_path / "b.csv").write_text(
        "부서,가맹점,금액,일자\n"
        ' 회계과 ,한우마을,"24,000.0",2017.1.1\n'
        "세무과,참치,30000원,20170102\n"
        "세무과,참치,31000,2017-01-02\n",
        "utf-8",
    )
    again = frame_of(pull(disclosure_source(tmp_path), state))
    assert again["approval_id"].tolist()[:2] == frame["approval_id"].tolist()
    assert again["approval_id"].iloc[2] not in set(frame["approval_id"])


def test_line_keys_make_a_repeated_row_two_records(tmp_path):
    (tmp_path / "a.csv").write_text(
        "부서,가맹점,금액,일자\n회계과,한우마을,24000,2017-01-01\n회계과,한우마을,24000,2017-01-01\n",
        "utf-8",
    )
    frame = frame_of(pull(disclosure_source(tmp_path, key="line")))
    assert frame["approval_id"].tolist() == ["a.csv:2", "a.csv:3"]


def test_content_key_option_checks():
    text = "\n".join(
        str(p) for p in check_source(disclosure_source(Path("/tmp"), key="hash"), "c.toml")
    )
    assert "unknown key 'hash'" in text and '"content"' in text
    keyed = disclosure_source(Path("/tmp"))
    keyed.columns["approval_id"] = "승인번호"
    text = "\n".join(str(p) for p in check_source(keyed, "c.toml"))
    assert 'key = "content" but approval_id is mapped' in text
    assert check_source(disclosure_source(Path("/tmp")), "c.toml") == []
