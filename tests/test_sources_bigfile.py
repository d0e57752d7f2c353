"""A large CSV drop is read in bounded memory (issue 9, messy sources: "a 2 GB file").

bench/bigfile.py writes a payments CSV (here 120 MB in CP949, so the encoding check makes its
second streaming pass; rows with a 4 KB memo, so the typing work stays small) and reads it through the files connector in a fresh subprocess, which
reports its peak resident memory before and after the read (``getrusage``). Read chunk by
chunk (1,000 rows), the read takes a small fraction of the file's size; read whole (as
``pandas.read_csv`` or ``fh.read()`` would), it could not take less than the file itself.
The 2 GB run and its figures are in bench/results-bigfile.json and docs/sources.md.
"""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import ROOT

SIZE_MB = 120
CHUNK = 1_000


def test_a_large_csv_is_read_chunk_by_chunk_in_bounded_memory() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.bigfile",
            "--size-mb",
            str(SIZE_MB),
            "--chunk-size",
            str(CHUNK),
            "--encoding",
            "cp949",
            "--memo-kb",
            "4",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)
    # Every row was read and typed: nothing lost, nothing quarantined, in chunk-sized batches.
    assert figures["rows"] == figures["typed"] == figures["rows_written"]
    assert figures["quarantined"] == 0
    assert figures["batches"] == -(-figures["rows"] // CHUNK)
    assert figures["file_mb"] >= SIZE_MB
    # The memory the read took is bounded by the chunk, not the file: under a third of it.
    assert figures["read_memory_mb"] < figures["file_mb"] / 3, figures
