"""The documentation cannot rot when code moves.

Every module the README and docs/*.md name - by path (``alerts/raising.py``) or dotted
(``naebu.alerts.lifecycle.act``, down to the function) - exists; every function the walk of
docs/architecture.md names in its tables is in the module of its row; and every floor of
pyproject.toml's import-linter contract is drawn in docs/architecture.md, top floor first,
with each of its modules.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
import tomllib
from pathlib import Path
from types import ModuleType

import pytest
from conftest import ROOT

ARCHITECTURE = ROOT / "docs" / "architecture.md"
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

#: A path to a Python file: ``alerts/raising.py``, ``naebu/store/history.py``, ``../x/y.py``.
PATH = re.compile(r"(?<![\w./-])((?:\.\.?/)*(?:[\w-]+/)+[\w.-]+\.py)(?![\w.])")
#: A dotted name under naebu: ``naebu.store.history``, ``naebu.alerts.lifecycle.act``.
DOTTED = re.compile(r"(?<![\w./-])(naebu(?:\.[A-Za-z_]\w*)+)")
#: Named in the docs but not this repository's modules.
NOT_OURS = {
    "apprise/plugins/email/smtp.py",  # apprise's own source (docs/benchmark.md)
    "naebu.sqlite",  # the default SQLite store's file name
    "naebu.sqlite.lock",  # and its leader lock file
}
#: A backticked name in a table's functions cell: ``load_rules``, ``PullStage.pull_all``.
NAME = re.compile(r"`([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)(?:\(\))?`")
ONE_PATH = re.compile(r"^`((?:[\w-]+/)+[\w.-]+\.py)`$")


def _line(text: str, at: int) -> int:
    return text.count("\n", 0, at) + 1


def _shown(doc: Path) -> str:
    return doc.relative_to(ROOT).as_posix()


def _module_name(path: str) -> str:
    """The dotted name a repository path is imported by (one namespace: ``engine/x.py`` is
    ``naebu.engine.x``, through the link ``naebu/engine``)."""
    parts = path.removesuffix(".py").split("/")
    if parts[-1] == "__init__":
        parts.pop()
    if parts[0] != "naebu":
        assert (ROOT / "naebu" / parts[0]).is_symlink(), f"{path}: not under naebu/ nor linked"
        parts.insert(0, "naebu")
    return ".".join(parts)


def _attribute(module: ModuleType, dotted: str) -> str | None:
    """Why ``dotted`` is not an attribute of ``module``, or None when it is."""
    obj: object = module
    for part in dotted.split("."):
        if not hasattr(obj, part):
            return f"{module.__name__} has no {dotted}"
        obj = getattr(obj, part)
    return None


def _resolve(dotted: str) -> str | None:
    """Why ``dotted`` names no module (or no attribute of its module), or None when it does."""
    parts = dotted.split(".")
    for n in range(len(parts), 0, -1):
        name = ".".join(parts[:n])
        try:
            spec = importlib.util.find_spec(name)
        except ModuleNotFoundError:  # a parent is a module, not a package
            continue
        if spec is None:
            continue
        if n == 1 and len(parts) > 1:
            return f"no module {'.'.join(parts[:2])}"
        rest = ".".join(parts[n:])
        return _attribute(importlib.import_module(name), rest) if rest else None
    return f"no module {dotted}"


def _paths(doc: Path) -> list[tuple[int, str, Path]]:
    text = doc.read_text(encoding="utf-8")
    found = []
    for m in PATH.finditer(text):
        path = m.group(1)
        if path in NOT_OURS:
            continue
        base = doc.parent if path.startswith(".") else ROOT
        found.append((_line(text, m.start()), path, (base / path).resolve()))
    return found


def _dotted(doc: Path) -> list[tuple[int, str]]:
    text = doc.read_text(encoding="utf-8")
    return [
        (_line(text, m.start()), m.group(1).rstrip("."))
        for m in DOTTED.finditer(text)
        if m.group(1).rstrip(".") not in NOT_OURS
    ]


@pytest.mark.parametrize("doc", DOCS, ids=_shown)
def test_every_python_path_named_exists(doc: Path) -> None:
    missing = [
        f"{_shown(doc)}:{line}: {path}" for line, path, real in _paths(doc) if not real.is_file()
    ]
    assert not missing, "files named but not in the repository:\n" + "\n".join(missing)


@pytest.mark.parametrize("doc", DOCS, ids=_shown)
def test_every_dotted_module_named_exists(doc: Path) -> None:
    wrong = [
        f"{_shown(doc)}:{line}: {name}: {why}"
        for line, name in _dotted(doc)
        if (why := _resolve(name)) is not None
    ]
    assert not wrong, "dotted names that do not resolve:\n" + "\n".join(wrong)


#: The heading of the walk: one record from a source file to an answer.
WALK = "## One record"


def test_every_repository_path_of_the_architecture_exists() -> None:
    """Rule files, templates and folders too (``rules/cards/business_card.toml``,
    ``engine/ruletypes/``): every backticked path that starts in a folder of the repository
    (not ``demo-city/`` or ``var/``, which a run writes)."""
    text = ARCHITECTURE.read_text(encoding="utf-8")
    folders = {p.name for p in ROOT.iterdir() if p.is_dir()}
    missing = [
        f"docs/architecture.md:{_line(text, m.start())}: {m.group(1)}"
        for m in re.finditer(r"`((?:[\w.-]+/)+[\w.-]*)`", text)
        if m.group(1).split("/")[0] in folders and not (ROOT / m.group(1)).exists()
    ]
    assert not missing, "paths named but not in the repository:\n" + "\n".join(missing)


def _walk_rows() -> list[tuple[int, str, list[str]]]:
    """The table rows of the walk in docs/architecture.md naming a module and its functions:
    (line, module path, names), from a cell holding one backticked path and the cell after."""
    rows = []
    lines = ARCHITECTURE.read_text(encoding="utf-8").splitlines()
    assert any(line.startswith(WALK) for line in lines), f"docs/architecture.md has {WALK!r}"
    walking = False
    for n, line in enumerate(lines, 1):
        if line.startswith("## "):
            walking = line.startswith(WALK)
        if not walking or not line.startswith("|"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        for cell, following in zip(cells, cells[1:], strict=False):
            m = ONE_PATH.match(cell)
            if m and following:
                rows.append((n, m.group(1), NAME.findall(following)))
    return rows


def test_the_walk_names_functions_of_their_modules() -> None:
    rows = _walk_rows()
    assert len(rows) >= 40, "the walk's tables name a module and its functions per row"
    wrong = []
    for line, path, names in rows:
        assert names, f"docs/architecture.md:{line}: {path} names no function"
        module = importlib.import_module(_module_name(path))
        wrong += [
            f"docs/architecture.md:{line}: {why}"
            for name in names
            if (why := _attribute(module, name)) is not None
        ]
    assert not wrong, "functions the walk names that are not there:\n" + "\n".join(wrong)


def _layers() -> list[list[str]]:
    """The floors of pyproject.toml's layers contract, top first, each its module names."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    (floors,) = [c for c in contracts if c["type"] == "layers"]
    return [[m.strip() for m in re.split(r"[:|]", layer)] for layer in floors["layers"]]


