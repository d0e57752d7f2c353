"""Queueing digests costs few statements and masks each distinct line once (issue 21).

A province's first run queues thousands of digests: their outbox rows are written a batch at
a time in one statement (SQLAlchemy's many-row insert returning the ids in order), and the
lines they share (an alert told to its official, manager and auditors) are masked once.
What is written stays exactly what ``tests/fixtures/digests`` pins, however the batches fall.
"""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, Insert, event
from test_digest_golden import CASES, GOLDEN, _scenario

from naebu.alerts import digest, digest_render
from naebu.store import tables as store
from naebu.store.tables import connect as store_connect


def _count_outbox_inserts(engine: Engine) -> list[int]:
    """How many times SQLAlchemy is asked to insert outbox rows (one execute per batch;
    SQLite's driver then runs the rows one by one, PostgreSQL pages them)."""
    counts = [0]

    def before(conn: Any, clause: Any, *args: Any) -> None:
        if isinstance(clause, Insert) and clause.table is store.outbox:
            counts[0] += 1

    event.listen(engine, "before_execute", before)
    return counts


def test_outbox_rows_are_written_in_one_statement_per_call(engine: Engine) -> None:
    counts = _count_outbox_inserts(engine)
    got = _scenario(engine, *CASES["ko-cut"])
    assert got == (GOLDEN / "ko-cut.txt").read_text(encoding="utf-8")
    # Two queue_digests calls (see _scenario), each writing its dozens of rows at once.
    assert got.count("=== outbox #") > 20
    assert counts[0] == 2


def test_small_batches_write_the_same(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(digest, "_OUTBOX_BATCH_CHARS", 1)  # every message a batch of its own
    counts = _count_outbox_inserts(engine)
    got = _scenario(engine, *CASES["ko-audit-department"])
    assert got == (GOLDEN / "ko-audit-department.txt").read_text(encoding="utf-8")
    assert counts[0] > 2


def test_digests_of_one_call_share_their_masked_lines(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every digest of a queue_digests call is masked with the same cache (its lines masked
    once for all of them: see test_masking_patterns), a fresh one per call."""
    caches: list[dict[str, str] | None] = []
    real = digest_render.mask_document

    def recording(text: str, cache: dict[str, str] | None = None) -> str:
        caches.append(cache)
        return real(text, cache)

    monkeypatch.setattr(digest_render, "mask_document", recording)
    got = _scenario(engine, *CASES["en-whole"])
    assert got == (GOLDEN / "en-whole.txt").read_text(encoding="utf-8")
    assert all(cache is not None for cache in caches)
    # Two calls (see _scenario), a text and an HTML part per digest.
    assert len({id(cache) for cache in caches}) == 2 and len(caches) > 20
    assert sum(len(cache or {}) for cache in {id(c): c for c in caches}.values()) > 100


def test_the_collector_is_paused_while_queueing_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fresh(name: str) -> Engine:
        return store_connect("sqlite:///" + str(tmp_path / f"{name}.sqlite"))

    during: list[bool] = []
    real = digest.render_ordered

    def recording(*args: Any, **kwargs: Any) -> Any:
        during.append(gc.isenabled())
        return real(*args, **kwargs)

    monkeypatch.setattr(digest, "render_ordered", recording)
    assert gc.isenabled()
    _scenario(fresh("a"), *CASES["ko-cut"])
    assert during and not any(during)
    assert gc.isenabled()

    def failing(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("render failed")

    monkeypatch.setattr(digest, "render_ordered", failing)
    with pytest.raises(RuntimeError):
        _scenario(fresh("b"), *CASES["ko-cut"])
    assert gc.isenabled()
    gc.disable()  # a caller that paused it itself finds it paused still
    try:
        with pytest.raises(RuntimeError):
            _scenario(fresh("c"), *CASES["ko-cut"])
        assert not gc.isenabled()
    finally:
        gc.enable()
