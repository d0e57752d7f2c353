"""`naebu bench`: the benchmark of a source checkout (``python -m bench``), as a naebu command."""

from __future__ import annotations

import atexit
import gc
import sys
from pathlib import Path

import click


def _checkout() -> Path | None:
    """The source checkout naebu runs from (an editable install), if it holds ``bench/``."""
    import naebu

    root = Path(naebu.__file__).resolve().parent.parent
    return root if (root / "bench" / "runner.py").is_file() else None


@click.command(
    context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False},
    add_help_option=False,
)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def bench(args: tuple[str, ...]) -> None:
    """Benchmark the engine and its baselines (docs/benchmark.md); `naebu bench --help`."""
    root = _checkout()
    if root is None:
        raise click.ClickException(
            "naebu bench needs the source checkout (its bench/ folder): install naebu from "
            "the repository with pip install -e '.[bench]' and run it there"
        )
    # DuckDB (nanobind) reports every object still alive at exit as a leak: let Python tear
    # down normally (naebu.cli.entry freezes what is left at exit to save 0.2 s).
    atexit.unregister(gc.freeze)
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    from bench.__main__ import main

    sys.exit(main(list(args), prog="naebu bench"))
