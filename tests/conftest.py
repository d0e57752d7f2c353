"""Shared fixtures: the repository root, a CLI runner and throwaway configs."""

from __future__ import annotations

import os
import subprocess as sp
import sys
from collections.abc import Iterator
from pathlib import Path
from subprocess import CompletedProcess

import pytest
from cli_inproc import run_cli_inproc
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
    *args: str, cwd: Path, env: dict[str, str] | None = None, subprocess: bool = False
) -> CompletedProcess[str]:
    """Run ``naebu ARGS`` in ``cwd`` with ``env`` added to the environment.

    In this process by default (see :mod:`cli_inproc`: a subprocess pays a second or more of
    Python, pandas and SQLAlchemy imports each); ``subprocess=True`` runs a real process, for
    tests about the process itself (exit status from the shell, signals, daemons, what leaves
    the process on its standard streams, imports, the environment).
    """
    if subprocess:
        return run_cli_process(*args, cwd=cwd, env=env)
    return run_cli_inproc(*args, cwd=cwd, env=env)


def run_cli_process(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> CompletedProcess[str]:
    """Run ``naebu ARGS`` as a real subprocess, as a user would."""
    full_env = {**os.environ, **(env or {})}
    if "NAEBU_CONFIG" not in (env or {}):
        full_env.pop("NAEBU_CONFIG", None)
    return sp.run(
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
