"""Migrations are frozen: a revision imports only Alembic, SQLAlchemy and the standard library.

A revision that imported naebu's live code (a table definition, a function that fills a
table) would change what it does whenever that code changes, so a store migrated later would
get a different schema or different data than one migrated when the revision was written.
Each revision carries its own copy of what it needs instead.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from naebu.store import migrations

VERSIONS = Path(migrations.__file__).parent / "versions"
REVISIONS = sorted(p for p in VERSIONS.glob("*.py") if p.name != "__init__.py")


def naebu_imports(source: str) -> list[str]:
    """The modules of naebu that ``source`` imports, anywhere in it (inside functions too)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            # A relative import (from . import x) reaches into naebu.store.migrations.
            names = ["naebu." + (node.module or "") if node.level else node.module or ""]
        else:
            continue
        found += [n for n in names if n == "naebu" or n.startswith("naebu.")]
    return found


def test_there_are_revisions() -> None:
    assert len(REVISIONS) >= 17


@pytest.mark.parametrize("path", REVISIONS, ids=lambda p: p.name)
def test_a_revision_imports_nothing_of_naebu(path: Path) -> None:
    assert naebu_imports(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize(
    "source",
    [
        "import naebu.inbox.tables",
        "import naebu",
        "from naebu.alerts.tallies import rebuild",
        "def upgrade():\n    from naebu.alerts import tallies\n",
        "from . import helpers",
    ],
)
def test_the_check_sees_an_import_of_naebu(source: str) -> None:
    assert naebu_imports(source) != []


def test_the_check_lets_alembic_sqlalchemy_and_the_standard_library_pass() -> None:
    source = "import sqlalchemy as sa\nfrom alembic import op\nimport json\nfrom naebux import y\n"
    assert naebu_imports(source) == []