def _drawing() -> list[str]:
    """The lines of the floors' drawing: the first fenced block of docs/architecture.md."""
    text = ARCHITECTURE.read_text(encoding="utf-8")
    block = re.search(r"^```text\n(.*?)^```", text, re.S | re.M)
    assert block, "docs/architecture.md draws the floors in a ```text block"
    return block.group(1).splitlines()


def test_every_floor_is_drawn_top_first_with_its_modules() -> None:
    layers = _layers()
    # A floor starts at a line opening with its number; the drawing lists them top first.
    starts = [
        (i, int(m.group(1)))
        for i, line in enumerate(_drawing())
        if (m := re.match(r"\s{0,6}(\d+)\s", line))
    ]
    numbers = [number for _, number in starts]
    assert numbers == list(range(len(layers), 0, -1)), (
        f"the drawing's floors, top first, are {numbers}; pyproject.toml has {len(layers)}"
    )
    lines = _drawing()
    ends = [i for i, _ in starts[1:]] + [len(lines)]
    for (start, number), end, modules in zip(starts, ends, layers, strict=True):
        floor = "\n".join(lines[start:end])
        missing = [m for m in modules if not re.search(rf"(?<![\w.]){re.escape(m)}(?![\w])", floor)]
        assert not missing, f"floor {number} of the drawing lacks {missing} (pyproject.toml)"


def test_readme_how_it_works_links_the_architecture() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## How it works", 1)[1].split("\n## ", 1)[0]
    assert "(docs/architecture.md)" in section
    for floor in ("naebu.core", "naebu.store", "naebu.settings", "naebu.pipeline"):
        assert floor in section, floor
