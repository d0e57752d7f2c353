"""`naebu demo`: write the synthetic demo city."""

from __future__ import annotations

from pathlib import Path

import click

from naebu.commands.common import CONFIG_HELP
from naebu.config import find_config


@click.command()
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    help="folder to write the demo city into [default: demo-city beside the config file]",
)
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help=CONFIG_HELP)
@click.option(
    "--seed", type=int, default=42, show_default=True, help="random seed (same seed, same city)"
)
@click.option(
    "--scale",
    type=click.FloatRange(min=0.01),
    default=1.0,
    show_default=True,
    help="multiplies the record volumes",
)
def demo(out: str | None, config_path: str | None, seed: int, scale: float) -> None:
    """Write the synthetic demo city: a SQLite database, a card-company file drop and labels.csv.

    The default config reads the demo from ``demo-city/`` beside itself, so that is where it
    is written unless ``--out`` says otherwise (the config need not exist yet).
    """
    from naebu.demo import generate

    if out is None:
        out = str(find_config(config_path).parent / "demo-city")
    summary = generate(Path(out), seed=seed, scale=scale)
    click.echo(f"demo city written to {out} (seed {seed}, scale {scale:g})")
    for line in summary.lines():
        click.echo(f"  {line}")
