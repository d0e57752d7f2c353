"""The record history in segment files (a SQLite store with a file): a batch is a Parquet
file named by a manifest row committed with it; reads give exactly what the tables give."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from conftest import ROOT, run_cli
from test_history import ROWS, VENDORS, _cards, _frame

from naebu import pipeline
from naebu.core import datasets
from naebu.settings.config import load_config
from naebu.store import history, history_tables, segments, segments_read
from naebu.store import tables as store


def _files(url: str) -> set[Path]:
    base = Path(f"{sa.make_url(url).database}.history")
    return set(base.glob("*/*.parquet"))


def _manifest(engine: sa.Engine, dataset: str) -> list[segments_read.Segment]:
    with engine.connect() as conn:
        return segments_read.segments(conn, dataset)


def _sorted(frame: pd.DataFrame, dataset: str) -> pd.DataFrame:
    key = datasets.get(dataset).key
    return frame.sort_values(key, ignore_index=True)


def test_a_file_store_keeps_segments_others_tables(tmp_path: Path) -> None:
    cases = {
        f"sqlite:///{tmp_path / 'a.sqlite'}": "segments",
        "sqlite://": "tables",
        "sqlite:///:memory:": "tables",
        "postgresql+psycopg2://u@h/db": "tables",
        "mysql+pymysql://u@h/db": "tables",
    }
    for url, kind in cases.items():
        assert history.backend(sa.create_engine(url)) == kind, url


def test_a_crash_before_the_commit_leaves_no_trace_and_its_file_is_swept(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    engine = store.connect(url)
    try:
        with engine.begin() as conn:
            history.store_records(conn, "card_transactions", _cards(ROWS[:1]), run_id=1)
        kept = _files(url)
        assert len(kept) == 1

        class Crash(Exception):
            pass

        with pytest.raises(Crash), engine.begin() as conn:
            history.store_records(conn, "card_transactions", _cards(ROWS[1:]), run_id=2)
            raise Crash  # the process dies before the commit: the file is written, not named
        orphan = _files(url) - kept
        assert len(orphan) == 1, "the file is written (and fsynced) before the manifest row"
        with engine.connect() as conn:
            assert list(history.load(conn, "card_transactions")["approval_id"]) == ["A1"]
            assert history.new_since(conn, "card_transactions", 1) == (0, None)
            assert history.touched_keys(conn, "card_transactions", "approval_id", 0) == {"A1"}
        # A young orphan may be a batch another process is committing: kept for now.
        assert segments.sweep(engine) == []
        assert segments.sweep(engine, age=0) == sorted(orphan)
        assert _files(url) == kept
    finally:
        engine.dispose()
    # Opening the store sweeps old orphans too.
    stale = tmp_path / "store.sqlite.history" / "card_transactions" / "00000009-dead.parquet"
    stale.write_bytes(b"half a file")
    old = datetime(2020, 1, 1).timestamp()
    import os

    os.utime(stale, (old, old))
    store.connect(url).dispose()
    assert not stale.exists()


def test_a_key_written_again_reads_its_new_version(tmp_path: Path) -> None:
    engine = store.connect(f"sqlite:///{tmp_path / 'store.sqlite'}")
    try:
        first = _cards([{**r, "department": "D1"} for r in ROWS])
        with engine.begin() as conn:
            history.store_records(conn, "card_transactions", first, run_id=1)
        changed = _cards([{**ROWS[0], "amount": "15,000", "department": "D2"}])
        with engine.begin() as conn:
            history.store_records(conn, "card_transactions", changed, run_id=2)
        with engine.connect() as conn:
            back = history.load(conn, "card_transactions").set_index("approval_id")
            assert len(back) == 2 and back.loc["A1", "amount"] == 15000
            assert back.loc["A1", "department"] == "D2"
            # The old version is no record any more: not by its old department, not as older.
            d1 = history.KeyFilter("department", ("D1",))
            assert list(history.load(conn, "card_transactions", only=d1)["approval_id"]) == ["A2"]
            older = history.load(conn, "card_transactions", before_run=2)
            assert list(older["approval_id"]) == ["A2"]
            new = history.load(conn, "card_transactions", only=history.NewRecords(1))
            assert list(new["approval_id"]) == ["A1"]
            assert history.touched_keys(conn, "card_transactions", "department", 1) == {"D2"}
            assert history.new_since(conn, "card_transactions", 1) == (1, datetime(2025, 3, 1))
    finally:
        engine.dispose()


def test_store_whole_replaces_the_segments_and_their_files(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    engine = store.connect(url)
    try:
        vendors = _frame("vendors", VENDORS)
        with engine.begin() as conn:
            assert history.store_whole(conn, "vendors", vendors, run_id=1) == 3
        with engine.begin() as conn:
            assert history.store_whole(conn, "vendors", vendors, run_id=2) == 0
        assert len(_manifest(engine, "vendors")) == 1, "nothing changed: nothing written"
        changed = _frame("vendors", [VENDORS[0], {**VENDORS[1], "account_no": "220"}, VENDORS[2]])
        with engine.begin() as conn:
            assert history.store_whole(conn, "vendors", changed, run_id=3) == 1
        [segment] = _manifest(engine, "vendors")
        assert (segment.first_run_id, segment.run_id, segment.rows) == (1, 3, 3)
        with engine.connect() as conn:
            assert history.new_since(conn, "vendors", 1) == (1, None)
            assert history.touched_keys(conn, "vendors", "vendor_id", 2) == {"V2"}
        # The replaced file is gone once its deletion is committed.
        segments.sweep(engine)
        assert _files(url) == {segment.path}
        # Rolled back, a replacement leaves the old segment named and its file kept.
        with pytest.raises(RuntimeError), engine.begin() as conn:
            history.store_whole(conn, "vendors", changed.iloc[:1], run_id=4)
            raise RuntimeError
        segments.sweep(engine)
        assert _manifest(engine, "vendors") == [segment] and segment.path.exists()
        with engine.connect() as conn:
            back = _sorted(history.load(conn, "vendors"), "vendors")
        pd.testing.assert_frame_equal(back, changed)
    finally:
        engine.dispose()


def _batches() -> list[pd.DataFrame]:
    """Twenty runs' batches of card transactions, each changing some earlier keys."""
    out = []
    for run in range(20):
        rows = [
            {
                **ROWS[0],
                "approval_id": f"A{(run * 7 + i) % 40}",
                "department": f"D{run % 3}",
                "amount": str(1000 + run * 10 + i),
                "approved_date": f"2025-03-{1 + (run + i) % 28:02d}",
            }
            for i in range(10)
        ]
        if run == 0:
            rows.append({**ROWS[1], "approval_id": "B1"})  # never written again
        out.append(_cards(rows))
    return out


