"""Progress for long commands: a bar on a terminal, silence when output is not a terminal
(a daemon's log, a cron mail, a pipe)."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from typing import TypeVar

import click

T = TypeVar("T")


def progress(items: Sequence[T], label: str) -> Iterator[T]:
    """Iterate over ``items``, drawing a progress bar on stderr when it is a terminal."""
    if not sys.stderr.isatty():
        yield from items
        return
    with click.progressbar(items, label=label, file=sys.stderr) as bar:
        yield from bar
