"""The store schema is under Alembic migrations: they build exactly the tables naebu defines
(a schema change without a migration fails here), and an older store keeps its data."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from services import pg_url, require_service
from test_daemon_helpers import fresh_database

import naebu.store.history  # noqa: F401 - its tables are part of the store
import naebu.store.web_tables  # noqa: F401 - the web inbox tables (0003)
from naebu.store import migrations
from naebu.store import tables as store


def _differences(engine: sa.Engine) -> list[object]:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, store.metadata))


def _check_fresh(url: str) -> None:
    engine = store.connect(url)
    try:
        diff = _differences(engine)
        assert diff == [], (
            "the store tables and the migrations disagree; add a revision "
            "(see naebu/store/migrations/__init__.py): " + "; ".join(map(str, diff[:10]))
        )
        with engine.connect() as conn:
            assert migrations.current(conn) == migrations.head()
    finally:
        engine.dispose()


def test_migrations_build_exactly_the_store_tables_on_sqlite(tmp_path: Path) -> None:
    _check_fresh(f"sqlite:///{tmp_path / 'store.sqlite'}")


def test_migrations_build_exactly_the_store_tables_on_postgresql() -> None:
    require_service("PostgreSQL", pg_url())
    with fresh_database(pg_url(), "naebu_migr") as url:
        _check_fresh(url)
        _check_fresh(url)  # a second connect at head changes nothing


def test_a_store_from_before_migrations_keeps_its_data(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    old = sa.create_engine(url)
    store.metadata.create_all(old)  # how naebu made stores before migrations
    with old.begin() as conn:
        conn.execute(
            sa.insert(store.watermarks).values(
                source="payments", value="2025-01-01", updated_at=datetime(2025, 1, 2)
            )
        )
    old.dispose()
    engine = store.connect(url)
    try:
        with engine.connect() as conn:
            assert migrations.current(conn) == migrations.head()
            assert conn.execute(sa.select(store.watermarks.c.value)).scalar_one() == "2025-01-01"
        assert _differences(engine) == []
    finally:
        engine.dispose()


def test_the_written_out_head_is_the_scripts_head() -> None:
    # store.connect recognises an up-to-date store by HEAD alone, without Alembic: a new
    # revision must move it, or every command would take the slow path (and stay correct).
    assert migrations.head() == migrations.HEAD


@pytest.mark.parametrize("name", ["env.py", "script.py.mako", "alembic.ini"])
def test_migration_files_ship_with_the_package(name: str) -> None:
    assert (Path(migrations.__file__).parent / name).is_file()
