"""A rule's parameters as its conditions see them (``params.NAME``).

Three places give a rule its parameters:

- ``params = { ... }`` of the rule: fixed values;
- ``[params]`` at the top of the rule file: values the file's rules share, so a number two rules
  depend on is written once (PROP-PRICE-CUT and PROP-BELOW-APPRAISAL both read the lawful
  reduction per failed tender). A rule gets the shared values its text names as ``params.NAME``;
  a name may not be both shared and the rule's own;
- ``[rule.params.by_government]``: values by the kind of government (naebu/core/government.py),
  chosen by the city's ``[city]`` setting;
- ``[rule.params.NAME]`` with ``by_date``: values by effective date, chosen by each record's
  date (engine/params_dated.py).

Examples run with each ``by_government`` parameter's default unless they name a government
(``government = "자치구"``): a rule's examples hold whatever city runs it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from naebu.core.government import (
    GOVERNMENT_TYPES,
    Government,
    GovernmentParam,
    ParamInForce,
    parse_by_government,
    resolve_params,
)
from naebu.core.problems import Problem
from naebu.engine.params_dated import USAGE as DATED_USAGE
from naebu.engine.params_dated import is_dated, parse_dated
from naebu.engine.registry import ProblemFactory, RuleType
from naebu.engine.rule import RuleExample

BY_GOVERNMENT = "by_government"
_PARAM_REF = re.compile(r"\bparams\.([A-Za-z_]\w*)")
#: Rule keys whose text never names a parameter the rule reads.
_NOT_LOGIC = (
    "example", "lookalike", "description", "description_en", "title", "title_en", "why", "why_en",
)  # fmt: skip


@dataclass(frozen=True)
class RuleParams:
    """A rule's parameters: those in force, and how the government-dependent ones were chosen."""

    in_force: dict[str, Any]
    #: The rule's fixed and shared values (what every government gets).
    fixed: dict[str, Any] = field(default_factory=dict)
    by_government: Mapping[str, GovernmentParam] = field(default_factory=dict)
    government: tuple[ParamInForce, ...] = ()

    def for_government(self, government: Government | None) -> dict[str, Any]:
        """The parameters the rule would have for ``government`` (None: the defaults)."""
        chosen = resolve_params(self.by_government, government)
        return {**self.fixed, **{p.name: p.value for p in chosen}}


def shared_params(raw: Any, shown: str, text: str, problems: list[Problem]) -> dict[str, Any]:
    """The file's ``[params]`` table: names to numbers, text or true/false."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        problems.append(Problem(shown, "'params' must be a table", key="params",
                                hint="[params] floor = 0.8 (values the file's rules share)"))  # fmt: skip
        return {}
    out: dict[str, Any] = {}
    for name, value in raw.items():
        if not isinstance(value, int | float | str | bool):
            problems.append(Problem(shown, "a shared parameter must be a number, text or true/false",
                                    key=f"params.{name}", hint=f"{name} = 0.8",
                                    line=_line_of(text, name)))  # fmt: skip
            continue
        out[name] = value
    return out


def rule_params(
    spec: Mapping[str, Any],
    shared: Mapping[str, Any],
    government: Government | None,
    examples: Iterable[RuleExample],
    problem: ProblemFactory,
) -> RuleParams:
    """The parameters of one rule, for ``government``; problems at ``params...``."""
    raw = spec.get("params", {})
    raw = raw if isinstance(raw, dict) else {}
    own = {k: v for k, v in raw.items() if k != BY_GOVERNMENT}
    for name in own:
        if name in shared:
            problem(f"params.{name}", "also given in the file's [params]",
                    "keep one: the shared value, or rename the rule's own")  # fmt: skip
    for name, value in list(own.items()):
        if is_dated(value):
            dated = parse_dated(name, value, spec, problem)
            if dated is None:
                del own[name]  # reported; a condition naming it says nothing more
            else:
                own[name] = dated
        elif isinstance(value, dict):
            problem(f"params.{name}", "a parameter table needs by_date (its values by effective date)",
                    DATED_USAGE)  # fmt: skip
    used = {n: shared[n] for n in sorted(_names_read(spec)) if n in shared and n not in own}
    fixed = {**used, **own}
    by_gov = parse_by_government(raw.get(BY_GOVERNMENT), fixed, problem)
    named = [e for e in examples if getattr(e, "government", None)]
    if named and not by_gov:
        problem("example", "an example names a government, but no parameter depends on one",
                "add params.by_government, or remove the example's government")  # fmt: skip
    chosen = resolve_params(by_gov, government)
    in_force = {**fixed, **{p.name: p.value for p in chosen}}
    return RuleParams(in_force, fixed, by_gov, chosen)


def compile_variants(
    rule: RuleType,
    params: RuleParams,
    build: Callable[[dict[str, Any]], RuleType | None],
) -> dict[str | None, RuleType]:
    """``rule`` built again by ``build(params)`` for each government its examples run under
    (None: the defaults), where the values differ from those in force."""
    out: dict[str | None, RuleType] = {}
    wanted = {getattr(e, "government", None) for e in rule.meta.examples}
    for name in sorted(wanted, key=lambda n: n or ""):
        if name is not None and name not in GOVERNMENT_TYPES:
            continue  # reported when the example was read
        values = params.for_government(Government.of(name) if name else None)
        if values == params.in_force:
            continue
        variant = build(values)
        if variant is not None:
            out[name] = variant
    return out


def _names_read(spec: Mapping[str, Any]) -> set[str]:
    """Every ``params.NAME`` the rule's logic and message name."""
    found: set[str] = set()
    stack: list[Any] = [v for k, v in spec.items() if k not in _NOT_LOGIC]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            found.update(_PARAM_REF.findall(value))
        elif isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return found


def _line_of(text: str, name: str) -> int | None:
    pattern = re.compile(r"^\s*" + re.escape(name) + r"\s*=")
    in_params = False
    for n, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith("["):
            in_params = stripped == "[params]"
        elif in_params and pattern.match(line):
            return n
    return None
