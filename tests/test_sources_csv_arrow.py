"""CSV drops parsed by Arrow (naebu.connectors.csv_arrow) give the very batches the ``csv``
module path gives: cells, dtypes, line numbers, quarantine reasons. Files Arrow would read
otherwise (ragged, blank or multi-line records, a cut quote, NULs, long cells) go to the
Python reader."""

from __future__ import annotations

import random
from pathlib import Path

import pandas as pd
import pytest

from naebu.connectors import csv_arrow, make_connector
from naebu.connectors.base import Batch, SourceState
from naebu.connectors.source_settings import SourceConfig

COLUMNS = {"approval_id": "승인번호", "approved_date": "승인일자", "amount": "승인금액"}
HEADER = "승인번호,승인일자,승인금액,비고\n"


def source(folder: Path, **options: object) -> SourceConfig:
    return SourceConfig(
        "cards", "files", "card_transactions", columns=dict(COLUMNS),
        formats={"approved_date": "%Y-%m-%d"},
        options={"path": str(folder), "chunk_size": 3, **options},
    )  # fmt: skip


def pull(src: SourceConfig, monkeypatch: pytest.MonkeyPatch, arrow: bool) -> list[Batch]:
    """The source's batches, with the Arrow path allowed or not; asserts which path read."""
    calls: list[bool] = []
    real = csv_arrow.read

    def read(*args: object) -> csv_arrow.Parsed | None:
        parsed = real(*args) if arrow else None  # type: ignore[arg-type]
        calls.append(parsed is not None)
        return parsed

    monkeypatch.setattr(csv_arrow, "read", read)
    batches = list(make_connector(src).pull(SourceState()))
    monkeypatch.setattr(csv_arrow, "read", real)
    pull.arrow_read = calls  # type: ignore[attr-defined]
    return batches


def assert_same(left: list[Batch], right: list[Batch]) -> None:
    assert len(left) == len(right)
    for a, b in zip(left, right, strict=True):
        pd.testing.assert_frame_equal(a.frame, b.frame, check_exact=True)
        assert list(a.frame.dtypes) == list(b.frame.dtypes)
        assert [(q.location, q.raw, q.reason) for q in a.quarantined] == [
            (q.location, q.raw, q.reason) for q in b.quarantined
        ]
        assert (a.rows_read, a.files, a.unmapped) == (b.rows_read, b.files, b.unmapped)


def both(folder: Path, monkeypatch: pytest.MonkeyPatch, **options: object) -> list[bool]:
    """Pull ``folder`` both ways, assert the batches are the same; which files Arrow read."""
    src = source(folder, **options)
    python = pull(src, monkeypatch, arrow=False)
    arrow = pull(src, monkeypatch, arrow=True)
    assert_same(python, arrow)
    return list(pull.arrow_read)  # type: ignore[attr-defined]


PLAIN = (
    HEADER
    + 'A1,2025-01-02,"56,300",\n'
    + 'A2,2025-02-30,"1,200",잘못된 날짜\n'  # quarantined: no such day
    + "A3,2025-01-03,미정,금액 미정\n"  # quarantined: not a number
    + 'A4,2025-01-04,"12,000원",""\n'
    + 'A5,2025-01-05,7000,"따옴표 ""안"" 값"\n'
    + "A1,2025-01-06,500,같은 키: 나중 것\n"
    + "A6, 2025-01-07 ,８００,전각 숫자\n"
)


def test_plain_file_is_read_by_arrow_to_the_same_batches(tmp_path, monkeypatch):
    (tmp_path / "a.csv").write_text(PLAIN, encoding="utf-8")
    (tmp_path / "b.csv").write_bytes(PLAIN.replace("\n", "\r\n").encode("cp949"))
    (tmp_path / "c.csv").write_bytes(b"\xef\xbb\xbf" + PLAIN.encode("utf-8"))
    (tmp_path / "d.csv").write_text("제목: 카드 승인내역\n\n" + PLAIN, encoding="utf-8")
    assert both(tmp_path, monkeypatch) == [True, True, True, True]


@pytest.mark.parametrize(
    "tail",
    [
        "A9,2025-01-09\n",  # short: padded
        "A9,2025-01-09,1,x,y\n",  # long: quarantined
        "A9,2025-01-09,1,x,,\n",  # empty cells past the header: trimmed
        "\n",  # blank line
        ",,,\n",  # a row of empty cells
        'A9,2025-01-09,"1\n2",x\n',  # a record over two lines
        'A9,2025-01-09,"31,5',  # cut inside a quote
        "A9,2025-01-09,1,a\x00b\n",  # NUL
        "A9,2025-01-09,1,a\rb\n",  # a lone carriage return
        "A9,2025-01-09,1," + "x" * 131_073 + "\n",  # a cell over the limit
    ],
)
def test_unusual_files_are_read_by_python(tmp_path, monkeypatch, tail):
    (tmp_path / "a.csv").write_text(PLAIN + tail, encoding="utf-8", newline="")
    assert both(tmp_path, monkeypatch) == [False]


def test_repeated_header_names_and_max_rows_go_to_python(tmp_path, monkeypatch):
    # 비고.2, 비고, 비고 -> 비고.2, 비고, 비고.2: a name twice in the frame
    header = HEADER.replace("비고", "비고.2,비고,비고")
    (tmp_path / "a.csv").write_text(header + "A1,2025-01-01,1,2,3,4\n")
    assert both(tmp_path, monkeypatch) == [False]
    (tmp_path / "a.csv").unlink()
    (tmp_path / "b.csv").write_text(PLAIN)
    assert both(tmp_path, monkeypatch, max_rows=5) == [False]
    assert both(tmp_path, monkeypatch, max_rows=8) == [True]


def test_a_file_over_max_bytes_goes_to_python(tmp_path, monkeypatch):
    (tmp_path / "a.csv").write_text(PLAIN)
    monkeypatch.setattr(csv_arrow, "MAX_BYTES", len(PLAIN.encode()) - 1)
    assert both(tmp_path, monkeypatch) == [False]


def test_header_rows_and_skip_rows(tmp_path, monkeypatch):
    (tmp_path / "a.csv").write_text('카드 승인내역,"2025년 1월, 2월"\n\n' + PLAIN)
    assert both(tmp_path, monkeypatch) == [True]
    assert both(tmp_path, monkeypatch, header_row=3) == [True]
    (tmp_path / "a.csv").unlink()
    (tmp_path / "b.csv").write_text("x\ny\n" + PLAIN)
    assert both(tmp_path, monkeypatch, skip_rows=2) == [True]


def test_random_quoting_reads_alike(tmp_path, monkeypatch):
    """Quotes anywhere (inside unquoted cells, text after a closing quote, doubled): where
    Arrow takes a file, its cells are the csv module's."""
    rng = random.Random(7)
    pieces = ["1", "a", 'a"b', '"a"b', '""', '"p""q"', " ", '"x,y"', "가", "\t", '"', ","]
    weights = [4, 4, 2, 2, 2, 2, 2, 2, 2, 2, 1, 1]
    for i in range(60):
        rows = []
        for n in range(1, 5):
            cells = ["".join(rng.choices(pieces, weights, k=rng.randint(0, 4))) for _ in range(2)]
            rows.append(f"K{n},2025-01-0{n}," + ",".join(cells))
        (tmp_path / f"f{i:02}.csv").write_text(HEADER + "\n".join(rows) + "\n")
    read = both(tmp_path, monkeypatch, chunk_size=50_000, header_row=1)
    assert any(read) and not all(read)
