"""Loading rule files: read every TOML file under the rule folders, check every rule, report
every problem at once.

A rule file holds one or more ``[[rule]]`` tables. The keys every rule shares are checked here;
the keys of its type are checked by the type's class. Cross-rule checks (duplicate ids) run
last, as pySigma does. Nothing read from a rule file is ever executed.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from naebu.core import datasets
from naebu.core.government import Government
from naebu.core.problems import Problem, did_you_mean, toml_error
from naebu.engine import reflists
from naebu.engine.absence import check_absence_of, parse_absence_of
from naebu.engine.examples import Example, ExampleList, parse_example
from naebu.engine.fallback import check_optional, compile_fallback, parse_optional
from naebu.engine.lookalikes import parse_lookalikes
from naebu.engine.params import compile_variants, rule_params, shared_params
from naebu.engine.reflists import RefList, read_lists
from naebu.engine.registry import KeySpec, ProblemFactory, RuleType, rule_types
from naebu.engine.rule import SEVERITIES, RuleMeta

#: Keys every rule may carry, whatever its type.
COMMON_KEYS: dict[str, KeySpec] = {
    "id": KeySpec(str, True, "unique rule id, e.g. CARD-NIGHT"),
    "title": KeySpec(str, True, "Korean title shown to officials"),
    "title_en": KeySpec(str, True, "English title"),
    "type": KeySpec(str, True, "rule type: match, ..."),
    "dataset": KeySpec(str, True, "canonical dataset the rule reads"),
    "severity": KeySpec(str, True, "low, medium, high or critical"),
    "description": KeySpec(str, False, "Korean description"),
    "description_en": KeySpec(str, False, "English description"),
    "basis": KeySpec(str, False, "legal basis or audit case"),
    "why": KeySpec(
        str, False, "Korean paragraph: why the pattern is a red flag (the fraud it has revealed)"
    ),
    "why_en": KeySpec(str, False, "the same in English"),
    "owner": KeySpec(str, False, "who answers the alert: department (default)"),
    "deadline_days": KeySpec(int, False, "business days to answer (default 10)"),
    "message": KeySpec(str, False, "Korean message template, e.g. '{sale_id}: {amount:,}원'"),
    "params": KeySpec(
        dict,
        False,
        "the numbers staff tune, with their defaults; [rule.params.by_government]: "
        "values by the kind of government, each with its article; [rule.params.NAME] "
        "with by_date: values by the date each took effect, with their article",
    ),
    "example": KeySpec(list, False, "records that must / must not fire"),
    "enabled": KeySpec(bool, False, "false switches the rule off"),
    "notify": KeySpec(
        RuleMeta.NOTIFY_TYPE,
        False,
        'who is told at once: list of "official", "manager", "audit" '
        "(default: [routing.notify] for the rule's severity)",
    ),
    "optional": KeySpec(
        list, False, 'columns read when a source provides them, e.g. ["invoice_no"]'
    ),
    "absence_of": KeySpec(
        list,
        False,
        'inputs whose emptiness is the finding: other datasets ("accounts") or columns '
        '("sole_source_ground"); with no record or always empty the rule is not evaluable',
    ),
    "lookalike": KeySpec(
        list,
        False,
        "[[rule.lookalike]]: lawful practice that resembles the pattern, and how it is told apart",
    ),
    "fallback": KeySpec(
        dict,
        False,
        "[rule.fallback]: keys that replace the rule's when an optional input is absent",
    ),
}
_TYPE_NAMES = {str: "text", int: "whole number", dict: "table", list: "list", bool: "true/false"}
_ID_RE = re.compile(r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)*$")


@dataclass
class RuleSet:
    """The rules that compiled, and every problem found on the way."""

    rules: list[RuleType] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    #: Reference lists by name (:mod:`naebu.engine.reflists`).
    lists: dict[str, RefList] = field(default_factory=dict)

    def by_id(self) -> dict[str, RuleType]:
        """Rules by id."""
        return {r.meta.id: r for r in self.rules}

    def for_dataset(self, dataset: str) -> list[RuleType]:
        """Enabled rules whose findings live in ``dataset``."""
        return [r for r in self.rules if r.meta.enabled and r.meta.dataset == dataset]


def rule_files(paths: Iterable[Path]) -> list[Path]:
    """Every ``*.toml`` under the given folders (or the files themselves), in a stable order."""
    found: list[Path] = []
    for path in paths:
        if path.is_file():
            found.append(path)
        elif path.is_dir():
            found.extend(sorted(p for p in path.rglob("*.toml") if p.is_file()))
    return found


def load_rules(
    paths: Iterable[Path], *, root: Path | None = None, government: Government | None = None
) -> RuleSet:
    """Load and compile every rule under ``paths``; problems are collected, never raised.

    ``government`` (``[city]`` in config.toml) chooses the values of the rules'
    ``params.by_government``; None compiles them with their defaults (naebu/core/government.py).
    """
    result = RuleSet()
    paths = list(paths)
    for path in paths:
        if not path.exists():
            result.problems.append(
                Problem(
                    _show(path, root),
                    "rule folder not found",
                    hint="check [rules] paths in config.toml",
                )
            )
    result.files = rule_files(paths)
    parsed = []
    for path in result.files:
        read = _read_file(path, _show(path, root), result.problems)
        if read is not None:
            parsed.append((path, *read))
    # Lists first: a rule may use a list defined in any file.
    for _path, doc, text in parsed:
        if "list" in doc:
            found, problems = read_lists(doc, _show(_path, root), text)
            result.problems.extend(problems)
            for ref in found:
                if ref.name in result.lists:
                    result.problems.append(Problem(ref.file, f"duplicate list name {ref.name!r}", None,
                                                   f"list {ref.name}: name",
                                                   f"already defined in {result.lists[ref.name].file}",
                                                   _line_of_list(text, ref.name)))  # fmt: skip
                    continue
                result.lists[ref.name] = ref
    seen: dict[str, str] = {}
    for path, doc, text in parsed:
        with reflists.using(result.lists):
            compiled = _compile_file(doc, text, _show(path, root), result.problems, government)
        for rule in compiled:
            where = f"{_show(path, root)}"
            if rule.meta.id in seen:
                result.problems.append(
                    Problem(
                        where,
                        f"duplicate rule id {rule.meta.id!r}",
                        rule.meta.id,
                        "id",
                        f"already defined in {seen[rule.meta.id]}; ids must be unique",
                    )
                )
                continue
            seen[rule.meta.id] = where
            result.rules.append(rule)
    return result


#: Deepest nesting of tables and lists a rule file may have (tomllib and the code that walks a
#: rule afterwards recurse; a rule needs 4 or 5 levels).
MAX_TOML_DEPTH = 32
#: Most business days an official may be given to answer: ten years.
MAX_DEADLINE_DAYS = 3650
_BOM = "\ufeff"


def _read_file(
    path: Path, shown: str, problems: list[Problem]
) -> tuple[dict[str, Any], str] | None:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        problems.append(Problem(shown, "not UTF-8 text", hint="save the rule file as UTF-8"))
        return None
    # Windows editors save UTF-8 with a byte-order mark; tomllib would call it an invalid
    # statement at column 1, a mistake nobody can see.
    text = text.removeprefix(_BOM)
    if not text.strip():
        problems.append(
            Problem(
                shown,
                "file is empty",
                hint="restore its rules, or delete the file to remove them",
            )
        )
        return None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg, line = toml_error(exc)
        problems.append(
            Problem(
                shown,
                f"TOML syntax error: {msg}",
                line=line,
                hint="check quotes, commas and brackets",
            )
        )
        return None
    except RecursionError:
        problems.append(_too_deep(shown))
        return None
    except ValueError as exc:  # int() refuses a number of more than 4,300 digits
        problems.append(
            Problem(
                shown,
                f"TOML value cannot be read: {exc}",
                hint="a number with thousands of digits? write a shorter number",
            )
        )
        return None
    if _depth_over(doc, MAX_TOML_DEPTH):
        problems.append(_too_deep(shown))
        return None
    huge = _int_over_64_bits(doc)
    if huge is not None:
        digits = str(abs(huge))
        problems.append(
            Problem(
                shown,
                f"number {digits[:12]}... has {len(digits)} digits: TOML numbers are 64-bit",
                line=next(
                    (n + 1 for n, t in enumerate(text.splitlines()) if digits[:19] in t), None
                ),
                hint="write a shorter number; no amount, count or day needs that many digits",
            )
        )
        return None
    return doc, text


def _int_over_64_bits(doc: Any) -> int | None:
    """The first whole number in ``doc`` outside TOML's 64-bit range (tomllib reads any size,
    which later code turns into floats and dates that overflow), or None."""
    stack: list[Any] = [doc]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, int) and not -(2**63) <= value < 2**63:
            return value
    return None


def _too_deep(shown: str) -> Problem:
    return Problem(
        shown,
        f"tables and lists nested too deeply (over {MAX_TOML_DEPTH} levels)",
        hint="a rule needs a few levels; check the brackets",
    )


def _depth_over(doc: Any, limit: int) -> bool:
    """Whether ``doc`` nests dicts and lists deeper than ``limit`` (iterative: no recursion)."""
    stack: list[tuple[Any, int]] = [(doc, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)
    return False


def _line_of_list(text: str, name: str) -> int | None:
    pattern = re.compile(r"^\s*name\s*=\s*[\"']" + re.escape(name) + r"[\"']")
    return next((n + 1 for n, line in enumerate(text.splitlines()) if pattern.match(line)), None)


def _compile_file(
    doc: dict[str, Any],
    text: str,
    shown: str,
    problems: list[Problem],
    government: Government | None = None,
) -> list[RuleType]:
    for key in doc:
        if key not in ("rule", "list", "params"):
            problems.append(
                Problem(
                    shown,
                    f"unknown top-level key {key!r}",
                    key=key,
                    hint="rules go in [[rule]] tables, reference lists in a [list] table, "
                    "parameters the file's rules share in a [params] table",
                )
            )
    shared = shared_params(doc.get("params"), shown, text, problems)
    tables = doc.get("rule", [])
    if not isinstance(tables, list):
        problems.append(
            Problem(
                shown,
                "'rule' must be an array of tables",
                key="rule",
                hint="write [[rule]], not [rule]",
            )
        )
        return []
    rules = []
    for index, spec in enumerate(tables):
        try:
            rule = _compile_rule(spec, index, shown, text, problems, shared, government)
        except RecursionError:
            # The parser and the TOML check bound nesting; this is the last line of defence, so
            # that one rule too deep for the recursive checker never stops the others.
            rule_id = spec.get("id") if isinstance(spec, Mapping) else None
            named = rule_id if isinstance(rule_id, str) else None
            problems.append(
                Problem(
                    shown,
                    "rule nested too deeply to check",
                    named or f"#{index + 1}",
                    hint="split its conditions into simpler parts, or use `x in [...]`",
                    line=_LineFinder(text, named)(None) if named else None,
                )
            )
            continue
        if rule is not None:
            rules.append(rule)
    return rules


def _compile_rule(
    spec: Mapping[str, Any],
    index: int,
    shown: str,
    text: str,
    problems: list[Problem],
    shared: Mapping[str, Any] | None = None,
    government: Government | None = None,
) -> RuleType | None:
    rule_id = spec.get("id") if isinstance(spec.get("id"), str) else None
    line_of = _LineFinder(text, rule_id)
    problem = ProblemFactory(shown, rule_id or f"#{index + 1}", line_of)
    types = rule_types()
    type_name = spec.get("type")
    type_cls = types.get(type_name) if isinstance(type_name, str) else None
    known = dict(COMMON_KEYS)
    if type_cls is not None:
        known.update(type_cls.keys)

    for key, ks in known.items():
        if key not in spec:
            if ks.required:
                problem(key, "missing required key", f"{key} = ... ({ks.help})")
        elif not isinstance(spec[key], ks.type) or (ks.type is int and isinstance(spec[key], bool)):
            expected = (
                _TYPE_NAMES.get(ks.type, str(ks.type)) if isinstance(ks.type, type) else "value"
            )
            problem(key, f"must be a {expected}, not {type(spec[key]).__name__}", ks.help)
    for key in spec:
        if key not in known:
            problem(key, "unknown key", did_you_mean(key, known) or "keys: " + ", ".join(known))

    if rule_id is not None and not _ID_RE.match(rule_id):
        problem(
            "id",
            f"invalid id {rule_id!r}",
            "use capitals, digits and dashes, e.g. PROP-BELOW-APPRAISAL",
        )
    if isinstance(spec.get("type"), str) and type_cls is None:
        problem(
            "type",
            f"unknown rule type {spec['type']!r}",
            did_you_mean(spec["type"], types) or "types: " + ", ".join(types),
        )
    dataset = spec.get("dataset")
    if isinstance(dataset, str) and dataset not in datasets.DATASETS:
        problem(
            "dataset",
            f"unknown dataset {dataset!r}",
            did_you_mean(dataset, datasets.DATASETS) or "datasets: " + ", ".join(datasets.DATASETS),
        )
    severity = spec.get("severity")
    if isinstance(severity, str) and severity not in SEVERITIES:
        problem("severity", f"unknown severity {severity!r}", "one of " + ", ".join(SEVERITIES))
    if isinstance(spec.get("deadline_days"), int) and spec["deadline_days"] < 1:
        problem("deadline_days", "must be at least 1", "business days the official has to answer")
    elif isinstance(spec.get("deadline_days"), int) and spec["deadline_days"] > MAX_DEADLINE_DAYS:
        problem(
            "deadline_days",
            f"must be at most {MAX_DEADLINE_DAYS}, not {spec['deadline_days']}",
            "business days the official has to answer, e.g. 10",
        )
    examples = _examples(spec.get("example", []), problem, line_of)
    lookalikes = parse_lookalikes(
        spec.get("lookalike"), [e.note for e in examples if e.note], problem
    )
    params = rule_params(spec, shared or {}, government, examples, problem)
    optional: tuple[tuple[str, str], ...] = ()
    absence_of: tuple[str, ...] = ()
    if isinstance(dataset, str) and dataset in datasets.DATASETS:
        optional = parse_optional(spec.get("optional"), dataset, problem)
        absence_of = parse_absence_of(spec.get("absence_of"), dataset, problem)

    if problem.problems or type_cls is None:
        problems.extend(problem.problems)
        return None
    meta = RuleMeta(
        id=str(rule_id),
        title=spec["title"],
        title_en=spec["title_en"],
        type=spec["type"],
        dataset=spec["dataset"],
        severity=spec["severity"],
        file=Path(shown),
        description=spec.get("description", ""),
        description_en=spec.get("description_en", ""),
        basis=spec.get("basis", ""),
        why=spec.get("why", ""),
        why_en=spec.get("why_en", ""),
        owner=spec.get("owner", "department"),
        deadline_days=spec.get("deadline_days", 10),
        message=spec.get("message", ""),
        params=params.in_force,
        examples=examples,
        enabled=spec.get("enabled", True),
        notify=tuple(spec.get("notify", ())),
        optional=optional,
        absence_of=absence_of,
        lookalikes=lookalikes,
        government_params=params.government,
    )
    rule = type_cls.compile(meta, spec, problem)
    if rule is not None and params.by_government:
        rule.example_variants = compile_variants(
            rule, params, lambda v: type_cls.compile(replace(meta, params=v), spec, problem)
        )
    if rule is not None:
        check_optional(rule, problem)
        check_absence_of(rule, problem)
        if "fallback" in spec:
            rule.fallback = compile_fallback(
                spec["fallback"], spec, meta, type_cls, problem, line_of
            )
        if rule.fallback is not None and params.by_government:
            # its examples too run with the defaults or the government they name; problems
            # of the fallback were reported when it was compiled above
            quiet = ProblemFactory(shown, rule_id, line_of)
            fallback = rule.fallback
            fallback.example_variants = compile_variants(
                fallback,
                params,
                lambda v: compile_fallback(
                    spec["fallback"], spec, replace(meta, params=v), type_cls, quiet, line_of
                ),
            )
    problems.extend(problem.problems)
    return rule if not problem.problems else None


def _examples(raw: Any, problem: ProblemFactory, line_of: _LineFinder) -> ExampleList:
    out = ExampleList(rule_line=line_of(None))
    if not isinstance(raw, list):
        return out
    for i, ex in enumerate(raw):
        key = f"example[{i}]"
        parsed: Example | tuple[str, str] = parse_example(ex)
        if isinstance(parsed, tuple):
            problem(key, *parsed)
            continue
        out.append(parsed)
        out.lines.append(line_of(key))
    return out


class _LineFinder:
    """Finds the line of a rule's key in the file text, for ``file:line`` locations."""

    def __init__(self, text: str, rule_id: str | None) -> None:
        self.lines = text.splitlines()
        self.start = 0
        if rule_id:
            pat = re.compile(r"^\s*id\s*=\s*[\"']" + re.escape(rule_id) + r"[\"']")
            for n, line in enumerate(self.lines):
                if pat.match(line):
                    self.start = n
                    break
            # the rule's [[rule]] header is the nearest one above its id
            for n in range(self.start, -1, -1):
                if self.lines[n].strip().startswith("[[rule]]"):
                    self.start = n
                    break

    def __call__(self, key: str | None) -> int | None:
        if not key:
            return self.start + 1
        base = key.split("[")[0].split(".")[0]
        example = re.match(r"example\[(\d+)\]", key)
        if example:  # the n-th [[rule.example]] table of this rule
            seen = -1
            for n in range(self.start + 1, len(self.lines)):
                text = self.lines[n].strip()
                if text.startswith("[[rule]]"):
                    break
                if text.startswith("[[rule.example]]"):
                    seen += 1
                    if seen == int(example.group(1)):
                        return n + 1
        if key.startswith("params.by_government."):  # a [rule.params.by_government] line
            base = key.split(".")[2]
        elif key.startswith("params.") and key.count(".") >= 2:  # a dated parameter's key
            found = self._dated_line(key)
            if found is not None:
                return found
        pat = re.compile(r"^\s*" + re.escape(base) + r"\s*=")
        for n in range(self.start, len(self.lines)):
            if n > self.start and self.lines[n].strip().startswith("[[rule]]"):
                break
            if pat.match(self.lines[n]):
                return n + 1
        return self.start + 1

    def _dated_line(self, key: str) -> int | None:
        """The line of ``params.NAME.KEY`` or ``params.NAME.by_date[i]...`` (its i-th entry):
        after the ``[rule.params.NAME]`` header or the ``NAME = {`` line."""
        name, _, rest = key.split(".", 1)[1].partition(".")
        anchor = re.compile(r"^\s*(\[rule\.params\." + re.escape(name) + r"\]|"
                            + re.escape(name) + r"\s*=\s*\{)")  # fmt: skip
        end = next((n for n in range(self.start + 1, len(self.lines))
                    if self.lines[n].strip().startswith("[[rule]]")), len(self.lines))  # fmt: skip
        start = next((n for n in range(self.start, end) if anchor.match(self.lines[n])), None)
        if start is None:
            return None
        entry = re.match(r"by_date\[(\d+)\]", rest)
        if entry is not None:  # the i-th { KEY = ... } after "by_date ="
            seen, after = -1, None
            for n in range(start, end):
                text = self.lines[n]
                if after is None:
                    found = re.search(r"\bby_date\s*=", text)
                    if found is None:
                        continue
                    after, text = n, text[found.end() :]
                seen += len(re.findall(r"\{\s*\w+\s*=", text))
                if seen >= int(entry.group(1)):
                    return n + 1
        word = re.compile(r"\b" + re.escape(rest.split("[")[0].split(".")[0]) + r"\s*=")
        return next((n + 1 for n in range(start, end) if word.search(self.lines[n])), start + 1)


def _show(path: Path, root: Path | None) -> str:
    base = root or Path.cwd()
    try:
        return str(path.resolve().relative_to(base.resolve()))
    except ValueError:
        return str(path)
