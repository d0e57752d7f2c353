"""What the end-to-end DuckDB script (:mod:`bench.baselines.duck_script`) is given: the
sources naebu's full run reads (the same config), each canonical column's source column and
type, and the pack's 35 queries with their thresholds filled in - what an analyst types into
a script by hand, written out by the benchmark so that both follow the tree's config and pack.
"""

from __future__ import annotations

import json
import tomllib
from datetime import date
from pathlib import Path
from typing import Any

from bench.baselines.duck_tables import QUERIES
from bench.baselines.spec import Spec
from naebu.core import datasets
from naebu.engine.loader import RuleSet


def _sqlite_path(url: str, base: Path) -> str:
    if not url.startswith("sqlite:///"):
        raise RuntimeError(f"the DuckDB script reads SQLite sources only, not {url}")
    path = Path(url.removeprefix("sqlite:///"))
    return str(path if path.is_absolute() else base / path)


def sources(config_path: Path) -> list[dict[str, Any]]:
    """Every enabled source of the config: where it is and how its columns map and type."""
    text = tomllib.loads(config_path.read_text(encoding="utf-8"))
    base = config_path.parent
    connections = text.get("connections", {})
    out = []
    for name, s in text.get("sources", {}).items():
        if not s.get("enabled", True):
            continue
        dataset = datasets.get(s["dataset"])
        mapping = s.get("columns", {})
        if any(not isinstance(v, str) for v in mapping.values()):
            raise RuntimeError(f"source {name}: joined columns are not in the script")
        entry: dict[str, Any] = {
            "name": name,
            "dataset": dataset.name,
            "kind": s["kind"],
            "columns": {c.name: mapping.get(c.name, c.name) for c in dataset.columns},
            "types": {c.name: c.type for c in dataset.columns},
            "formats": dict(s.get("formats", {})),
            "required": [
                c.name for c in dataset.columns if c.required or c.name == dataset.key
            ],  # fmt: skip
        }
        if s["kind"] == "sql":
            url = s.get("url") or connections[s["connection"]]["url"]
            entry |= {"database": _sqlite_path(url, base), "table": s["table"]}
        elif s["kind"] == "files":
            path = Path(s["path"])
            entry |= {"folder": str(path if path.is_absolute() else base / path),
                      "pattern": s.get("pattern", "*.csv")}  # fmt: skip
        else:
            raise RuntimeError(f"source {name}: kind {s['kind']} is not in the script")
        out.append(entry)
    return out


def write(config_path: Path, ruleset: RuleSet, today: date, path: Path) -> Path:
    """Write the plan (JSON) for the script to ``path``."""
    lists = {n: tuple(v.items) for n, v in ruleset.lists.items()}
    rules = {
        r.meta.id: QUERIES[r.meta.id](Spec(r, lists, today))
        for r in ruleset.rules
        if r.meta.enabled
    }
    plan = {"sources": sources(config_path), "rules": rules}
    path.write_text(json.dumps(plan, ensure_ascii=False, indent=1), encoding="utf-8")
    return path
