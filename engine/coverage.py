"""What a rule reads, what the configured sources give, and whether the rule can be judged.

A rule's inputs (:func:`rule_inputs`) come from the compiled rule itself
(:attr:`~naebu.engine.registry.RuleType.columns_read`, :attr:`~naebu.engine.registry.RuleType.datasets`):
the columns its conditions, keys, windows, joins, lookups and sequences read. The message does
not count: a value missing there shows as ``-``. Columns a rule file declares ``optional`` are
read when present; the rest are required.

What the configuration provides (:func:`provided`) is decided from the config alone, so
``naebu check`` can say it before anything is pulled. A column of a dataset is provided when an
enabled source of that dataset

- maps it (``[sources.X.columns]``), gives it a ``formats`` entry, sets it (``constants``) or
  derives it (``derive``);
- or it is the dataset's record key (a files source without a key column keys its rows by
  ``file:line``; a source with ``merge_on`` builds the key from those columns), or a column the
  dataset requires (a source that lacks one fails as a whole, it never gives rows without it);
- or the source maps nothing at all (no ``columns``, ``constants`` nor ``derive``): it is in
  naebu's own shape and every canonical column is read by its name (see connectors/coerce.py).

A source that maps some columns is taken at its word: a canonical column it does not name is
not counted, even though the connector would still take a source column of exactly that name.
Counting it would need the source's header, which ``check`` does not read; naming it
(``invoice_no = "invoice_no"``) makes it count.

:func:`coverage` then gives each rule one of three states:

- ``live``: every input is provided;
- ``not_evaluable`` (평가 불가): a required column, or a whole dataset the rule reads, is not
  provided. The rule is not run and raises nothing: absent data must never make a rule fire;
- ``partial`` (일부 입력 없음): the required inputs are there, an optional one is not. The
  rule's ``[rule.fallback]`` runs instead when it has one (:func:`runnable`), else the rule
  itself, whose conditions must treat the absent column as unknown.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from naebu.core import datasets
from naebu.engine.loader import RuleSet
from naebu.engine.registry import RuleType

if TYPE_CHECKING:
    from naebu.connectors.source_settings import SourceConfig

LIVE = "live"
NOT_EVALUABLE = "not_evaluable"
PARTIAL = "partial"
STATES = (LIVE, NOT_EVALUABLE, PARTIAL)


@dataclass(frozen=True)
class RuleInputs:
    """What a rule reads."""

    #: ``(dataset, column)`` the rule cannot be evaluated without.
    required: frozenset[tuple[str, str]]
    #: ``(dataset, column)`` read when present; the rule has a fallback or treats them as unknown.
    optional: frozenset[tuple[str, str]]
    #: Datasets it reads (its own, joined, correlated, looked up: ``x in employees.account_no``).
    datasets: frozenset[str]
    #: Reference lists (``lists.NAME``).
    lists: frozenset[str]


def rule_inputs(rule: RuleType) -> RuleInputs:
    """The inputs of a compiled rule (its fallback's are :func:`rule_inputs` of ``rule.fallback``)."""
    optional = frozenset(getattr(rule.meta, "optional", ()))
    read = rule.columns_read
    return RuleInputs(
        required=frozenset(read - optional),
        optional=optional,
        datasets=frozenset(rule.datasets),
        lists=rule.lists_read,
    )


@dataclass(frozen=True)
class Coverage:
    """Whether a rule can be judged under a configuration, and what it lacks."""

    rule_id: str
    #: ``live``, ``not_evaluable`` or ``partial``.
    state: str
    #: Required inputs not provided: ``"payments.invoice_no"``, ``"dataset accounts"``.
    missing: tuple[str, ...] = ()
    #: Optional inputs not provided (``partial``).
    absent_optional: tuple[str, ...] = ()
    #: What to add to config.toml (empty when live).
    hint: str = ""
    #: ``partial`` and the rule's fallback runs instead of the rule.
    uses_fallback: bool = False
    #: Inputs whose emptiness is the finding that hold nothing in the data (engine/absence.py):
    #: ``"dataset receipts"`` (no record), ``"contracts.sole_source_ground"`` (empty in every
    #: record). Set, the rule is not evaluable for this run though its sources are configured.
    empty: tuple[str, ...] = ()

    @property
    def live(self) -> bool:
        """True when every input is provided."""
        return self.state == LIVE

    @property
    def evaluable(self) -> bool:
        """True when the rule (or its fallback) runs."""
        return self.state != NOT_EVALUABLE

    def as_json(self) -> dict[str, Any]:
        """JSON-safe form (run summary, ``status --format json``); ``empty`` only when set."""
        out: dict[str, Any] = {
            "state": self.state,
            "missing": list(self.missing),
            "absent_optional": list(self.absent_optional),
            "hint": self.hint,
            "fallback": self.uses_fallback,
        }
        if self.empty:
            out["empty"] = list(self.empty)
        return out


def provided(sources: Mapping[str, SourceConfig]) -> dict[str, frozenset[str]]:
    """Dataset -> the canonical columns some enabled source of it gives (see the module doc).

    ``sources``: the config's sources by name. A dataset no enabled source feeds is absent from
    the result.
    """
    out: dict[str, set[str]] = {}
    for source in sources.values():
        if not source.enabled or source.dataset not in datasets.DATASETS:
            continue
        out.setdefault(source.dataset, set()).update(source_columns(source))
    return {name: frozenset(columns) for name, columns in out.items()}


def source_columns(source: Any) -> set[str]:
    """The canonical columns one source gives, by its config (see :func:`provided`)."""
    dataset = datasets.get(source.dataset)
    given = {
        *source.columns,
        *source.formats,
        *getattr(source, "constants", {}),
        *getattr(source, "derive", {}),
    }
    explicit = (
        bool(source.columns)
        or bool(getattr(source, "constants", {}))
        or bool(getattr(source, "derive", {}))
    )
    if not explicit:
        return set(dataset.column_names)
    # merge_on (a list of canonical columns) builds the key when the source does not give it
    given |= set(getattr(source, "merge_on", ()) or ()) & set(dataset.column_names)
    given |= set(dataset.required_columns)
    return given & set(dataset.column_names)


def coverage(
    rule: RuleType,
    provided: Mapping[str, frozenset[str]],
    *,
    sources: Mapping[str, Sequence[str]] | None = None,
) -> Coverage:
    """The rule's state under ``provided`` (:func:`provided`). ``sources`` (dataset -> source
    names) makes the hint name the source to add a column to."""
    inputs = rule_inputs(rule)
    missing = _missing(inputs.required, inputs.datasets, provided)
    rule_id = rule.meta.id
    if missing:
        return Coverage(rule_id, NOT_EVALUABLE, missing, hint=hint_for(missing, sources))
    absent = tuple(sorted(f"{d}.{c}" for d, c in inputs.optional if c not in provided.get(d, ())))
    if not absent:
        return Coverage(rule_id, LIVE)
    fallback = rule.fallback
    if fallback is not None:
        f = rule_inputs(fallback)
        lacking = _missing(f.required, f.datasets, provided)
        if lacking:
            return Coverage(rule_id, NOT_EVALUABLE, lacking, absent,
                            hint_for(lacking + absent, sources))  # fmt: skip
    return Coverage(rule_id, PARTIAL, (), absent, hint_for(absent, sources), fallback is not None)


def _missing(
    required: Iterable[tuple[str, str]],
    names: Iterable[str],
    provided: Mapping[str, frozenset[str]],
) -> tuple[str, ...]:
    """Datasets (``"dataset NAME"``) and then columns (``"dataset.column"``) not provided; the
    columns of a dataset that is missing as a whole are not listed again."""
    gone = sorted(
        {n for n in names if n not in provided} | {d for d, _ in required if d not in provided}
    )
    columns = sorted(f"{d}.{c}" for d, c in required if d in provided and c not in provided[d])
    return (*(f"dataset {n}" for n in gone), *columns)


def hint_for(items: Sequence[str], sources: Mapping[str, Sequence[str]] | None = None) -> str:
    """What to write in config.toml to provide ``items`` (the first dataset, else the first
    source's columns)."""
    if not items:
        return ""
    for item in items:
        if item.startswith("dataset "):
            name = item.removeprefix("dataset ")
            return f'no source feeds dataset {name}: add a [sources.*] with dataset = "{name}"'
    name, _, _ = items[0].partition(".")
    columns = [i.partition(".")[2] for i in items if i.partition(".")[0] == name]
    feeding = list((sources or {}).get(name, ()))
    section = f"[sources.{feeding[0]}.columns]" if len(feeding) == 1 else (
        f"[sources.<{' or '.join(feeding) if feeding else name + ' source'}>.columns]"
    )  # fmt: skip
    mapped = ", ".join(f'{c} = "<source column>"' for c in columns)
    return f"add {mapped} to {section} (or a constant or derived column)"


def sources_by_dataset(sources: Mapping[str, SourceConfig]) -> dict[str, list[str]]:
    """Dataset -> the names of the enabled sources feeding it, for hints."""
    out: dict[str, list[str]] = {}
    for source in sources.values():
        if source.enabled:
            out.setdefault(source.dataset, []).append(source.name)
    return out


def plan(
    rules: Iterable[RuleType],
    provided: Mapping[str, frozenset[str]],
    *,
    sources: Mapping[str, Sequence[str]] | None = None,
) -> dict[str, Coverage]:
    """:func:`coverage` of every enabled rule, by rule id."""
    return {r.meta.id: coverage(r, provided, sources=sources) for r in rules if r.meta.enabled}


def runnable(rule: RuleType, state: Coverage) -> RuleType | None:
    """What runs for ``rule`` in ``state``: the rule, its fallback (partial with a fallback),
    or nothing (not evaluable)."""
    if not state.evaluable:
        return None
    if state.uses_fallback and rule.fallback is not None:
        return rule.fallback
    return rule


def runnable_set(ruleset: RuleSet, states: Mapping[str, Coverage]) -> RuleSet:
    """``ruleset`` with what runs under ``states`` (:func:`runnable`) in place of each rule;
    a rule with no state (disabled) stays as it is."""
    rules = []
    for rule in ruleset.rules:
        state = states.get(rule.meta.id)
        chosen = rule if state is None else runnable(rule, state)
        if chosen is not None:
            rules.append(chosen)
    return dataclasses.replace(ruleset, rules=rules)


def describe(item: str, lang: str = "ko") -> str:
    """A missing input in plain words for officials and auditors, never a raw column name:
    ``"payments.invoice_no"`` -> ``"지출 자료의 세금계산서 승인번호"`` (the dataset's title and
    the column's Korean label); ``"dataset accounts"`` -> ``"공금 계좌 자료 전체"``.
    ``lang="en"``: ``"invoice number (payments)"``, ``"all accounts records"`` (the column's
    English description). An item naebu does not know is returned as it is."""
    if item.startswith("dataset "):
        name = item.removeprefix("dataset ")
        if lang == "en":
            return f"all {name} records"
        title = _title(name) if name in datasets.DATASETS else name
        return f"{title} 자료 전체"
    name, _, column = item.partition(".")
    if name not in datasets.DATASETS or column not in datasets.get(name).by_name:
        return item
    col = datasets.get(name).by_name[column]
    if lang == "en":
        text = col.description or column
        for cut in (" (", ": ", "; "):
            text = text.split(cut)[0]
        return f"{text} ({name})"
    return f"{_title(name)} 자료의 {col.label or column}"


def _title(name: str) -> str:
    """The dataset's Korean title without its gloss: ``"직원 (담당자 명부)"`` -> ``"직원"``."""
    return datasets.get(name).title.split(" (")[0]
