"""A first load goes into a bare history table and its indexes are built after it; whatever
happens, a run leaves every history table with all of its indexes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from conftest import ROOT, run_cli
from services import pg_url, require_service
from test_daemon_helpers import fresh_database
from test_history import _frame

from naebu import pipeline
from naebu.core import datasets
from naebu.settings.config import load_config
from naebu.store import history
from naebu.store import tables as store


def _indexes(engine: sa.Engine, dataset: str) -> set[str]:
    with engine.connect() as conn:
        return {i["name"] for i in sa.inspect(conn).get_indexes(f"rec_{dataset}")}


def _declared(dataset: str) -> set[str]:
    return {str(i.name) for i in history.TABLES[dataset].indexes}


def _payments(n: int) -> pd.DataFrame:
    return _frame(
        "payments",
        [
            {
                "payment_id": f"P{i}",
                "contract_id": f"C{i % 3}",
                "amount": "1000",
                "paid_on": "2025-03-01",
            }
            for i in range(n)
        ],
    )


def _defer_and_build(url: str) -> None:
    engine = store.connect(url)
    try:
        declared = _declared("payments")
        assert {"ix_rec_payments_contract_id", "ix_rec_payments_invoice_no"} <= declared
        assert _indexes(engine, "payments") == declared
        with engine.begin() as conn:
            assert history.defer_indexes(conn, "payments")
        assert _indexes(engine, "payments") == set()
        with engine.begin() as conn:
            history.store_records(conn, "payments", _payments(5), run_id=1)
            history.build_indexes(conn, "payments")
        assert _indexes(engine, "payments") == declared
        # A table holding records keeps its indexes: a later load updates them as it goes.
        with engine.begin() as conn:
            assert not history.defer_indexes(conn, "payments")
            history.build_indexes(conn, "payments")  # nothing missing: nothing done
        assert _indexes(engine, "payments") == declared
        with engine.connect() as conn:
            back = history.load(conn, "payments", only=history.KeyFilter("contract_id", ("C1",)))
        assert sorted(back["payment_id"]) == ["P1", "P4"]
    finally:
        engine.dispose()


def test_defer_and_build_sqlite(tmp_path: Path) -> None:
    # Indexes are the table backend's: a SQLite file store keeps its history in segments
    # unless told otherwise (test_segments.py tests those).
    with history.using("tables"):
        _defer_and_build(f"sqlite:///{tmp_path / 'store.sqlite'}")


def test_defer_and_build_postgresql() -> None:
    require_service("PostgreSQL", pg_url())
    with fresh_database(pg_url(), "naebu_idx") as url:
        _defer_and_build(url)


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("indexed-city")
    shutil.copy(ROOT / "config.toml", folder / "config.toml")
    shutil.copytree(ROOT / "rules", folder / "rules")
    assert run_cli("demo", "--scale", "0.2", cwd=folder).returncode == 0
    return folder


def _every_table_indexed(engine: sa.Engine) -> None:
    for name in history.TABLES:
        assert _indexes(engine, name) == _declared(name), name


def test_a_first_run_stopped_half_way_leaves_every_index(
    city: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = load_config(city / "config.toml")
    monkeypatch.setattr(config, "store_url", f"sqlite:///{tmp_path / 'store.sqlite'}")
    # The table backend's indexes (a SQLite file keeps its history in segments by default).
    monkeypatch.setattr(history, "_forced", ["tables"])
    dropped: list[str] = []
    defer = history.defer_indexes

    def spy(conn: sa.Connection, name: str) -> bool:
        bare = defer(conn, name)
        if bare:
            dropped.append(name)
        return bare

    monkeypatch.setattr(history, "defer_indexes", spy)
    # Stop after the first batch of the first source with a history: its load is cut short.
    loaded: list[str] = []
    store_records = history.store_records

    def storing(conn: sa.Connection, name: str, *args: object, **kwargs: object) -> int:
        if not datasets.get(name).reference:  # store_whole writes through store_records too
            loaded.append(name)
        return store_records(conn, name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(history, "store_records", storing)
    summary = pipeline.run_once(config, should_stop=lambda: bool(loaded), deliver=False)
    assert summary.interrupted
    first = loaded[0]
    assert dropped == [first], "the first load did not go into a bare table"
    engine = store.connect(config.store_url)
    try:
        _every_table_indexed(engine)
        # An index lost to a crash between the two is built by the next pull of its dataset.
        with engine.begin() as conn:
            conn.execute(sa.text(f"DROP INDEX ix_rec_{first}_run"))
        dropped.clear()
        read: list[str] = []
        load = history.load

        def loading(conn: sa.Connection, name: str, **kwargs: object) -> pd.DataFrame:
            read.append(name)
            return load(conn, name, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(history, "load", loading)
        summary = pipeline.run_once(config, deliver=False)
        assert summary.status == "ok", summary.as_json()
        assert first not in dropped, "a table holding records keeps its indexes"
        assert len(dropped) > 1, "the other first loads went into bare tables"
        # Rules read no older records of a dataset the store held none of before this run.
        assert first in read and not set(dropped) & set(read), (dropped, read)
        _every_table_indexed(engine)
    finally:
        engine.dispose()
