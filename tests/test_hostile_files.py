"""Hostile and broken drops (issue 17, points 7 and 8): a broken or bombed workbook, a CSV
with an oversized cell or cut inside a quote. Each is a file error or quarantined rows for
that file only: no traceback, the files after it are read, and read = loaded + quarantined."""

from __future__ import annotations

import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from naebu.connectors import make_connector
from naebu.connectors.base import Batch, SourceState
from naebu.connectors.source_settings import SourceConfig

COLUMNS = {"approval_id": "승인번호", "approved_date": "승인일자", "amount": "이용금액"}
HEADER = ["승인번호", "승인일자", "이용금액"]


def source(folder: Path, pattern: str = "*.csv", **options: object) -> SourceConfig:
    return SourceConfig(
        "cards", "files", "card_transactions", columns=dict(COLUMNS),
        options={"path": str(folder), "pattern": pattern, **options},
    )  # fmt: skip


def pull(src: SourceConfig) -> list[Batch]:
    return list(make_connector(src).pull(SourceState()))


def per_file(batches: list[Batch]) -> dict[str, tuple[int, int, int, int]]:
    """Per file name: (read, loaded, quarantined, times recorded as taken)."""
    out: dict[str, list[int]] = {}
    current: list[Batch] = []
    for batch in batches:
        current.append(batch)
        if batch.files:
            [taken] = batch.files
            name = Path(taken.path).name
            read = sum(b.rows_read for b in current)
            loaded = sum(len(b.frame) for b in current)
            bad = sum(len(b.quarantined) for b in current)
            out[name] = [read, loaded, bad, out.get(name, [0, 0, 0, 0])[3] + 1]
            current = []
    assert not current, "a batch after the last file's end"
    return {k: (v[0], v[1], v[2], v[3]) for k, v in out.items()}


def frame(batches: list[Batch]) -> pd.DataFrame:
    return pd.concat([b.frame for b in batches], ignore_index=True)


def reasons(batches: list[Batch]) -> list[tuple[str, str]]:
    return [(q.location, q.reason) for b in batches for q in b.quarantined]


# XLSX (point 7) -----------------------------------------------------------------------------


def workbook(path: Path, rows: list[list[object]]) -> Path:
    book = openpyxl.Workbook()
    ws = book.active
    ws.append(HEADER)
    for row in rows:
        ws.append(row)
    book.save(path)
    return path


def rewrite(path: Path, member: str, data: bytes, compress: int = zipfile.ZIP_DEFLATED) -> None:
    """Replace one member of the zip at ``path``."""
    with zipfile.ZipFile(path) as old:
        items = [(i, old.read(i.filename)) for i in old.infolist()]
    with zipfile.ZipFile(path, "w") as new:
        for info, content in items:
            if info.filename == member:
                new.writestr(member, data, compress_type=compress)
            else:
                new.writestr(info, content)
        if member not in [i.filename for i, _ in items]:
            new.writestr(member, data, compress_type=compress)


SHEET = "xl/worksheets/sheet1.xml"
NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'


def good_after(folder: Path) -> None:
    """A good workbook named after every broken one: it must still be read."""
    workbook(folder / "z_good.xlsx", [["A1", "2025-03-01", 12000], ["A2", "2025-03-02", 5000]])


def assert_refused_alone(folder: Path, bad: str, match: str, **options: object) -> None:
    batches = pull(source(folder, "*.xlsx", **options))
    files = per_file(batches)
    assert files["z_good.xlsx"] == (2, 2, 0, 1)
    assert frame(batches)["approval_id"].tolist() == ["A1", "A2"]
    read, loaded, quarantined, taken = files[bad]
    assert (loaded, quarantined, taken) == (0, 1, 1) and read == loaded + quarantined
    [(where, why)] = [r for r in reasons(batches) if r[0].startswith(bad)]
    assert where == bad and "\n" not in why
    assert match in why, why


