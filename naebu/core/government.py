"""The kind of local government (지방자치단체의 종류) and the rule parameters that depend on it.

Some thresholds of the law differ by the kind of government: 공유재산 및 물품 관리법 시행령
제27조제4항 lets a 특별시, a 광역시 or a 시 of 500,000 people or more skip the appraisal below
KRW 30m, every other government below KRW 10m. A city says once what it is, in config.toml::

    [city]
    name = "부산광역시 기장군"
    government_type = "군"
    metropolitan_area = true     # a 군 of a 광역시 lies in a 특별시·광역시 area

and a rule picks the value in force from a ``by_government`` table of its params, each value
with its article::

    [rule.params.by_government]      # a government type is a quoted key: "자치구" = ...
    min_value = { metropolitan_area = 30_000_000, large_city = 30_000_000, default = 10_000_000,
                  basis = "공유재산 및 물품 관리법 시행령 제27조제4항" }

Keys of such a table: a government type (:data:`GOVERNMENT_TYPES`), a fact about the city
(:data:`FACT_KEYS`), ``default`` (required: the value for every other government, and what a
rule's examples run with unless they name a government) and ``basis`` (required: the article).
A city's facts come before its type: a 군 with ``metropolitan_area = true`` takes the
``metropolitan_area`` value even if the table also has a ``군`` key.

Nothing here reads config.toml (engine/city_settings.py does) or knows any rule.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from naebu.core.problems import did_you_mean

#: The kinds of government a city may declare (``[city] government_type``).
GOVERNMENT_TYPES = (
    "특별시",
    "광역시",
    "특별자치시",
    "도",
    "특별자치도",
    "시",
    "군",
    "자치구",
    "교육청",
)
#: Facts about a city a ``by_government`` table may key on, and how they read in Korean.
FACT_KEYS = {
    "metropolitan_area": "특별시·광역시 지역",
    "large_city": "인구 50만 이상 시",
}
DEFAULT_KEY = "default"
BASIS_KEY = "basis"
#: Types that lie in a 특별시·광역시 area unless the config says otherwise. A 자치구 exists
#: only inside a 특별시·광역시; a 군 may (부산 기장군, 대구 달성군, 인천 강화군): say so with
#: ``metropolitan_area = true``.
METROPOLITAN_TYPES = ("특별시", "광역시", "자치구")
#: Types for which ``metropolitan_area`` must be given: an 교육청 serves a 특별시·광역시 or a 도.
METROPOLITAN_REQUIRED = ("교육청",)
#: Types that may say ``large_city = true`` (인구 50만 이상인 시).
LARGE_CITY_TYPES = ("시", "특별자치시")


@dataclass(frozen=True)
class Government:
    """What a city is, as far as the law's thresholds care."""

    type: str
    metropolitan_area: bool = False
    large_city: bool = False
    name: str = ""

    @classmethod
    def of(cls, type_: str, name: str = "") -> Government:
        """A government of ``type_`` with the facts that type implies by default."""
        return cls(type_, type_ in METROPOLITAN_TYPES, False, name)

    def keys(self) -> tuple[str, ...]:
        """The ``by_government`` keys that apply to this city, the first that a table has
        wins: the facts, then the type."""
        facts = tuple(k for k in FACT_KEYS if getattr(self, k))
        return (*facts, self.type)

    def describe(self) -> str:
        """One line for ``naebu check``: ``군 (특별시·광역시 지역)``."""
        facts = [FACT_KEYS[k] for k in FACT_KEYS if getattr(self, k)]
        name = f"{self.name}, " if self.name else ""
        return f"{name}{self.type}" + (f" ({', '.join(facts)})" if facts else "")


@dataclass(frozen=True)
class GovernmentParam:
    """One parameter whose value depends on the kind of government."""

    name: str
    default: Any
    basis: str
    #: Value by government type or fact key.
    values: Mapping[str, Any] = field(default_factory=dict)

    def resolve(self, government: Government | None) -> tuple[Any, str]:
        """The value in force for ``government`` and the key that chose it (``default`` when
        none of the city's keys is in the table, or no city is configured)."""
        for key in government.keys() if government else ():
            if key in self.values:
                return self.values[key], key
        return self.default, DEFAULT_KEY


@dataclass(frozen=True)
class ParamInForce:
    """A government-dependent parameter as a rule was compiled with: what ``naebu check``
    shows."""

    name: str
    value: Any
    #: The ``by_government`` key that chose the value: a type, a fact or ``default``.
    chosen: str
    basis: str


def parse_by_government(
    raw: Any, plain: Mapping[str, Any], problem: Callable[[str, str, str], None]
) -> dict[str, GovernmentParam]:
    """Read ``params.by_government``; report every problem through ``problem(key, msg, hint)``.

    ``plain`` are the rule's other params: a name may not be both.
    """
    where = "params.by_government"
    if raw is None:
        return {}
    usage = 'NAME = { "자치구" = 30_000_000, default = 10_000_000, basis = "...제27조제4항" }'
    if not isinstance(raw, dict) or not raw:
        problem(where, "must be a table of parameters, each a table of values", usage)
        return {}
    allowed = (*GOVERNMENT_TYPES, *FACT_KEYS, DEFAULT_KEY, BASIS_KEY)
    found: dict[str, GovernmentParam] = {}
    for name, table in raw.items():
        at = f"{where}.{name}"
        if name in plain:
            problem(at, f"params.{name} is also given a fixed value", "keep one of the two")
            continue
        if not isinstance(table, dict):
            problem(at, "must be a table of values by government", usage)
            continue
        bad = False
        for key in table:
            if key not in allowed:
                hint = did_you_mean(key, allowed) or (
                    "keys: government types (" + ", ".join(GOVERNMENT_TYPES) + "), "
                    + ", ".join(FACT_KEYS) + ", default, basis"
                )  # fmt: skip
                problem(f"{at}.{key}", "unknown government type or key", hint)
                bad = True
        if DEFAULT_KEY not in table:
            problem(at, "no default value", "default = ... (the value for every other government)")
            bad = True
        basis = table.get(BASIS_KEY)
        if not isinstance(basis, str) or not basis.strip():
            problem(
                f"{at}.basis",
                "missing or empty",
                'basis = "공유재산 및 물품 관리법 시행령 제27조제4항"',
            )
            bad = True
        values = {k: v for k, v in table.items() if k not in (DEFAULT_KEY, BASIS_KEY)}
        default = table.get(DEFAULT_KEY)
        checked = [(DEFAULT_KEY, default), *values.items()] if DEFAULT_KEY in table else []
        for key, value in checked:
            if not _same_kind(value, default):
                problem(f"{at}.{key}", f"must be of the default's kind (a number, text or true/false), not {value!r}",
                        "every value of one parameter is of one kind")  # fmt: skip
                bad = True
        if not bad:
            found[name] = GovernmentParam(name, default, str(basis).strip(), values)
    return found


def resolve_params(
    params: Mapping[str, GovernmentParam], government: Government | None
) -> tuple[ParamInForce, ...]:
    """The value in force of each parameter for ``government`` (None: the defaults)."""
    out = []
    for name, param in params.items():
        value, chosen = param.resolve(government)
        out.append(ParamInForce(name, value, chosen, param.basis))
    return tuple(out)


def _same_kind(value: Any, default: Any) -> bool:
    def kind(v: Any) -> str:
        if isinstance(v, bool):
            return "bool"
        if isinstance(v, int | float):
            return "number"
        return type(v).__name__

    return kind(value) == kind(default) and kind(value) in ("number", "bool", "str")
