"""A :class:`~naebu.connectors.suggest.Suggestion` as a ready-to-paste config section, or as JSON.

Every guess carries how sure it is as a trailing comment (``# 0.95 synonym``,
``# 0.71 similar to 지급일자, values are dates``); what the user has to decide is written as
commented lines (a value with no guess, a constant the file may imply, headers left unmapped),
so the section loads as pasted and nothing uncertain is switched on silently.
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from naebu.connectors.suggest import Suggestion
from naebu.core import datasets

#: Datasets often fed by several files, one record per these columns (docs/sources.md, Merge).
MERGE_HINTS = {"attendance": ("employee_id", "work_date")}

#: Column where trailing comments start, so a section reads as a table.
_COMMENT_AT = 44


@dataclass(frozen=True)
class RuleState:
    """A rule of the pack under the config with the suggested source added."""

    rule_id: str
    state: str  # "live" | "partial" | "not_evaluable"
    missing: tuple[str, ...] = ()
    absent_optional: tuple[str, ...] = ()


@dataclass
class Placement:
    """Where the section says the files are (``path`` relative to the config, ``pattern``),
    and what the rest of the config says about its dataset."""

    name: str
    path: str
    pattern: str
    #: Rules live only once the proposed constants and derived columns are uncommented.
    unlocked: list[str] = field(default_factory=list)
    #: The config's other sources of the same dataset (not counted in the rule states).
    others: list[str] = field(default_factory=list)


def q(text: str) -> str:
    """``text`` as a TOML basic string."""
    return json.dumps(text, ensure_ascii=False)


def literal(text: str) -> str:
    """``text`` as a TOML literal string (backslashes kept as written) when it can be one."""
    return f"'{text}'" if "'" not in text and "\n" not in text else q(text)


def _width(text: str) -> int:
    """Columns ``text`` takes in a terminal (Hangul and other wide characters take two)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _line(code: str, comment: str = "") -> str:
    if not comment:
        return code
    return f"{code}{' ' * max(1, _COMMENT_AT - _width(code))}# {comment}"


def render_toml(s: Suggestion, where: Placement, rules: list[RuleState]) -> str:
    """The suggestion as a config section with its confidence comments."""
    sample = s.sample
    name = where.name
    shown = sample.path.name + (f" --table {sample.table}" if sample.table else "")
    out: list[str] = [f"# naebu sources suggest {shown}"]
    others = ", ".join(f"{d} {score:.1f}" for d, score in s.ranking[:4] if d != s.dataset)
    top = dict(s.ranking)[s.dataset]
    out.append(
        f"# dataset {s.dataset}: "
        + ("given with --dataset" if s.forced else f"score {top:.1f}")
        + (f" (next: {others})" if others else "")
    )
    if sample.table is not None:
        out.append(f"# table {sample.table}, {len(sample.rows)} row(s) sampled")
    else:
        read_as = f"read as {sample.encoding}" if sample.encoding else f"sheet {sample.sheet!r}"
        out.append(
            f"# {read_as}, header on row {sample.header_row}, "
            f"{len(sample.rows)} data row(s) sampled"
        )
    out.append("")
    out.append(f"[sources.{name}]")
    out += _sql_lines(s, where) if sample.table is not None else _file_lines(s, where)
    out.append("")
    out.append(f"[sources.{name}.columns]")
    for g in s.columns:
        value = "[" + ", ".join(q(p) for p in g.parts) + "]" if g.parts else q(g.header)
        out.append(_line(f"{g.column} = {value}", f"{g.score:.2f} {g.why}"))
    if s.unmapped:
        out.append("# not mapped (no canonical column matched): " + ", ".join(s.unmapped))
    if s.keyless:
        key = datasets.get(s.dataset).key
        out.append(f"# no header holds the record key {key}: rows are keyed by file:line")
        merge = MERGE_HINTS.get(s.dataset, ())
        if merge and all(c in s.mapping for c in merge):
            on = ", ".join(q(c) for c in merge)
            out.append(
                f"# one {s.dataset} record per {' and '.join(merge)}, from several files"
                f" (overtime, leave, trips)? give each source merge_on = [{on}]"
            )
        else:
            out.append('# (add key = "content" to the source if later files repeat rows)')
    for column in s.missing_required:
        out.append(f"# !! {column} is required and no header matched: map it before running")
    if s.formats:
        out.append("")
        out.append(f"[sources.{name}.formats]")
        for column, fmt in s.formats.items():
            source = s.mapping[column]
            seen = s.sample.column(source) if isinstance(source, str) else []
            out.append(_line(f"{column} = {q(fmt)}", f"e.g. {seen[0]}" if seen else ""))
    if s.derive:
        out.append("")
        out.append(f"# [sources.{name}.derive]   # derived columns: uncomment once checked")
        for d in s.derive:
            out.append(_line(f"# {d.column} = {literal(d.expression)}", d.why))
    if s.constants:
        out.append("")
        out.append(f"# [sources.{name}.constants]      # uncomment when true of every row:")
        for column, (value, reason) in s.constants.items():
            out.append(_line(f"# {column} = {q(value)}", reason))
    for column, guesses in s.values.items():
        out.append("")
        codes = ", ".join(s.vocabularies.get(column, ()))
        out.append(_line(f"[sources.{name}.values.{column}]", f"codes: {codes}"))
        for v in guesses:
            if v.code is None:
                out.append(_line(f"# {q(v.value)} = {q('')}", f"{v.rows} row(s): no guess"))
            else:
                out.append(
                    _line(f"{q(v.value)} = {q(v.code)}", f"{v.score:.2f} {v.why}, {v.rows} row(s)")
                )
    for column, distinct in s.free_text.items():
        out.append(
            f"# {column}: {distinct} distinct values seen, more than codes: no value map proposed"
        )
    out += [""] + _rule_lines(s.dataset, rules, where)
    return "\n".join(out) + "\n"