def test_xlsx_malformed_sheet_xml_is_a_file_error(tmp_path):
    path = workbook(tmp_path / "a_bad.xlsx", [["A9", "2025-03-01", 1]])
    with zipfile.ZipFile(path) as z:
        xml = z.read(SHEET)
    rewrite(path, SHEET, xml[: len(xml) // 2] + b"<row><c><v>1</c></row>")  # cut and garbled
    good_after(tmp_path)
    assert_refused_alone(tmp_path, "a_bad.xlsx", "not a readable .xlsx workbook")


def test_xlsx_bad_crc_is_a_file_error(tmp_path):
    # Many rows, the damage in the last: the CRC is checked when the stream ends, mid-read.
    rows: list[list[object]] = [[f"C{i}", "2025-03-01", i] for i in range(5000)]
    path = workbook(tmp_path / "a_crc.xlsx", [*rows, ["CRCMARK", "2025-03-01", 1]])
    with zipfile.ZipFile(path) as z:
        strings = z.read("xl/sharedStrings.xml") if "xl/sharedStrings.xml" in z.namelist() else b""
        xml = z.read(SHEET)
    member, data = ("xl/sharedStrings.xml", strings) if b"CRCMARK" in strings else (SHEET, xml)
    rewrite(path, member, data, compress=zipfile.ZIP_STORED)
    raw = path.read_bytes()
    assert raw.count(b"CRCMARK") == 1
    path.write_bytes(raw.replace(b"CRCMARK", b"CRCMARX"))  # content changed, CRC not
    good_after(tmp_path)
    assert_refused_alone(tmp_path, "a_crc.xlsx", "CRC")


def test_xlsx_entity_declarations_are_refused(tmp_path):
    path = workbook(tmp_path / "a_lol.xlsx", [["A9", "2025-03-01", 1]])
    lol = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 9))
    bomb = (
        f'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY l0 "lol">{lol}]>'
        f'<worksheet {NS}><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&l8;</t></is>'
        "</c></row></sheetData></worksheet>"
    )
    rewrite(path, SHEET, bomb.encode())
    good_after(tmp_path)
    assert_refused_alone(tmp_path, "a_lol.xlsx", "declares a DTD or entities")


def test_xlsx_row_bomb_is_refused_before_reading(tmp_path):
    path = workbook(tmp_path / "a_rows.xlsx", [])
    rows = b'<row><c t="inlineStr"><is><t>x</t></is></c></row>' * 400_000
    rewrite(
        path, SHEET, f"<worksheet {NS}><sheetData>".encode() + rows + b"</sheetData></worksheet>"
    )
    assert path.stat().st_size < 200_000
    good_after(tmp_path)
    assert_refused_alone(tmp_path, "a_rows.xlsx", "a zip bomb?")


def test_xlsx_shared_strings_bomb_is_refused(tmp_path):
    path = workbook(tmp_path / "a_strings.xlsx", [["A9", "2025-03-01", 1]])
    strings = b"<si><t>" + b"A" * 1000 + b"</t></si>"
    sst = f'<sst {NS} count="20000" uniqueCount="20000">'.encode() + strings * 20_000 + b"</sst>"
    rels = "xl/_rels/workbook.xml.rels"
    with zipfile.ZipFile(path) as z:
        linked = z.read(rels).replace(
            b"</Relationships>",
            b'<Relationship Id="rIdS" Target="sharedStrings.xml" Type="http://schemas.openxml'
            b'formats.org/officeDocument/2006/relationships/sharedStrings"/></Relationships>',
        )
    rewrite(path, rels, linked)
    rewrite(path, "xl/sharedStrings.xml", sst)
    assert path.stat().st_size < 200_000
    good_after(tmp_path)
    assert_refused_alone(tmp_path, "a_strings.xlsx", "a zip bomb?")


def test_xlsx_decompressed_size_limit_is_an_option(tmp_path):
    workbook(tmp_path / "a_big.xlsx", [[f"B{i}", "2025-03-01", i] for i in range(3000)])
    good_after(tmp_path)
    assert_refused_alone(tmp_path, "a_big.xlsx", "max_uncompressed_mb", max_uncompressed_mb=0.1)


def test_xlsx_rows_past_max_rows_stop_the_file(tmp_path):
    workbook(tmp_path / "a_long.xlsx", [[f"B{i}", "2025-03-01", i] for i in range(50)])
    good_after(tmp_path)
    batches = pull(source(tmp_path, "*.xlsx", max_rows=20))
    files = per_file(batches)
    read, loaded, quarantined, taken = files["a_long.xlsx"]
    assert taken == 1 and quarantined == 1 and loaded == 19  # rows 2-20, then the file error
    assert any("more than 20 rows (max_rows)" in why for _, why in reasons(batches))
    assert files["z_good.xlsx"] == (2, 2, 0, 1)


# CSV (point 8) and the per-file caps ----------------------------------------------------------


