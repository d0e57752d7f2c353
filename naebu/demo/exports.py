"""``naebu demo --shape exports``: the same demo city as other systems would export it.

The records, the planted anomalies and the malformed rows are the canonical city's
(:func:`naebu.demo.build_frames`); only the shape differs. :mod:`naebu.demo.export_ledgers`
says how each ledger is written; ``examples/exports-city/config.toml`` reads them back with
the mapping features only (columns, formats, constants, value maps, derived columns, merged
sources, header rows, roles derived by ``[routing]``).

Written into ``out/exports/``: CSV and XLSX files in one folder per system, ``재정.sqlite``,
``labels.csv`` and a README. Everything is under ``exports/``, so the canonical city
(``city.sqlite``, ``card-drop/``, its own ``labels.csv``) may share the folder: the default
``naebu demo`` and ``naebu demo --shape exports`` both write ``demo-city/`` beside the config.
Attendance has no record number in the exports: naebu keys a merged attendance record by
``사번|일자`` (``E10224|2025-03-21``), and this labels.csv names attendance records that way.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import sqlite3
import zipfile
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from naebu.demo import DemoSummary, build_frames, volumes, write_labels
from naebu.demo.export_ledgers import all_ledgers
from naebu.demo.export_text import ExportFile
from naebu.demo.volumes import Volumes

EXPORTS = "exports"
#: Rows a connector must quarantine, per source of the example config.
QUARANTINE = {"payments": 2, "card_approvals": 2}


def generate_exports(
    out: Path, seed: int = 42, scale: float = 1.0, size: Volumes | None = None
) -> DemoSummary:
    """Write the exports-shaped demo city to ``out`` and return what was written."""
    out = Path(out)
    size = size or volumes.resolve(scale)
    frames, labels = build_frames(seed, size=size)
    files = all_ledgers(frames, seed)
    folder = out / EXPORTS
    paths = write_all(folder, files)

    labels_path = folder / "labels.csv"
    planted = write_labels(labels_path, export_labels(labels, frames["attendance"]))
    counts = {name: len(df) for name, df in frames.items()}
    counts["card_transactions"] = int(
        (frames["card_transactions"]["payment_method"] == "카드").sum()
    )
    readme = folder / "README.md"
    readme.write_text(readme_text(seed, files, counts), encoding="utf-8")
    return DemoSummary(
        out=out,
        seed=seed,
        scale=size.scale,
        cities=size.cities,
        counts=counts,
        planted=planted,
        expected_quarantine=sum(QUARANTINE.values()),
        quarantine=dict(QUARANTINE),
        paths=[*paths, labels_path, readme],
    )


def export_labels(
    labels: Iterable[tuple[str, str, str]], attendance: pd.DataFrame
) -> list[tuple[str, str, str]]:
    """The canonical labels with attendance records keyed as a merged export keys them
    (``employee_id|work_date``, the day in ISO form); the others keep their keys."""
    key_of = dict(
        zip(
            attendance["record_id"],
            attendance["employee_id"] + "|" + attendance["work_date"].dt.strftime("%Y-%m-%d"),
            strict=True,
        )
    )
    return sorted(
        (rule, ds, key_of[key] if ds == "attendance" else key) for rule, ds, key in labels
    )


def write_all(folder: Path, files: list[ExportFile]) -> list[Path]:
    """Write every export file under ``folder`` (replacing an older exports city); returns the
    files written (the SQLite database once)."""
    written: list[Path] = []
    for export in files:
        path = folder / export.path
        path.parent.mkdir(parents=True, exist_ok=True)
        if export.kind == "sqlite":
            if path not in written and path.exists():
                path.unlink()
            write_table(path, export)
        elif export.kind == "xlsx":
            write_xlsx(path, export)
        else:
            write_csv(path, export)
        if path not in written:
            written.append(path)
    return written


def write_csv(path: Path, export: ExportFile) -> None:
    """A CSV file: title lines, the header, the rows (CRLF, as Windows systems write them)."""
    width = len(export.frame.columns)
    with path.open("w", encoding=export.encoding, newline="") as f:
        w = csv.writer(f, lineterminator="\r\n")
        for line in export.title:
            w.writerow([line] + [""] * (width - 1))
        w.writerow(export.frame.columns)
        w.writerows(export.frame.itertuples(index=False, name=None))


def write_xlsx(path: Path, export: ExportFile) -> None:
    """An XLSX sheet: title rows, the header, typed cells (dates as date cells)."""
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet(path.stem)
    for line in export.title:
        sheet.append([line])
    sheet.append(list(export.frame.columns))
    for row in export.frame.itertuples(index=False, name=None):
        sheet.append([_cell(v) for v in row])
    book.properties.created = STAMP
    buffer = io.BytesIO()
    book.save(buffer)
    path.write_bytes(_fixed_times(buffer.getvalue()))


#: The time written into every XLSX (its properties and zip entries): same seed, same bytes.
STAMP = dt.datetime(2025, 12, 31, 18, 0)
_MODIFIED = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")


def _fixed_times(data: bytes) -> bytes:
    """The XLSX package ``data`` with the save time (openpyxl writes the clock's) replaced by
    :data:`STAMP`, in the document properties and in every zip entry."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            body = src.read(item)
            if item.filename == "docProps/core.xml":
                body = _MODIFIED.sub(rb"\g<1>2025-12-31T18:00:00Z\g<2>", body)
            info = zipfile.ZipInfo(item.filename, date_time=STAMP.timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(info, body)
    return out.getvalue()


def _cell(value: object) -> object:
    if value is None or value == "":
        return None
    return value


def write_table(path: Path, export: ExportFile) -> None:
    """One table of a SQLite database (created if needed), columns named in Korean."""
    assert export.table is not None
    names = list(export.frame.columns)
    con = sqlite3.connect(path)
    try:
        ddl = ", ".join(f'"{n}" {"NUMERIC" if n.endswith("금액") else "TEXT"}' for n in names)
        con.execute(f'DROP TABLE IF EXISTS "{export.table}"')
        con.execute(f'CREATE TABLE "{export.table}" ({ddl})')
        marks = ", ".join("?" * len(names))
        rows = [
            tuple(None if v == "" else v for v in r)
            for r in export.frame.itertuples(index=False, name=None)
        ]
        con.executemany(f'INSERT INTO "{export.table}" VALUES ({marks})', rows)
        con.commit()
    finally:
        con.close()


def readme_text(seed: int, files: list[ExportFile], counts: dict[str, int]) -> str:
    """The exports city's README: what each file is and how it is written."""
    lines = [
        "# 한빛시 데모 (원천 시스템 내보내기 형태)",
        "",
        f"`naebu demo --shape exports --seed {seed}`가 만든 가상 도시입니다. 레코드와 심어 둔 "
        "이상 거래는 기본 데모와 같고, 각 시스템이 내보내는 모양(한글 머리글, cp949, 제목 행, "
        "시스템마다 다른 날짜 형식과 코드 값)만 다릅니다. "
        "`examples/exports-city/config.toml`이 이 파일들을 읽습니다.",
        "",
        "| dataset | file | encoding | header row |",
        "|---|---|---|---|",
    ]
    seen: set[str] = set()
    for f in files:
        where = f"{f.path} ({f.table})" if f.table else f.path
        if f.dataset == "card_transactions":  # one line for the monthly files
            if f.dataset in seen:
                continue
            where, seen = "카드사/승인내역_YYYYMM.csv (월별)", seen | {f.dataset}
            f = ExportFile(f.dataset, where, f.frame, "cp949, utf-8-sig")
        enc = "-" if f.kind != "csv" else f.encoding
        lines.append(f"| {f.dataset} | {where} | {enc} | {f.header_row} |")
    lines += ["", "records: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()), ""]
    return "\n".join(lines)
