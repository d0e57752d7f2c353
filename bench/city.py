"""The benchmark's demo city: a work folder with the shipped config, the demo sources, and the
canonical frames read from them through the real connectors.

The work folder holds a copy of ``config.toml`` whose ``[rules] paths`` point at the
repository's ``rules/`` (so the pack under test is the one in the tree), the demo city written
by ``naebu demo`` (a subprocess, as a user runs it) and, after a run, the store in ``var/``.
"""

from __future__ import annotations

import csv
import dataclasses
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from naebu.connectors import make_connector
from naebu.connectors.base import SourceState
from naebu.core import datasets, dtypes
from naebu.settings.config import Config, load_config

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class City:
    """A generated demo city in its work folder."""

    workdir: Path
    config_path: Path
    #: How it was made: ``{"scale": 10}`` or ``{"profile": "province"}``.
    spec: dict[str, object]
    generate_seconds: float
    #: The folder (in ``workdir``) of this config's store and outbox file.
    var: str = "var"

    @property
    def demo_dir(self) -> Path:
        """Where ``naebu demo`` wrote the sources and ``labels.csv``."""
        return self.workdir / "demo-city"

    @property
    def store_path(self) -> Path:
        """The SQLite store a run writes (``var/naebu.sqlite``, as the shipped config says)."""
        return self.workdir / self.var / "naebu.sqlite"

    def with_store(self, var: str) -> City:
        """The same city and sources, with a config of its own whose store (and outbox file)
        live in ``workdir/var``: a second, fresh store."""
        path = write_config(self.workdir, var=var)
        return dataclasses.replace(self, config_path=path, var=var)

    def config(self) -> Config:
        """The work folder's configuration, loaded and checked."""
        return load_config(self.config_path)

    def labels(self) -> set[tuple[str, str, str]]:
        """The planted anomalies: (rule id, dataset, record key)."""
        with (self.demo_dir / "labels.csv").open(encoding="utf-8") as f:
            return {(r["rule_id"], r["dataset"], r["record_key"]) for r in csv.DictReader(f)}


def write_config(workdir: Path, var: str = "var") -> Path:
    """Copy the shipped ``config.toml`` into ``workdir``, its rules read from the repository
    and, for another ``var`` than ``var``, its store and outbox file in that folder (the
    copy is then named ``config-VAR.toml``)."""
    text = (ROOT / "config.toml").read_text(encoding="utf-8")
    rules = (ROOT / "rules").as_posix()
    edits = [(r'(?m)^paths = \["rules"\]', f'paths = ["{rules}"]')]
    if var != "var":
        edits += [(r'(?m)^url = "sqlite:///var/', f'url = "sqlite:///{var}/'),
                  (r'(?m)^outbox_file = "var/', f'outbox_file = "{var}/')]  # fmt: skip
    for pattern, value in edits:
        text, n = re.subn(pattern, value, text, count=1)
        if n != 1:
            raise RuntimeError(f"config.toml changed: no line matches {pattern!r}")
    path = workdir / ("config.toml" if var == "var" else f"config-{var}.toml")
    path.write_text(text, encoding="utf-8")
    return path


def generate(
    workdir: Path,
    *,
    scale: float | None = None,
    profile: str | None = None,
    volumes: str | None = None,
    seed: int = 42,
) -> City:
    """Write the config and run ``naebu demo`` into ``workdir/demo-city``.

    ``profile`` is passed as ``--profile`` (a named volume set of ``naebu demo``, such as the
    province) and ``volumes`` as ``--volumes`` (exact counts); without either, ``--scale``.
    Raises RuntimeError with the demo's own message when it fails (an unknown profile, a
    size too small for the generator).
    """
    workdir.mkdir(parents=True, exist_ok=True)
    config_path = write_config(workdir)
    args = ["demo", "--out", str(workdir / "demo-city"), "--seed", str(seed)]
    spec: dict[str, object] = {"seed": seed}
    if profile is not None or volumes is not None:
        if profile is not None:
            args += ["--profile", profile]
            spec["profile"] = profile
        if volumes is not None:
            args += ["--volumes", volumes]
            spec["volumes"] = volumes
    else:
        args += ["--scale", f"{scale if scale is not None else 1.0:g}"]
        spec["scale"] = scale if scale is not None else 1.0
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "naebu.cli", *args, "--config", str(config_path)],
        cwd=workdir,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        tail = (done.stderr.strip() or done.stdout.strip()).splitlines()[-1:]
        raise RuntimeError(f"naebu {' '.join(args)} failed: {' '.join(tail)}")
    return City(workdir, config_path, spec, time.perf_counter() - start)


@dataclass
class Loaded:
    """Every canonical dataset of the city, read through the connectors."""

    frames: dict[str, pd.DataFrame]
    quarantined: int
    #: Wall seconds per source (pull + coerce).
    seconds: dict[str, float]


def load_frames(config: Config) -> Loaded:
    """Read every enabled source with its real connector (chunked pull + coerce), as a first
    run does, and concatenate the batches per dataset."""
    parts: dict[str, list[pd.DataFrame]] = {}
    quarantined = 0
    seconds: dict[str, float] = {}
    for source in config.sources.values():
        if not source.enabled:
            continue
        start = time.perf_counter()
        for batch in make_connector(source).pull(SourceState()):
            quarantined += len(batch.quarantined)
            if not batch.frame.empty:
                parts.setdefault(source.dataset, []).append(batch.frame)
        seconds[source.name] = time.perf_counter() - start
    frames = {}
    for name in datasets.DATASETS:
        found = parts.get(name, [])
        if found:  # joined as the run joins them (one Arrow chunk per column)
            frames[name] = dtypes.joined(found)
        else:
            columns = datasets.get(name).column_names
            frames[name] = pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
    return Loaded(frames, quarantined, seconds)
