"""naebu.connectors.worker: first pulls read ahead in a worker process give exactly what reading them
in the run gives - batches, quarantined rows, watermarks, errors and log records - and a
worker that dies or is left half-read does not hang the run or mix up sources."""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
from multiprocessing.connection import Connection
from pathlib import Path

import pandas as pd
import pytest
from minicity import create_payments, make_city, payment

from naebu.connectors import make_connector, worker
from naebu.connectors.base import Batch, SourceError, SourceState
from naebu.connectors.source_settings import SourceConfig
from naebu.connectors.worker import Reader, is_first_pull
from naebu.settings.config import load_config


def _source(tmp_path: Path, rows: int, chunk_size: int = 4, name: str = "city") -> SourceConfig:
    config = make_city(tmp_path / name, chunk_size=chunk_size)
    url = f"sqlite:///{tmp_path / name / 'city.sqlite'}"
    bad = ("P-BAD", "재무과", "E001", "미정", "2025-06-02", "2025-06-10 10:00:05")
    duplicate = payment(3, 99, "2025-06-10 10:00:06")  # P-00003 again: the last row wins
    create_payments(url, [payment(i, i * 1000) for i in range(1, rows + 1)] + [bad, duplicate])
    return load_config(config).sources["payments"]


def _renamed(source: SourceConfig, name: str, **options: object) -> SourceConfig:
    other = SourceConfig(**{**vars(source), "name": name, "options": dict(source.options)})
    other.options.update(options)
    return other


def _same(a: list[Batch], b: list[Batch]) -> None:
    assert len(a) == len(b) > 1
    for x, y in zip(a, b, strict=True):
        pd.testing.assert_frame_equal(x.frame, y.frame)
        assert (x.source, x.quarantined, x.rows_read, x.watermark, x.files) == (
            y.source,
            y.quarantined,
            y.rows_read,
            y.watermark,
            y.files,
        )


def _in_run(source: SourceConfig) -> list[Batch]:
    return list(make_connector(source).pull(SourceState()))


def test_first_pulls_read_ahead_equal_the_pulls_in_the_run(tmp_path: Path) -> None:
    one = _source(tmp_path, 10)
    two = _renamed(_source(tmp_path, 7, chunk_size=3, name="other"), "payments2")
    assert is_first_pull(SourceState())
    assert not is_first_pull(SourceState(watermark="2025-06-10 10:00:00"))
    assert not is_first_pull(SourceState(seen_checksums={"abc"}))
    with Reader([(one, SourceState()), (two, SourceState())]) as reader:
        assert reader.has("payments") and reader.has("payments2")
        first = list(reader.batches("payments"))
        assert not reader.has("payments")
        second = list(reader.batches("payments2"))
    _same(first, _in_run(one))
    _same(second, _in_run(two))
    assert any(q.location.endswith("P-BAD") for b in first for q in b.quarantined)


def test_a_source_error_is_the_same_error_and_the_next_source_is_still_read(
    tmp_path: Path,
) -> None:
    good = _source(tmp_path, 10)
    broken = _renamed(good, "broken", table="no_such_table")
    with pytest.raises(SourceError) as in_run:
        _in_run(broken)
    with Reader([(broken, SourceState()), (good, SourceState())]) as reader:
        with pytest.raises(SourceError) as ahead:
            list(reader.batches("broken"))
        assert str(ahead.value) == str(in_run.value) and ahead.value.source == "broken"
        _same(list(reader.batches("payments")), _in_run(good))


def test_a_source_the_run_skips_is_passed_over(tmp_path: Path) -> None:
    one = _source(tmp_path, 10)
    two = _renamed(one, "payments2")
    with Reader([(one, SourceState()), (two, SourceState())]) as reader:
        _same(list(reader.batches("payments2")), _in_run(two))
        with pytest.raises(ValueError, match="not next"):
            list(reader.batches("payments"))


def test_the_workers_log_records_reach_the_runs_loggers(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    source = _source(tmp_path, 10, chunk_size=50)
    with caplog.at_level(logging.INFO), Reader([(source, SourceState())]) as reader:
        list(reader.batches("payments"))
    repeated = [r for r in caplog.records if r.name == "naebu.connectors.base"]
    assert repeated and "repeat the key" in repeated[0].getMessage()


def test_a_half_read_source_ends_the_worker_and_later_sources_are_read_in_the_run(
    tmp_path: Path,
) -> None:
    one = _source(tmp_path, 10, chunk_size=1)
    two = _renamed(one, "payments2")
    with Reader([(one, SourceState()), (two, SourceState())]) as reader:
        stream = reader.batches("payments")
        next(stream)
        assert reader.proc is not None
        worker = reader.proc
        stream.close()
        assert worker.poll() is not None, "the worker was ended"
        assert not reader.has("payments2")  # the run reads it itself


def test_a_worker_that_dies_is_a_source_error(tmp_path: Path) -> None:
    one = _source(tmp_path, 10, chunk_size=1)
    with Reader([(one, SourceState())]) as reader:
        stream = reader.batches("payments")
        next(stream)
        assert reader.proc is not None
        os.kill(reader.proc.pid, signal.SIGKILL)
        with pytest.raises(SourceError, match="ended unexpectedly"):
            list(stream)


def _pair() -> tuple[Connection, Connection]:
    ours, theirs = socket.socketpair()
    return Connection(ours.detach()), Connection(theirs.detach())


def test_the_worker_reads_ahead_of_a_run_that_has_not_taken_its_batches() -> None:
    """AHEAD messages are queued while the run takes none (the socket holds less than one of
    them): the worker goes on reading, e.g. sorts the next source, meanwhile."""
    worker_end, run_end = _pair()
    outbox = worker._Outbox(worker_end)
    big = b"x" * (16 << 20)  # more than a socket's buffer
    queued = threading.Thread(
        target=lambda: [outbox.send(("batch", (i, big))) for i in range(worker.AHEAD + 1)]
    )
    queued.start()
    queued.join(60)
    assert not queued.is_alive(), "sending waited for the run"
    # In order, whole, as Connection.send would have sent them.
    assert [run_end.recv() for _ in range(worker.AHEAD + 1)] == [
        ("batch", (i, big)) for i in range(worker.AHEAD + 1)
    ]
    outbox.send(("end", None))
    outbox.close()
    assert run_end.recv() == ("end", None)
    with pytest.raises(EOFError):
        run_end.recv()


def test_a_run_that_has_gone_stops_the_worker() -> None:
    worker_end, run_end = _pair()
    outbox = worker._Outbox(worker_end)
    run_end.close()
    with pytest.raises(ConnectionError):
        for _ in range(worker.AHEAD + 3):
            outbox.send(("batch", b"x" * (1 << 20)))
