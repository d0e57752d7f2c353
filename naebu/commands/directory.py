"""The officials directory as the commands read it: the copy the last run stored.

A command never pulls a source (a city's live HR database is the daemon's to read, on its
schedule); it acts with the ``officials`` table the run keeps
(:func:`naebu.alerts.officials.directory_from_store`). Before the first run that table is
empty. When a source feeds the directory, a command that checks who may act says so and
stops rather than judge roles against nobody; a setup without a directory source has no
directory to wait for, and its commands go on as before (the trail still names the actor).
"""

from __future__ import annotations

from sqlalchemy import Engine

from naebu.alerts.directory import Directory
from naebu.alerts.officials import NOT_STORED, directory_from_store
from naebu.commands.common import UserError
from naebu.settings.config import Config


def directory_sources(config: Config) -> list[str]:
    """The enabled sources that feed the officials directory (``[routing] directory``)."""
    dataset = config.routing.directory
    return sorted(n for n, s in config.sources.items() if s.enabled and s.dataset == dataset)


def stored_directory(
    config: Config, engine: Engine, command: str, *, required: bool = True
) -> Directory:
    """The officials directory the last run stored in ``engine``, with ``config.routing``.

    ``required``: the command checks roles with it, so an empty store while a source feeds
    the directory is a :class:`UserError` naming the command (``naebu alerts``) and what to
    do. Without ``required`` (officials shown by name only) an empty directory is returned:
    the officials are then shown by employee id.
    """
    with engine.connect() as conn:
        directory = directory_from_store(conn, config.routing)
    if required and len(directory) == 0:
        sources = directory_sources(config)
        if sources:
            feeds = ", ".join(f"[sources.{n}]" for n in sources)
            raise UserError(f"{command}: {NOT_STORED} (it stores what {feeds} holds)")
    return directory
