"""The floors hold, and naebu installs as one import package.

The floors contract is pyproject.toml's ``[tool.importlinter]`` (docs/architecture.md);
.ci/run runs ``lint-imports`` over the checkout. Here it must also fail when a lower floor
imports a higher one, or the contract proves nothing; and a wheel built from the repository
must hold exactly one top-level import package, ``naebu`` (the design card's ``engine/``,
``connectors/``, ``alerts/`` and ``inbox/`` folders inside it).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT = Path(sys.executable).with_name("lint-imports")
FOLDERS = ("engine", "connectors", "alerts", "inbox")


def _lint(tree: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run(
        [str(LINT), "--no-cache", str(tree / "pyproject.toml")],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _copy(tmp_path: Path) -> Path:
    """The package and its configuration, links resolved, in a tree of its own."""
    tree = tmp_path / "tree"
    tree.mkdir()
    shutil.copy(ROOT / "pyproject.toml", tree)
    shutil.copytree(ROOT / "naebu", tree / "naebu", ignore=shutil.ignore_patterns("__pycache__"))
    return tree


def test_the_floors_hold_and_an_upward_import_breaks_them(tmp_path: Path) -> None:
    tree = _copy(tmp_path)
    kept = _lint(tree)
    assert kept.returncode == 0, kept.stdout + kept.stderr
    assert "1 kept, 0 broken" in kept.stdout

    # The bottom floor reaching for the alerts: exactly what the contract forbids.
    problems = tree / "naebu" / "core" / "problems.py"
    problems.write_text(
        problems.read_text(encoding="utf-8") + "\nfrom naebu.alerts import raising  # noqa\n",
        encoding="utf-8",
    )
    broken = _lint(tree)
    assert broken.returncode != 0
    assert "BROKEN" in broken.stdout
    assert "naebu.core.problems -> naebu.alerts.raising" in broken.stdout


def test_a_new_module_must_be_given_a_floor(tmp_path: Path) -> None:
    tree = _copy(tmp_path)
    (tree / "naebu" / "stray.py").write_text('"""Nowhere."""\n', encoding="utf-8")
    out = _lint(tree)
    assert out.returncode != 0
    assert "naebu.stray" in out.stdout + out.stderr


def test_the_wheel_installs_one_import_package(tmp_path: Path) -> None:
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q"]
        + ["-w", str(tmp_path), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    (wheel,) = tmp_path.glob("naebu-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert tops == {"naebu"}
    for folder in FOLDERS:
        assert f"naebu/{folder}/__init__.py" in names
    assert "naebu/engine/loader.py" in names
    assert "naebu/inbox/templates/base.html" in names
    assert "naebu/store/migrations/alembic.ini" in names

    # Installed, it puts one import package into site-packages, and naebu.engine imports.
    target = tmp_path / "site"
    installed = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "-q"]
        + ["--target", str(target), str(wheel)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert installed.returncode == 0, installed.stdout + installed.stderr
    packages = sorted(
        p.name for p in target.iterdir() if p.is_dir() and not p.name.endswith(".dist-info")
    )
    assert packages in (["naebu"], ["bin", "naebu"])  # bin: the console script
    probe = subprocess.run(
        [sys.executable, "-c", "import naebu.engine.loader as m; print(m.__file__)"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(target)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.strip().startswith(str(target / "naebu" / "engine"))


def test_no_code_imports_the_folders_outside_the_namespace() -> None:
    bare = re.compile(rf"^\s*(?:from|import)\s+(?:{'|'.join(FOLDERS)})(?:\.|\s|$)", re.M)
    offenders = []
    for folder in ("naebu", *FOLDERS, "bench", "tests"):
        for path in (ROOT / folder).rglob("*.py"):
            if bare.search(path.read_text(encoding="utf-8")):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == [], "import them as naebu.<folder>: " + ", ".join(offenders)


@pytest.mark.parametrize("folder", FOLDERS)
def test_the_namespace_links_point_at_the_design_cards_folders(folder: str) -> None:
    link = ROOT / "naebu" / folder
    assert link.is_symlink() and os.readlink(link) == f"../{folder}"
