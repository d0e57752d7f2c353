"""Done-when 4 of issue 16: `naebu sources suggest` on every file (and every table of the SQLite
ledger) of the exports demo picks the right dataset and at least 90% of the columns that
examples/exports-city/config.toml maps, and its section, pasted into a config with the shipped
rule pack, passes `naebu check`. Skipped where the exports demo (`naebu demo --shape exports`)
is not in this checkout."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from naebu.cli import main
from naebu.connectors import check_source
from naebu.connectors.source_settings import SourceConfig
from naebu.connectors.suggest import load_synonyms, suggest
from naebu.settings.config import load_config

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "exports-city" / "config.toml"
MAPPING_KEYS = "values" in getattr(SourceConfig, "__dataclass_fields__", {})

pytestmark = pytest.mark.skipif(
    not EXAMPLE.is_file(), reason="the exports demo (naebu demo --shape exports) is not here"
)


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("exports") / "demo-city"
    result = CliRunner().invoke(
        main, ["demo", "--shape", "exports", "--out", str(out), "--scale", "0.2"]
    )
    assert result.exit_code == 0, result.output
    return out


def _file_sources() -> list[tuple[str, dict]]:  # type: ignore[type-arg]
    raw = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    return [(n, s) for n, s in raw["sources"].items() if s.get("kind") == "files"]


def test_every_export_file_is_guessed(city: Path, tmp_path: Path) -> None:
    synonyms, _ = load_synonyms()
    right = total = 0
    for name, src in _file_sources():
        folder = city / Path(src["path"]).relative_to("demo-city")
        files = sorted(folder.glob(src["pattern"]))
        assert files, (name, folder, src["pattern"])
        for path in files:
            s = suggest(path, synonyms)
            assert s.dataset == src["dataset"], (path.name, s.ranking[:3])
            assert s.sample.header_row == src.get("header_row", 1), path.name
            expected = src.get("columns", {})
            hits = sum(s.mapping.get(c) == h for c, h in expected.items())
            assert hits >= 0.9 * len(expected), (path.name, s.mapping, expected)
            right, total = right + hits, total + len(expected)
    assert right >= 0.9 * total


def _sql_sources() -> list[tuple[str, dict]]:  # type: ignore[type-arg]
    raw = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    return [(n, s) for n, s in raw["sources"].items() if s.get("kind") == "sql"]


def test_every_ledger_table_is_guessed(city: Path) -> None:
    synonyms, _ = load_synonyms()
    sql = _sql_sources()
    assert sql, "the exports city keeps some ledgers in a database"
    for name, src in sql:
        s = suggest(city / "exports" / "재정.sqlite", synonyms, table=src["table"])
        assert s.dataset == src["dataset"], (name, s.ranking[:3])
        expected = src.get("columns", {})
        hits = sum(s.mapping.get(c) == h for c, h in expected.items())
        assert hits >= 0.9 * len(expected), (name, s.mapping, expected)


def test_every_pasted_section_passes_naebu_check(city: Path, tmp_path: Path) -> None:
    """What a new user does: paste the printed sections into one config beside the shipped
    rule pack and run `naebu check` (rules no source feeds are warnings, exit 0). One config of
    every section, as a city's would be: one check (each takes seconds: it runs the pack's
    examples) instead of one per source."""
    files = [
        (name, sorted((city / Path(src["path"]).relative_to("demo-city")).glob(src["pattern"]))[0])
        for name, src in _file_sources()
    ]
    ledger = city / "exports" / "재정.sqlite"
    tables = [(name, ledger, src["table"]) for name, src in _sql_sources()]
    sections = []
    for name, path, *table in [*files, *tables]:
        args = ["sources", "suggest", str(path), "--name", name]
        if table:
            args += ["--table", table[0]]
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0, result.output
        sections.append(result.output)
    config = tmp_path / "config.toml"
    config.write_text(
        f'[rules]\npaths = ["{(ROOT / "rules").as_posix()}"]\n\n' + "\n".join(sections),
        encoding="utf-8",
    )
    checked = CliRunner().invoke(main, ["check", "--config", str(config)])
    assert checked.exit_code == 0, checked.output
    assert checked.output.startswith("OK: 35 rule(s)"), checked.output
    assert "problem" not in checked.output, checked.output
    assert f" {len(files) + len(tables)} source(s)" in checked.output  # every one pasted


def test_every_pasted_section_passes_the_checks(city: Path, tmp_path: Path) -> None:
    for name, src in _file_sources():
        folder = city / Path(src["path"]).relative_to("demo-city")
        path = sorted(folder.glob(src["pattern"]))[0]
        result = CliRunner().invoke(main, ["sources", "suggest", str(path), "--name", name])
        assert result.exit_code == 0, result.output
        section = result.output
        if not MAPPING_KEYS:
            section = re.sub(
                r"(?ms)^\[sources\.[^\]]+\.values\.[^\]]+\].*?(?=^\[|^# rules|\Z)", "", section
            )
        config = tmp_path / f"{name}.toml"
        config.write_text(f"[rules]\npaths = []\n\n{section}", encoding="utf-8")
        [source] = load_config(config).sources.values()
        assert check_source(source, config.name) == [], name
