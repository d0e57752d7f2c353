"""Optional inputs and fallbacks in rule files: ``optional = [...]`` and ``[rule.fallback]``.

```toml
[[rule]]
id = "PAY-DUPLICATE"
type = "duplicate"
dataset = "payments"
keys = ["vendor_id", "amount", "invoice_no"]
window = "60d"
optional = ["invoice_no"]          # read when a source provides it

[rule.fallback]                    # runs instead when an optional input is not provided
keys = ["vendor_id", "amount"]
window = "7d"
message = "지출 {payment_id}: 같은 거래처·금액 지급 {group.siblings}"

[[rule.fallback.example]]
fires = true
records = [ ... ]
```

``optional`` names columns of the rule's dataset (``"invoice_no"``) or of another dataset it
reads (``"vendors.account_no"``); each must be one the rule reads. ``[rule.fallback]`` holds keys
of the rule's type, and ``message``, ``params`` (merged over the rule's), ``description``,
``description_en`` and ``example`` (its own examples, which ``naebu check`` runs as it runs
the rule's): the fallback is the rule's table with these keys replaced, compiled and checked
like the rule itself. It must not read an optional input: it is what runs without them.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from typing import Any

from naebu.core import datasets
from naebu.core.problems import Problem, did_you_mean
from naebu.engine.examples import Example, ExampleList, parse_example
from naebu.engine.registry import ProblemFactory, RuleType
from naebu.engine.rule import RuleMeta

#: Keys a ``[rule.fallback]`` table may hold besides those of the rule's type.
FALLBACK_COMMON = ("message", "params", "description", "description_en", "example")
_OPTIONAL_HINT = 'optional = ["invoice_no"] (columns of the rule\'s dataset, or "dataset.column")'


def parse_optional(raw: Any, dataset: str, problem: ProblemFactory) -> tuple[tuple[str, str], ...]:
    """The ``optional`` key as ``(dataset, column)`` pairs; problems reported at ``optional``."""
    if raw is None:
        return ()
    if not isinstance(raw, list) or not raw or not all(isinstance(v, str) for v in raw):
        problem("optional", "must be a non-empty list of column names", _OPTIONAL_HINT)
        return ()
    out: list[tuple[str, str]] = []
    for text in raw:
        name, dot, column = text.partition(".")
        if not dot:
            name, column = dataset, text
        if name not in datasets.DATASETS:
            problem("optional", f"unknown dataset {name!r} in {text!r}",
                    did_you_mean(name, datasets.DATASETS))  # fmt: skip
            continue
        known = datasets.get(name).by_name
        if column not in known:
            hint = did_you_mean(column, known) or f"columns of {name}: " + ", ".join(known)
            problem("optional", f"unknown column {text!r}", hint)
            continue
        out.append((name, column))
    if len(set(out)) != len(out):
        problem("optional", "a column is named twice", "name each column once")
    return tuple(dict.fromkeys(out))


def check_optional(rule: RuleType, problem: ProblemFactory) -> None:
    """Every optional input must be one the compiled rule reads."""
    read = rule.columns_read
    for name, column in rule.meta.optional:
        if (name, column) not in read:
            shown = column if name == rule.meta.dataset else f"{name}.{column}"
            problem("optional", f"the rule does not read {shown!r}",
                    "optional names columns the rule's conditions, keys or joins read")  # fmt: skip


def compile_fallback(
    raw: Any,
    spec: Mapping[str, Any],
    meta: RuleMeta,
    type_cls: type[RuleType],
    problem: ProblemFactory,
    line_of: Callable[[str | None], int | None],
) -> RuleType | None:
    """The ``[rule.fallback]`` of a rule, compiled like the rule; problems at ``fallback.KEY``."""
    where = "fallback"
    if not isinstance(raw, dict) or not raw:
        problem(where, "must be a table of the rule's keys to replace",
                '[rule.fallback] keys = ["vendor_id", "amount"]')  # fmt: skip
        return None
    if not meta.optional:
        problem(where, "a fallback needs optional inputs to stand in for", _OPTIONAL_HINT)
        return None
    allowed = (*type_cls.keys, *FALLBACK_COMMON)
    for key in raw:
        if key not in allowed:
            problem(f"{where}.{key}", "unknown key",
                    did_you_mean(key, allowed) or "keys: " + ", ".join(allowed))  # fmt: skip
    params = raw.get("params", {})
    if not isinstance(params, dict):
        problem(f"{where}.params", "must be a table", "params = { limit = 1_000_000 }")
        return None
    lines = _FallbackLines(line_of)
    examples = ExampleList(rule_line=lines(None))
    for i, ex in enumerate(raw.get("example", []) if isinstance(raw.get("example"), list) else []):
        parsed: Example | tuple[str, str] = parse_example(ex)
        if isinstance(parsed, tuple):
            problem(f"{where}.example[{i}]", *parsed)
            continue
        examples.append(parsed)
        examples.lines.append(lines(f"example[{i}]"))
    if problem.problems:
        return None
    fmeta = dataclasses.replace(
        meta,
        message=raw.get("message", meta.message),
        params={**meta.params, **params},
        description=raw.get("description", meta.description),
        description_en=raw.get("description_en", meta.description_en),
        examples=examples,
        optional=(),
    )
    merged = {k: v for k, v in spec.items() if k not in ("fallback", "optional", "example")}
    merged |= {k: v for k, v in raw.items() if k != "example"}
    inner = ProblemFactory(problem.file, problem.rule_id, lines)
    rule = type_cls.compile(fmeta, merged, inner)
    for p in inner.problems:
        problem.problems.append(
            Problem(
                p.file, p.message, p.rule_id, f"{where}.{p.key}" if p.key else where, p.hint, p.line
            )  # fmt: skip
        )
    if rule is None or inner.problems:
        return None
    reads = rule.columns_read
    for name, column in meta.optional:
        if (name, column) in reads:
            problem(where, f"the fallback reads the optional input {column!r}",
                    "the fallback runs when the optional inputs are absent: leave them out")  # fmt: skip
            return None
    return rule


class _FallbackLines:
    """Lines of the ``[rule.fallback]`` table of a rule: its header, a key in it, its n-th
    ``[[rule.fallback.example]]`` (the loader's line finder gives the rule's own text)."""

    def __init__(self, line_of: Callable[[str | None], int | None]) -> None:
        self.lines: list[str] = list(getattr(line_of, "lines", []))
        self.header: int | None = None
        start = getattr(line_of, "start", 0)
        for n in range(start, len(self.lines)):
            text = self.lines[n].strip()
            if n > start and text.startswith("[[rule]]"):
                break
            if text.startswith("[rule.fallback]"):
                self.header = n
                break
        self.fallback = line_of

    def __call__(self, key: str | None) -> int | None:
        if self.header is None:
            return self.fallback("fallback")
        if not key:
            return self.header + 1
        wanted = re.match(r"example\[(\d+)\]", key)
        seen = -1
        base = key.split("[")[0].split(".")[0]
        for n in range(self.header + 1, len(self.lines)):
            text = self.lines[n].strip()
            if text.startswith("[[rule]]"):
                break
            if wanted and text.startswith("[[rule.fallback.example]]"):
                seen += 1
                if seen == int(wanted.group(1)):
                    return n + 1
            elif not wanted and re.match(re.escape(base) + r"\s*=", text):
                return n + 1
        return self.header + 1
