"""Whom alerts reach, for ``naebu check`` and ``naebu status``: the directory the run routes
with, read from the store (never from a source), checked by
:func:`naebu.alerts.reach.reach_warnings`."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from naebu.alerts.officials import directory_from_history
from naebu.alerts.reach import reach_warnings
from naebu.commands.directory import directory_sources
from naebu.settings.config import Config

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from naebu.engine.rule import RuleMeta

#: The store holds no directory yet: nothing to check.
NOT_READ = (
    "the officials directory has not been read yet (run `naebu run --once`): "
    "whom alerts reach is checked once it is stored"
)

#: No enabled source feeds the officials directory ([routing] directory).
NO_DIRECTORY = (
    "control failure: no source feeds the officials directory (dataset {dataset}), so every "
    "alert is unassigned and reaches no official, manager or audit office - add a "
    '[sources.*] with dataset = "{dataset}" (an HR export; docs/alerts.md)'
)


def stored_reach(
    config: Config, rules: Iterable[RuleMeta] | None = None, engine: Engine | None = None
) -> list[str]:
    """:func:`~naebu.alerts.reach.reach_warnings` for the directory the pipeline routes with
    (the record history: :func:`~naebu.alerts.officials.directory_from_history`).

    ``rules``: the rules' metadata (default: the rule files of ``config``, those that load).
    Without ``engine`` the store is opened when it exists (a SQLite file not yet made is
    not created: the directory is then "not read yet"); a store that cannot be opened is
    one warning line.
    """
    from naebu.store import tables as store

    if rules is None:
        from naebu.engine.loader import load_rules

        rules = [
            r.meta
            for r in load_rules(
                config.rule_paths, root=config.base_dir, government=config.city
            ).rules
        ]

    if not directory_sources(config):
        # Nothing to wait for: no run will ever store a directory to route with.
        return [NO_DIRECTORY.format(dataset=config.routing.directory)]
    own = engine is None
    if engine is None:
        if _missing_sqlite(config.store_url):
            return [NOT_READ]
        try:
            engine = store.connect(config.store_url)
        except Exception as exc:  # a server down: check goes on with the files
            return [f"could not read the store to check whom alerts reach: {exc}"]
    try:
        with engine.connect() as conn:
            directory = directory_from_history(conn, config.routing)
    finally:
        if own:
            engine.dispose()
    if len(directory) == 0:
        return [NOT_READ]
    return reach_warnings(directory, rules, config.routing)


def _missing_sqlite(url: str) -> bool:
    """A SQLite store whose file does not exist yet (in-memory counts as missing)."""
    if not url.startswith("sqlite"):
        return False
    database = url.split(":///", 1)[1] if ":///" in url else ""
    return not database or database == ":memory:" or not Path(database).exists()
