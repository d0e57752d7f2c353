"""`naebu sources suggest PATH`: a config section for a city's export, guessed from its headers.

The guessing is :mod:`naebu.connectors.suggest`; the printing :mod:`naebu.connectors.suggest_render`. This
module reads the config when there is one (its ``[onboarding] synonyms`` files, its rule
paths, where relative paths start), and says which rules the suggested source would make live:
through :mod:`naebu.engine.coverage` when it is there, else through :func:`_fallback_states`, a
reading of the rule files that knows the datasets and columns they name.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click

from naebu.commands.common import UserError, shown
from naebu.connectors.source_settings import SourceConfig
from naebu.core.problems import ProblemsError
from naebu.settings.config import Config, find_config, load_config

CONFIG_HELP = "configuration file (default: $NAEBU_CONFIG or ./config.toml; optional here)"


@click.group()
def sources() -> None:
    """Onboard a city's files: guess how an export maps onto naebu's datasets."""


@sources.command()
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--dataset", help="the canonical dataset to map onto (default: the best guess)")
@click.option("--name", help="name of the source in the section (default: from the file name)")
@click.option(
    "--encoding",
    type=click.Choice(["auto", "utf-8", "utf-8-sig", "cp949", "euc-kr"]),
    default="auto",
    show_default=True,
    help="text encoding of a CSV",
)
@click.option("--table", help="of a SQLite file: the table (default: every table)")
@click.option(
    "--format", "fmt", type=click.Choice(["toml", "json"]), default="toml", show_default=True
)
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help=CONFIG_HELP)
def suggest(
    path: Path,
    dataset: str | None,
    name: str | None,
    encoding: str,
    table: str | None,
    fmt: str,
    config_path: str | None,
) -> None:
    """Print a ready-to-paste [sources.NAME] section for the CSV or XLSX file PATH.

    Each guess says how sure it is; headers left unmapped, values with no guessed code and
    constants the file may imply are commented lines to decide on. The last lines say which
    rules of the configured rule paths the source would make live. A SQLite file gives a
    kind = "sql" section per table (or for --table).
    """
    from naebu.connectors.suggest import SQLITE_SUFFIXES, SuggestError, load_synonyms, sqlite_tables
    from naebu.core import datasets
    from naebu.core.problems import did_you_mean

    if dataset is not None and dataset not in datasets.DATASETS:
        hint = did_you_mean(dataset, datasets.DATASETS) or "one of: " + ", ".join(datasets.DATASETS)
        raise click.BadParameter(f"unknown dataset {dataset!r} - {hint}", param_hint="--dataset")
    config = _optional_config(config_path)
    extra = config.onboarding.synonyms if config is not None else []
    synonyms, problems = load_synonyms(extra)
    if problems:
        raise UserError([*problems, f"{len(problems)} problem(s) in the synonym files"])
    given: set[str] = set()  # names used so far: several tables of one database
    try:
        tables: list[str | None] = [table]
        if table is None and path.suffix.lower() in SQLITE_SUFFIXES:
            tables = list(sqlite_tables(path))
        outputs = [
            _one(
                path,
                synonyms,
                dataset,
                encoding,
                t,
                name if len(tables) == 1 else None,
                fmt,
                config,
                given,
            )
            for t in tables
        ]
    except SuggestError as exc:
        raise UserError(str(exc)) from None
    if fmt == "json":
        data = outputs[0] if len(outputs) == 1 else outputs
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        click.echo("\n".join(str(o) for o in outputs), nl=False)


def _one(
    path: Path,
    synonyms: Any,
    dataset: str | None,
    encoding: str,
    table: str | None,
    name: str | None,
    fmt: str,
    config: Config | None,
    given: set[str],
) -> Any:
    """One suggestion (a file, or one table of a SQLite file), rendered."""
    from naebu.connectors.suggest import suggest as guess
    from naebu.connectors.suggest_render import as_json, render_toml

    suggestion = guess(path, synonyms, dataset, encoding, table)
    where = _placement(path.resolve(), name, suggestion.dataset, config, given, table)
    rules = rule_states(config, suggestion, where.name)
    if suggestion.constants or suggestion.derive:
        with_constants = rule_states(config, suggestion, where.name, constants=True)
        before = {r.rule_id for r in rules if r.state == "live"}
        where.unlocked = [
            r.rule_id for r in with_constants if r.state == "live" and r.rule_id not in before
        ]
    if config is not None:
        where.others = [n for n, src in config.sources.items() if src.dataset == suggestion.dataset]
    if fmt == "json":
        return as_json(suggestion, where, rules)
    return render_toml(suggestion, where, rules)


def _optional_config(explicit: str | None) -> Config | None:
    path = find_config(explicit)
    if not path.exists():
        if explicit:
            raise UserError(f"{shown(path)}: config file not found")
        return None
    try:
        return load_config(path)
    except ProblemsError as exc:
        raise UserError(exc.problems) from None


def _placement(
    path: Path,
    name: str | None,
    dataset: str,
    config: Config | None,
    given: set[str],
    table: str | None = None,
) -> Any:
    from naebu.connectors.suggest_render import Placement

    base = config.base_dir if config is not None else Path.cwd()
    folder = os.path.relpath(path.parent, base)
    slug = re.sub(r"[^a-z0-9]+", "_", (table or path.stem).lower()).strip("_")
    chosen = name or (slug if slug and not slug[0].isdigit() else dataset)
    taken = set(config.sources) if config is not None else set()
    candidate, n = chosen, 1
    while name is None and (candidate in taken or candidate in given):
        n += 1
        candidate = f"{chosen}_{n}"
    given.add(candidate)
    return Placement(candidate, Path(folder).as_posix(), path.name)


def suggested_source(suggestion: Any, name: str, constants: bool = False) -> SourceConfig:
    """The suggested section as the config loader reads it: its uncommented lines, and with
    ``constants`` the proposed (commented) constants and derived columns too."""
    source = SourceConfig(
        name=name,
        kind="files",
        dataset=suggestion.dataset,
        columns=dict(suggestion.mapping),
        formats=dict(suggestion.formats),
        options={"path": str(suggestion.sample.path.parent)},
    )
    if constants:
        # The mapping helper's SourceConfig.constants and .derive; coverage reads them with
        # getattr, so this works before and after they are declared fields.
        source.constants = {c: v for c, (v, _) in suggestion.constants.items()}  # type: ignore[attr-defined]
        source.derive = {d.column: d.expression for d in suggestion.derive}  # type: ignore[attr-defined]
    return source


def rule_states(
    config: Config | None, suggestion: Any, name: str, constants: bool = False
) -> list[Any]:
    """The rules of ``config``'s rule paths that read the suggested dataset, each with its
    state when the suggested source is the only source of its dataset (the config's other
    datasets as they are): what this file alone makes live."""
    from naebu.connectors.suggest_render import RuleState
    from naebu.engine.loader import load_rules

    if config is None:
        return []
    ruleset = load_rules(config.rule_paths, root=config.base_dir, government=config.city)
    others = {n: s for n, s in config.sources.items() if s.dataset != suggestion.dataset}
    added = dataclasses.replace(
        config, sources={**others, name: suggested_source(suggestion, name, constants)}
    )
    try:
        from naebu.engine import coverage as engine_coverage  # type: ignore[attr-defined,unused-ignore]
    except ImportError:
        return _fallback_states(ruleset.rules, added, suggestion.dataset)
    given = engine_coverage.provided(added.sources)
    out = []
    for rule in ruleset.rules:
        if rule.meta.enabled and suggestion.dataset in engine_coverage.rule_inputs(rule).datasets:
            c = engine_coverage.coverage(rule, given)
            out.append(RuleState(rule.meta.id, c.state, tuple(c.missing), tuple(c.absent_optional)))
    return out


# Until naebu.engine.coverage is there: the columns a rule file names -----------------------------

_NOT_LOGIC = {
    "id", "title", "title_en", "description", "description_en", "basis", "owner", "severity",
    "deadline_days", "message", "example", "notify", "enabled", "type", "params", "why", "why_en",
}  # fmt: skip
_WORD = re.compile(r"(?<![\w.])([a-z_][a-z0-9_]*)(?:\.([a-z_][a-z0-9_]*))?")


def _fallback_states(rules: list[Any], config: Config, dataset: str) -> list[Any]:
    from naebu.connectors.suggest_render import RuleState
    from naebu.core import datasets

    provided = _fallback_provided(config)
    tables = _rule_tables(rules)
    out = []
    for rule in rules:
        if not rule.meta.enabled or dataset not in rule.datasets:
            continue
        names: set[str] = set()
        _words(tables.get(rule.meta.id, {}), names)
        missing = [f"dataset {d}" for d in rule.datasets if d not in provided]
        for d in rule.datasets:
            ds = datasets.get(d)
            for word in sorted(names):
                head, _, tail = word.partition(".")
                column = tail if tail and head == d else (word if d == rule.meta.dataset else "")
                if column in ds.by_name and d in provided and column not in provided[d]:
                    missing.append(f"{d}.{column}")
        state = "not_evaluable" if missing else "live"
        out.append(RuleState(rule.meta.id, state, tuple(dict.fromkeys(missing))))
    return out


def _fallback_provided(config: Config) -> dict[str, set[str]]:
    from naebu.core import datasets

    out: dict[str, set[str]] = {}
    for source in config.sources.values():
        if not source.enabled:
            continue
        ds = datasets.get(source.dataset)
        given = {
            *source.columns,
            *source.formats,
            *getattr(source, "constants", {}),
            *getattr(source, "derive", {}),
        }
        if not source.columns:
            given = set(ds.column_names)
        out.setdefault(ds.name, set()).update(given | set(ds.required_columns))
    return out


def _rule_tables(rules: list[Any]) -> dict[str, Mapping[str, Any]]:
    tables: dict[str, Mapping[str, Any]] = {}
    for file in {r.meta.file for r in rules}:
        try:
            raw = tomllib.loads(Path(file).read_text(encoding="utf-8").removeprefix("\ufeff"))
        except (OSError, tomllib.TOMLDecodeError):
            continue
        for table in raw.get("rule", []):
            if isinstance(table, dict) and "id" in table:
                tables[str(table["id"])] = table
    return tables


def _words(value: Any, out: set[str], key: str = "") -> None:
    if key in _NOT_LOGIC:
        return
    if isinstance(value, str):
        text = re.sub(r'"[^"]*"|\'[^\']*\'', " ", value)  # literals name no column
        out.update(m.group(0) for m in _WORD.finditer(text))
        if not re.search(r"[\s(=<>]", value):
            out.add(value)
    elif isinstance(value, dict):
        for k, v in value.items():
            _words(v, out, str(k))
    elif isinstance(value, list):
        for v in value:
            _words(v, out, key)
