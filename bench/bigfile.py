"""Benchmark: a large CSV drop read by the files connector in bounded memory.

Writes a payments CSV of ``--size-mb`` megabytes (default 2,048: the 2 GB of issue 9) with
Korean text and an unmapped memo of ``--memo-kb`` (default 0.8) per row, then reads it through the files connector
(:class:`naebu.connectors.files.FilesConnector`) exactly as a run does: one streaming pass for the
checksum and the encoding check (two for CP949), then ``chunk_size`` rows per batch, every
batch typed by coerce and dropped once counted. Prints (and with ``--out`` writes) the rows,
the seconds, MB/s and the peak resident memory of the process, before and after reading, so
the memory the read itself took is plain: it depends on ``chunk_size``, not on the file.

    python -m bench.bigfile [--size-mb 2048] [--chunk-size 50000] [--encoding utf-8|cp949]
                            [--memo-kb 0.8] [--dir DIR] [--keep] [--out PATH]

tests/test_sources_bigfile.py runs it on a few hundred MB in a subprocess and checks that the
read took a fraction of the file's size in memory.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

HEADER = "payment_id,department,official_id,vendor_id,payee_name,amount,paid_on,purpose,memo\n"
_DEPARTMENTS = ("재무과", "세무과", "회계과", "도시계획과", "복지정책과", "환경보전과", "건축과")
_PURPOSES = ("사무용품 구입", "시설 유지보수", "행사 운영 용역", "차량 임차", "인쇄물 제작")
_SYLLABLES = "가나다라마바사아자차카타파하"


def memo(size_kb: float) -> str:
    """An unmapped memo of about ``size_kb`` KB in UTF-8 (Hangul: 3 bytes a syllable)."""
    return "비고: " + _SYLLABLES * max(1, int(size_kb * 1024 / 3 / len(_SYLLABLES)))


def write_csv(path: Path, size_mb: int, encoding: str = "utf-8", memo_kb: float = 0.8) -> int:
    """Write a payments CSV of about ``size_mb`` MB at ``path``; return its data rows.

    Rows are built 1,000 at a time and written as one string, so 2 GB takes about a minute.
    A wider memo makes fewer rows of the same size (less typing work, the same bytes).
    """
    target = size_mb * 1024 * 1024
    note = memo(memo_kb)
    rows = 0
    written = 0
    with path.open("w", encoding=encoding, newline="") as fh:
        fh.write(HEADER)
        while written < target:
            lines = []
            for i in range(rows, rows + 1_000):
                dept = _DEPARTMENTS[i % len(_DEPARTMENTS)]
                lines.append(
                    f"P-{i:09d},{dept},E{i % 997:05d},V{i % 4999:05d},(주)한빛상사{i % 311},"
                    f'"{(i * 7919) % 50_000_000:,}",2025-{1 + i % 12:02d}-{1 + i % 28:02d},'
                    f"{_PURPOSES[i % len(_PURPOSES)]},{note}\n"
                )
            block = "".join(lines)
            fh.write(block)
            written += len(block.encode(encoding))
            rows += 1_000
    return rows


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB (Linux reports KB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def read_through_connector(folder: Path, chunk_size: int) -> dict[str, Any]:
    """Read every CSV in ``folder`` with the files connector; rows, batches, seconds, memory."""
    from naebu.connectors import make_connector
    from naebu.connectors.base import SourceState
    from naebu.connectors.source_settings import SourceConfig

    source = SourceConfig(
        name="bigfile",
        kind="files",
        dataset="payments",
        options={"path": str(folder), "chunk_size": chunk_size},
        columns={},
        formats={},
    )
    connector = make_connector(source)
    before = peak_rss_mb()
    start = time.perf_counter()
    rows = quarantined = batches = typed = 0
    for batch in connector.pull(SourceState()):
        batches += 1
        rows += batch.rows_read
        typed += len(batch.frame)
        quarantined += len(batch.quarantined)
    seconds = time.perf_counter() - start
    return {
        "rows": rows,
        "typed": typed,
        "quarantined": quarantined,
        "batches": batches,
        "seconds": round(seconds, 1),
        "peak_rss_mb_before_read": round(before, 1),
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }


def machine() -> dict[str, Any]:
    """The machine the figures were taken on (other work on it makes them noisy)."""
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def main(argv: list[str] | None = None) -> int:
    """Command line entry: write the file, read it, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=2048)
    parser.add_argument("--chunk-size", type=int, default=50_000)
    parser.add_argument("--encoding", choices=("utf-8", "cp949"), default="utf-8")
    parser.add_argument("--memo-kb", type=float, default=0.8, help="unmapped text per row")
    parser.add_argument("--dir", type=Path, help="folder for the file (default: a temp folder)")
    parser.add_argument("--keep", action="store_true", help="keep the file afterwards")
    parser.add_argument("--out", type=Path, help="write the figures here as JSON")
    args = parser.parse_args(argv)

    folder = Path(tempfile.mkdtemp(prefix="naebu-bigfile-", dir=args.dir))
    try:
        path = folder / "payments.csv"
        start = time.perf_counter()
        written = write_csv(path, args.size_mb, args.encoding, args.memo_kb)
        write_seconds = time.perf_counter() - start
        size = path.stat().st_size
        result = read_through_connector(folder, args.chunk_size)
        result.update(
            {
                "benchmark": "files connector: one large CSV drop in bounded memory",
                "when": datetime.now().isoformat(timespec="seconds"),
                "file_mb": round(size / 1024 / 1024, 1),
                "rows_written": written,
                "encoding": args.encoding,
                "memo_kb": args.memo_kb,
                "chunk_size": args.chunk_size,
                "write_seconds": round(write_seconds, 1),
                "mb_per_second": round(size / 1024 / 1024 / max(result["seconds"], 1e-9), 1),
                "read_memory_mb": round(
                    result["peak_rss_mb"] - result["peak_rss_mb_before_read"], 1
                ),
                "machine": machine(),
            }
        )
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    text = json.dumps(result, ensure_ascii=False, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