def test_compaction_keeps_the_last_version_of_each_key_and_its_run(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    engine = store.connect(url)
    reference = store.connect("sqlite://")  # the same batches in tables
    try:
        for target in (engine, reference):
            for run, batch in enumerate(_batches(), start=1):
                with target.begin() as conn:
                    history.store_records(conn, "card_transactions", batch, run_id=run)
        assert len(_manifest(engine, "card_transactions")) == 20
        before = _files(url)

        def state(target: sa.Engine) -> tuple[pd.DataFrame, pd.DataFrame, object, object]:
            with target.connect() as conn:
                whole = _sorted(history.load(conn, "card_transactions"), "card_transactions")
                older = _sorted(
                    history.load(conn, "card_transactions", before_run=15), "card_transactions"
                )
                return (
                    whole,
                    older,
                    history.new_since(conn, "card_transactions", 12),
                    history.touched_keys(conn, "card_transactions", "approval_id", 17),
                )

        expected = state(reference)
        for got, want in zip(state(engine), expected, strict=True):
            if isinstance(want, pd.DataFrame):
                pd.testing.assert_frame_equal(got, want)  # type: ignore[arg-type]
            else:
                assert got == want
        assert segments.compact(engine) == []  # under the bound (64): nothing
        assert segments.compact(engine, bound=16) == ["card_transactions"]
        [merged] = _manifest(engine, "card_transactions")
        assert (merged.first_run_id, merged.run_id, merged.rows) == (1, 20, 41)
        assert _files(url) == {merged.path} and not before & {merged.path}
        for got, want in zip(state(engine), expected, strict=True):
            if isinstance(want, pd.DataFrame):
                pd.testing.assert_frame_equal(got, want)  # type: ignore[arg-type]
            else:
                assert got == want
    finally:
        engine.dispose()
        reference.dispose()


def test_a_run_compacts_at_its_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    engine = store.connect(url)
    try:
        for run, batch in enumerate(_batches(), start=1):
            with engine.begin() as conn:
                history.store_records(conn, "card_transactions", batch, run_id=run)
        calls: list[str] = []
        compact = segments.compact

        def counted(target: sa.Engine, **kwargs: int) -> list[str]:
            done = compact(target, **kwargs)
            calls.extend(done)
            return done

        monkeypatch.setattr(segments, "compact", counted)
        history.tidy(engine)
        assert calls == []  # 20 segments: under the bound
        monkeypatch.setattr(segments, "MAX_SEGMENTS", 16)
        history.tidy(engine)
        assert calls == ["card_transactions"]
        assert len(_manifest(engine, "card_transactions")) == 1
    finally:
        engine.dispose()


def test_a_store_from_before_segments_keeps_its_history(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    with history.using("tables"):
        engine = store.connect(url)
        with engine.begin() as conn:
            history.store_records(conn, "card_transactions", _cards(ROWS), run_id=1)
            history.store_records(conn, "card_transactions", _cards(ROWS[:1]), run_id=2)
        with engine.connect() as conn:
            expected = _sorted(history.load(conn, "card_transactions"), "card_transactions")
        engine.dispose()
    engine = store.connect(url)  # opened as a file store: the records move into segments
    try:
        with engine.connect() as conn:
            assert not history_tables.holds_records(conn, "card_transactions")
            back = _sorted(history.load(conn, "card_transactions"), "card_transactions")
            assert history.new_since(conn, "card_transactions", 1) == (1, datetime(2025, 3, 1))
        pd.testing.assert_frame_equal(back, expected)
        assert len(_manifest(engine, "card_transactions")) == 1
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("segment-city")
    shutil.copy(ROOT / "config.toml", folder / "config.toml")
    shutil.copytree(ROOT / "rules", folder / "rules")
    assert run_cli("demo", "--scale", "0.2", cwd=folder).returncode == 0
    return folder


def _every_read(engine: sa.Engine, run_id: int) -> dict[str, object]:
    """What every history function gives, per dataset, in a comparable form."""
    out: dict[str, object] = {}
    with engine.connect() as conn:
        for name, dataset in datasets.DATASETS.items():
            frame = _sorted(history.load(conn, name), name)
            out[f"{name} load"] = frame
            out[f"{name} dtypes"] = dict(frame.dtypes)
            out[f"{name} new"] = history.new_since(conn, name, run_id - 1)
            out[f"{name} holds"] = history.holds_records(conn, name)
            for column in dataset.column_names:
                out[f"{name} filled {column}"] = history.column_filled(conn, name, column)
            texts = [c.name for c in dataset.columns if c.type == "str"][:3]
            for column in texts:
                out[f"{name} touched {column}"] = history.touched_keys(conn, name, column, 0)
                values = tuple(sorted(v for v in set(frame[column].dropna()))[::3])
                only = history.KeyFilter(column, values, with_null=True)
                out[f"{name} only {column}"] = _sorted(history.load(conn, name, only=only), name)
            if dataset.event_time and not frame.empty:
                times = frame[dataset.event_time].dropna().sort_values()
                since = times.iloc[len(times) // 3].to_pydatetime()
                until = times.iloc[2 * len(times) // 3].to_pydatetime()
                window = history.load(conn, name, since=since, until=until)
                out[f"{name} window"] = _sorted(window, name)
                out[f"{name} timed"] = history.keys_timed_between(
                    conn, name, dataset.key, dataset.event_time, since, until
                )
    return out


def test_both_backends_read_the_demo_city_alike(
    city: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = load_config(city / "config.toml")
    found = {}
    for kind in ("segments", "tables"):
        monkeypatch.setattr(config, "store_url", f"sqlite:///{tmp_path / kind}.sqlite")
        with history.using(kind):  # type: ignore[arg-type]
            summary = pipeline.run_once(config, deliver=False)
            assert summary.status == "ok", summary.as_json()
            engine = store.connect(config.store_url)
            try:
                found[kind] = _every_read(engine, summary.run_id)
                found[kind]["alerts"] = dict(summary.new_alerts)
            finally:
                engine.dispose()
    assert found["segments"].keys() == found["tables"].keys()
    for what, want in found["tables"].items():
        got = found["segments"][what]
        if isinstance(want, pd.DataFrame):
            assert isinstance(got, pd.DataFrame)
            pd.testing.assert_frame_equal(got, want, check_exact=True, obj=what)
        else:
            assert got == want, what
    assert any(isinstance(v, pd.DataFrame) and len(v) > 1000 for v in found["tables"].values())


def test_a_reader_whose_files_were_replaced_meanwhile_reads_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = store.connect(f"sqlite:///{tmp_path / 'store.sqlite'}")
    try:
        vendors = _frame("vendors", VENDORS)
        with engine.begin() as conn:
            history.store_whole(conn, "vendors", vendors, run_id=1)
        read_file = segments_read._read_file
        calls: list[Path] = []

        def replaced_once(path: Path, *args: object) -> object:
            calls.append(path)
            if len(calls) == 1:
                # Another process replaced the dataset and deleted this file after listing.
                with engine.begin() as other:
                    changed = _frame("vendors", [{**VENDORS[0], "name": "바뀐상사"}])
                    history.store_whole(other, "vendors", changed, run_id=2)
                segments.sweep(engine)
                raise FileNotFoundError(path)
            return read_file(path, *args)  # type: ignore[arg-type]

        monkeypatch.setattr(segments_read, "_read_file", replaced_once)
        with engine.connect() as conn:
            back = history.load(conn, "vendors")
        assert list(back["name"]) == ["바뀐상사"]
        assert calls[-1] != calls[0], "read again from the manifest as it is now"
    finally:
        engine.dispose()