def test_csv_oversized_cell_is_one_quarantined_row_and_the_rows_after_it_load(tmp_path):
    huge = "x" * 200_000
    text = (
        "승인번호,승인일자,이용금액\nA1,20250301,1000\nA2,20250302," + huge + "\nA3,20250303,3000\n"
    )
    (tmp_path / "cards.csv").write_text(text, encoding="utf-8")
    batches = pull(source(tmp_path))
    assert frame(batches)["approval_id"].tolist() == ["A1", "A3"]
    [(where, why)] = reasons(batches)
    assert where == "cards.csv:3" and "holds 200000 characters" in why
    assert per_file(batches)["cards.csv"] == (3, 2, 1, 1)


def test_csv_oversized_quoted_cell_spanning_lines_is_quarantined(tmp_path):
    huge = "y\n" * 100_000
    text = f'승인번호,승인일자,이용금액\nA1,20250301,1000\nA2,20250302,"{huge}"\nA3,20250303,3000\n'
    (tmp_path / "cards.csv").write_text(text, encoding="utf-8")
    batches = pull(source(tmp_path))
    assert frame(batches)["approval_id"].tolist() == ["A1", "A3"]
    [(where, why)] = reasons(batches)
    assert where == "cards.csv:3" and "characters" in why


@pytest.mark.parametrize("tail", ["", "\n", "\r\n"])
def test_csv_cut_inside_a_quoted_amount_is_quarantined_not_315(tmp_path, tail):
    text = '승인번호,승인일자,이용금액\nA1,20250301,"12,000"\nA2,20250302,"31,5' + tail
    (tmp_path / "cards.csv").write_text(text, encoding="utf-8")
    batches = pull(source(tmp_path))
    loaded = frame(batches)
    assert loaded["approval_id"].tolist() == ["A1"]
    assert loaded["amount"].tolist() == [12000.0]
    [(where, why)] = reasons(batches)
    assert where == "cards.csv:3" and "not closed before the end of the file" in why
    assert per_file(batches)["cards.csv"] == (2, 1, 1, 1)


def test_csv_last_row_without_newline_still_loads(tmp_path):
    text = '승인번호,승인일자,이용금액\nA1,20250301,"12,000"\nA2,20250302,"5,000"'
    (tmp_path / "cards.csv").write_text(text, encoding="utf-8")
    batches = pull(source(tmp_path))
    assert frame(batches)["amount"].tolist() == [12000.0, 5000.0] and not reasons(batches)


@pytest.mark.parametrize("amount", ["31,5", "1234,000", "1,23", ",500"])
def test_csv_comma_not_grouping_thousands_is_quarantined(tmp_path, amount):
    text = f'승인번호,승인일자,이용금액\nA1,20250301,"1,234,000"\nA2,20250302,"{amount}"\n'
    (tmp_path / "cards.csv").write_text(text, encoding="utf-8")
    batches = pull(source(tmp_path))
    assert frame(batches)["amount"].tolist() == [1234000.0]
    [(where, why)] = reasons(batches)
    assert where == "cards.csv:3" and "이용금액" in why or "amount" in why


def test_csv_too_many_bad_rows_stop_the_file_and_not_the_next(tmp_path):
    bad = "".join(f"B{i},notadate,1\n" for i in range(40))
    (tmp_path / "a_wrong.csv").write_text("승인번호,승인일자,이용금액\n" + bad, encoding="utf-8")
    (tmp_path / "b_good.csv").write_text(
        "승인번호,승인일자,이용금액\nA1,20250301,1000\n", encoding="utf-8"
    )
    batches = pull(source(tmp_path, max_quarantined=10, chunk_size=8))
    files = per_file(batches)
    read, loaded, quarantined, taken = files["a_wrong.csv"]
    assert taken == 1 and loaded == 0 and quarantined <= 11 and read == loaded + quarantined
    assert any("more than 10 bad rows" in why for _, why in reasons(batches))
    assert files["b_good.csv"] == (1, 1, 0, 1)


def test_csv_rows_past_max_rows_stop_the_file(tmp_path):
    body = "".join(f"A{i},20250301,{i}\n" for i in range(30))
    (tmp_path / "a.csv").write_text("승인번호,승인일자,이용금액\n" + body, encoding="utf-8")
    batches = pull(source(tmp_path, max_rows=11))
    assert per_file(batches)["a.csv"][1:] == (10, 1, 1)
    assert any("more than 11 rows" in why for _, why in reasons(batches))