def _file_lines(s: Suggestion, where: Placement) -> list[str]:
    sample = s.sample
    out = ['kind = "files"', f"dataset = {q(s.dataset)}"]
    out.append(_line(f"path = {q(where.path)}", "folder of the drops, relative to config.toml"))
    glob = "*" + sample.path.suffix.lower()
    out.append(_line(f"pattern = {q(where.pattern)}", f'or "{glob}" for every drop like it'))
    if sample.encoding:
        out.append(f"encoding = {q(_encoding_option(sample.encoding))}")
        if sample.delimiter != ",":
            out.append(f"delimiter = {q(sample.delimiter)}")
    elif sample.sheet:
        out.append(f"sheet = {q(sample.sheet)}")
    out.append(_line(f"header_row = {sample.header_row}", _header_note(sample.header_row)))
    return out


def _sql_lines(s: Suggestion, where: Placement) -> list[str]:
    out = ['kind = "sql"', f"dataset = {q(s.dataset)}"]
    url = (
        f"sqlite:///{where.path}/{where.pattern}"
        if where.path != "."
        else f"sqlite:///{where.pattern}"
    )
    out.append(_line(f"url = {q(url)}", "relative to config.toml"))
    out.append(f"table = {q(s.sample.table or '')}")
    stamp = s.mapping.get("updated_at")
    if isinstance(stamp, str):
        out.append(_line(f"watermark = {q(stamp)}", "pull only rows changed since the last run"))
    return out


def _encoding_option(encoding: str) -> str:
    return encoding if encoding in ("utf-8", "utf-8-sig", "cp949", "euc-kr") else "auto"


def _header_note(row: int) -> str:
    if row == 1:
        return ""
    return f"rows 1-{row - 1} are titles or blank" if row > 2 else "row 1 is a title or blank"


def _rule_lines(dataset: str, rules: list[RuleState], where: Placement) -> list[str]:
    if not rules:
        return [f"# no rule of the configured rule paths reads {dataset} (or no config read)"]
    live = [r.rule_id for r in rules if r.state == "live"]
    out = [f"# rules reading {dataset} this source makes live ({len(live)} of {len(rules)}):"]
    out.append("#   " + (", ".join(live) if live else "none"))
    if where.others:
        out.append(
            f"#   (counted as the only {dataset} source: not with {', '.join(where.others)})"
        )
    for r in rules:
        if r.state == "partial":
            out.append(f"#   {r.rule_id}: partial (optional {', '.join(r.absent_optional)} absent)")
    for r in rules:
        if r.state == "not_evaluable":
            out.append(f"#   {r.rule_id}: not evaluable (missing {', '.join(r.missing)})")
    if where.unlocked:
        out.append(
            "#   live too once the commented lines above are uncommented: "
            + ", ".join(where.unlocked)
        )
    return out


def as_json(s: Suggestion, where: Placement, rules: list[RuleState]) -> dict[str, Any]:
    """The suggestion as JSON-ready data, the TOML section included."""
    return {
        "file": str(s.sample.path),
        "encoding": s.sample.encoding,
        "sheet": s.sample.sheet,
        "header_row": s.sample.header_row,
        "table": s.sample.table,
        "headers": s.sample.headers,
        "rows_sampled": len(s.sample.rows),
        "dataset": s.dataset,
        "forced": s.forced,
        "ranking": [{"dataset": d, "score": score} for d, score in s.ranking],
        "source": {"name": where.name, "path": where.path, "pattern": where.pattern},
        "live_when_uncommented": where.unlocked,
        "other_sources": where.others,
        "columns": [
            {"column": g.column, "header": g.source, "score": g.score, "why": g.why}
            for g in s.columns
        ],
        "unmapped": s.unmapped,
        "missing_required": s.missing_required,
        "keyless": s.keyless,
        "formats": s.formats,
        "values": {
            column: [
                {"value": v.value, "rows": v.rows, "code": v.code, "score": v.score, "why": v.why}
                for v in guesses
            ]
            for column, guesses in s.values.items()
        },
        "constants": {c: {"value": v, "reason": r} for c, (v, r) in s.constants.items()},
        "derive": {d.column: {"expression": d.expression, "why": d.why} for d in s.derive},
        "rules": [
            {
                "rule_id": r.rule_id,
                "state": r.state,
                "missing": list(r.missing),
                "absent_optional": list(r.absent_optional),
            }
            for r in rules
        ],
        "section": render_toml(s, where, rules),
    }
