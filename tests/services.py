"""Real services for tests: PostgreSQL and MariaDB/MySQL URLs, and a guard for their absence.

URLs come from ``NAEBU_TEST_PG_URL`` and ``NAEBU_TEST_MYSQL_URL``. When a service cannot be
reached, :func:`require_service` skips the test naming the service, or fails it when ``CI`` is
set (a CI run must not pass by skipping what it was meant to test).
"""

from __future__ import annotations

import os
import uuid

import pytest
import sqlalchemy as sa

DEFAULT_PG_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/test"
DEFAULT_MYSQL_URL = "mysql+pymysql://root@127.0.0.1:3306/test"

_reachable: dict[str, str | None] = {}


def pg_url() -> str:
    """SQLAlchemy URL of the test PostgreSQL database."""
    return os.environ.get("NAEBU_TEST_PG_URL", DEFAULT_PG_URL)


def mysql_url() -> str:
    """SQLAlchemy URL of the test MariaDB/MySQL database."""
    return os.environ.get("NAEBU_TEST_MYSQL_URL", DEFAULT_MYSQL_URL)


def require_service(name: str, url: str) -> str:
    """Return ``url`` when the database answers; else skip (or, under CI, fail) naming it."""
    if url not in _reachable:
        engine = sa.create_engine(url, connect_args=_timeout(url))
        try:
            with engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
            _reachable[url] = None
        except Exception as exc:  # any driver or network error means "not reachable"
            _reachable[url] = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0]}"
        finally:
            engine.dispose()
    error = _reachable[url]
    if error is not None:
        safe = sa.engine.make_url(url).render_as_string(hide_password=True)
        message = f"{name} not reachable at {safe} ({error})"
        if os.environ.get("CI"):
            pytest.fail(f"{message}; CI requires it", pytrace=False)
        pytest.skip(message)
    return url


def unique_name(prefix: str) -> str:
    """A table name no concurrent test run will use."""
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


def _timeout(url: str) -> dict[str, int]:
    backend = sa.engine.make_url(url).get_backend_name()
    return {"connect_timeout": 3} if backend in ("postgresql", "mysql", "mariadb") else {}
