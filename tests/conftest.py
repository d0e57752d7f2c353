"""Shared fixtures: the repository root, a CLI runner and throwaway configs."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from naebu.store import tables as store

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def root() -> Path:
    """The repository root (where config.toml and rules/ live)."""
    return ROOT


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    """A fresh SQLite store (migrated) in the test's temporary folder."""
    eng = store.connect("sqlite:///" + str(tmp_path / "store.sqlite"))
    yield eng
    eng.dispose()


def run_cli(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``naebu ARGS`` as a real subprocess, as a user would."""
    full_env = {**os.environ, **(env or {})}
    if "NAEBU_CONFIG" not in (env or {}):
        full_env.pop("NAEBU_CONFIG", None)
    return subprocess.run(
        [sys.executable, "-m", "naebu.cli", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def write_config(folder: Path, body: str) -> Path:
    """Write a config.toml into ``folder`` and return its path."""
    path = folder / "config.toml"
    path.write_text(body, encoding="utf-8")
    return path
