"""`naebu demo`: write the synthetic demo city."""

from __future__ import annotations

from pathlib import Path

import click

from naebu.commands.common import CONFIG_HELP
from naebu.demo.volumes import KEYS, PROFILES
from naebu.settings.config import find_config


@click.command()
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    help="folder to write the demo city into [default: demo-city beside the config file]",
)
@click.option(
    "--shape",
    type=click.Choice(["canonical", "exports"]),
    default="canonical",
    show_default=True,
    help="canonical: naebu's own shape (city.sqlite, card-drop/); exports: the same city as "
    "other systems export it (exports/: Korean headers, cp949, title rows, several files per "
    "ledger), read by examples/exports-city/config.toml",
)
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help=CONFIG_HELP)
@click.option(
    "--seed", type=int, default=42, show_default=True, help="random seed (same seed, same city)"
)
@click.option(
    "--scale",
    type=click.FloatRange(min=0.01),
    default=None,
    help="multiplies every record volume (scale 1: 10,000 payments) [default: 1]",
)
@click.option(
    "--profile",
    type=click.Choice(sorted(PROFILES)),
    help="a named volume set: province = 1M payments, 200k card approvals, 100k contracts, "
    "20k property sales, the rest in proportion to the payments",
)
@click.option(
    "--volumes",
    "volume_text",
    metavar="NAME=COUNT,...",
    help="exact record counts, over the profile's; the rest follow the payments. Names: "
    + ", ".join(KEYS)
    + " (cities: local governments of the demo city's shape)",
)
def demo(
    out: str | None,
    shape: str,
    config_path: str | None,
    seed: int,
    scale: float | None,
    profile: str | None,
    volume_text: str | None,
) -> None:
    """Write the synthetic demo city: a SQLite database, a card-company file drop and labels.csv.

    The default config reads the demo from ``demo-city/`` beside itself, so that is where it
    is written unless ``--out`` says otherwise (the config need not exist yet).
    ``--shape exports`` writes the same city as other systems export it; read it with
    ``examples/exports-city/config.toml`` (``naebu demo --shape exports --config
    examples/exports-city/config.toml`` writes it beside that config).

    \b
    Size: --scale multiplies the base volumes; --profile and --volumes set
    datasets exactly (--volumes payments=1000000,card_transactions=200k).
    What is not given follows the payments (scale = payments / 10,000).
    From scale 15 the organisation grows too: one local government of 299
    officials per ten times the base volume, 31 at most. See
    docs/benchmark.md, "Generating the benchmark city".
    """
    from naebu.demo import generate, volumes
    from naebu.demo.exports import generate_exports

    try:
        size = volumes.resolve(
            scale, profile, volumes.parse(volume_text) if volume_text is not None else None
        )
    except ValueError as e:
        raise click.UsageError(str(e)) from None
    if out is None:
        out = str(find_config(config_path).parent / "demo-city")
    try:
        write = generate_exports if shape == "exports" else generate
        summary = write(Path(out), seed=seed, size=size)
    except volumes.DemoSizeError as e:  # a size the planting cannot fit
        raise click.ClickException(str(e)) from None
    click.echo(
        f"demo city{' (exports shape)' if shape == 'exports' else ''} written to {out} (seed {seed}, scale {summary.scale:g}, "
        f"{summary.cities} local government{'s' if summary.cities > 1 else ''})"
    )
    for line in summary.lines():
        click.echo(f"  {line}")
