"""Checks a workbook before openpyxl opens it: an XLSX file is a zip of XML, so a small file
can decompress to gigabytes (a zip bomb), expand entities (a "billion laughs") or hold a
sheet of millions of rows. Each check names what it found, in one line, for a file error.

- ``max_uncompressed_mb`` (default 512): the workbook's members, decompressed, in MiB.
- ``max_ratio`` (default 100): decompressed / compressed size, per member and overall; real
  exports compress 5-20 times, a bomb thousands of times.
- DTD and entity declarations: an XLSX never needs one (Excel writes none), so any
  ``<!DOCTYPE`` or ``<!ENTITY`` in an XML member's prolog refuses the file. Checked here, in
  the zip, instead of through defusedxml: openpyxl uses defusedxml only when it is installed,
  and this check costs one read of each member's first bytes.
"""

from __future__ import annotations

import zipfile
import zlib
from pathlib import Path

MAX_UNCOMPRESSED_MB = 512
MAX_RATIO = 100
#: The rows an Excel sheet can hold: a sheet with more was not written by Excel.
EXCEL_ROWS = 1_048_576
#: Members smaller than this are not held to the ratio: tiny XML compresses well by nature.
_RATIO_FLOOR = 1 << 20
_PROLOG = 1 << 16


def refusal(path: Path, max_uncompressed_mb: float, max_ratio: float) -> str | None:
    """Why the workbook at ``path`` must not be opened, or None."""
    try:
        with zipfile.ZipFile(path) as book:
            infos = book.infolist()
            total = sum(i.file_size for i in infos)
            packed = sum(i.compress_size for i in infos)
            if total > max_uncompressed_mb * (1 << 20):
                return (
                    f"workbook decompresses to {total / (1 << 20):.0f} MiB, more than "
                    f"max_uncompressed_mb = {max_uncompressed_mb:g}"
                )
            for info in infos:
                ratio = info.file_size / max(info.compress_size, 1)
                if info.file_size >= _RATIO_FLOOR and ratio > max_ratio:
                    return (
                        f"{info.filename} decompresses {ratio:.0f} times its size, more than "
                        f"max_ratio = {max_ratio:g} (a zip bomb?)"
                    )
            if total >= _RATIO_FLOOR and total / max(packed, 1) > max_ratio:
                return (
                    f"workbook decompresses {total / max(packed, 1):.0f} times its size, more "
                    f"than max_ratio = {max_ratio:g} (a zip bomb?)"
                )
            for info in infos:
                if info.filename.endswith((".xml", ".rels", ".vml")):
                    with book.open(info) as member:
                        head = member.read(_PROLOG)
                    if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
                        return f"{info.filename} declares a DTD or entities, which XLSX never needs"
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, zlib.error) as exc:
        # zlib.error: a member's deflated bytes damaged (the zip directory itself intact).
        return f"not a readable .xlsx workbook: {exc}"
    except (RuntimeError, NotImplementedError) as exc:  # encrypted, unknown compression
        return f"not a readable .xlsx workbook: {exc}"
    return None


def broken(exc: BaseException) -> str:
    """One line for a workbook openpyxl could not read (malformed XML, a bad CRC)."""
    text = " ".join(str(exc).split())[:200] or type(exc).__name__
    return f"not a readable .xlsx workbook ({type(exc).__name__}: {text})"
