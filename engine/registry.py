"""Rule types: one class per type, found by name in one registry.

Built-in types register through :func:`register`, the same call a plug-in would use; a second
class claiming a taken name is refused at start-up with a clear message.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar

import pandas as pd

from naebu.core.problems import Problem
from naebu.engine.findings import Finding
from naebu.engine.rule import RuleMeta


@dataclass(frozen=True)
class KeySpec:
    """A key a rule type reads from its rule table, for validation and the docs."""

    type: type | tuple[type, ...]
    required: bool = False
    help: str = ""


@dataclass(frozen=True)
class EvalContext:
    """What a rule is evaluated against besides its frames.

    ``now`` is the run's clock (injectable with ``--now``; the end of the period in a
    backtest): a window that has not closed by ``now`` cannot prove an absence yet.
    """

    now: datetime


@dataclass(frozen=True)
class Partitioning:
    """How a rule's evaluation may be split into parts whose findings, put together, are
    exactly the findings of the whole (what the Dask backend relies on; see docs/dask.md).

    ``keys``: per dataset, the columns whose equal values must stay in one part - the
    group-by columns of a window, the peer group of an outlier, the correlation key of a
    sequence. Datasets named together are co-partitioned (their columns correspond one to
    one); a dataset not named is given whole to every part. When the rule's own dataset is not
    named, the rule judges each record on its own and any split works. An empty tuple: no
    column can split it.

    ``reach``: how far apart in time two records may be and still affect each other's
    findings (on each dataset's time column); a part cut by time carries this much history
    on each side and keeps only the findings on its own records. None: the rule must not be
    cut by time (an outlier's peer group spans the whole history it is given).

    ``nulls_take_part``: False when a record with a null in any of its dataset's ``keys``
    columns never produces a finding nor affects another record's (a window's group, a
    duplicate's keys, a sequence's match columns), so a reader may leave such records out.
    True (the default, always safe): the records with a null key form a group of their own.
    """

    keys: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    reach: timedelta | None = None
    nulls_take_part: bool = True


class RuleType(ABC):
    """A compiled rule of one type.

    Subclasses declare ``name`` and the ``keys`` they read (besides the common ones in
    :class:`~naebu.engine.rule.RuleMeta`), build themselves in :meth:`compile`, reporting every
    problem instead of raising, and turn canonical frames into findings in :meth:`evaluate`.
    """

    name: ClassVar[str]
    keys: ClassVar[Mapping[str, KeySpec]] = {}
    #: The rule that runs instead when an ``optional`` input of the rule is not provided
    #: (``[rule.fallback]`` in the rule file, compiled by the loader; see engine/coverage.py).
    fallback: RuleType | None = None
    #: The rule compiled with other ``params.by_government`` values, by the government an
    #: example names (None: the defaults), where they differ from those in force: what the
    #: rule's examples run on (engine/params.py).
    example_variants: Mapping[str | None, RuleType] = {}

    def __init__(self, meta: RuleMeta) -> None:
        self.meta = meta

    @classmethod
    @abstractmethod
    def compile(
        cls, meta: RuleMeta, spec: Mapping[str, Any], problem: ProblemFactory
    ) -> RuleType | None:
        """Build the rule from its table; report problems through ``problem`` and return None
        when the rule cannot run."""

    @property
    def datasets(self) -> tuple[str, ...]:
        """The canonical datasets this rule reads (the first is where findings live)."""
        return (self.meta.dataset,)

    @property
    def columns_read(self) -> frozenset[tuple[str, str]]:
        """The ``(dataset, column)`` pairs the rule's logic reads: conditions, keys, windows'
        time columns, join keys, lookups (``x in employees.account_no``). Not the message:
        a missing value there shows as ``-``. What :func:`naebu.engine.coverage.rule_inputs` builds
        on; the default (none known) makes only the datasets themselves inputs."""
        return frozenset()

    @property
    def lists_read(self) -> frozenset[str]:
        """The reference lists (``lists.NAME``) the rule's conditions read."""
        return frozenset()

    @property
    def lookback(self) -> timedelta | None:
        """How much history before the new records the rule needs (a window's length).

        None: the rule looks at each new record on its own (``match`` without a join), so
        the pipeline gives it only the new records. Otherwise the pipeline gives it every
        record of its datasets whose event time is within this much of the new ones, and
        findings on older records are deduplicated by fingerprint.
        """
        return None

    @property
    def time_columns(self) -> Mapping[str, str]:
        """Per dataset, the column the rule's window runs on when it is not the dataset's event
        time (an inspection date, an account-change date), so history is cut on that column."""
        return {}

    @property
    def clock_driven(self) -> bool:
        """True when findings can appear as time passes with no new record (an absence whose
        window closes): such a rule is evaluated every run, not only when data arrives."""
        return False

    @property
    def closing(self) -> tuple[str, str, timedelta] | None:
        """For a clock-driven rule: ``(dataset, time column, delay)`` such that a record of
        that dataset can first be decided once the clock passes its time plus ``delay``.

        An incremental run then reads, besides the groups new records fall in, only the
        groups of records whose moment passed since the last evaluation. None (the default):
        unknown, and a clock-driven rule reads every group.
        """
        return None

    @property
    def judged_alone(self) -> bool:
        """True when a finding on a record of the rule's own dataset depends on that record and
        the rule's other datasets only, never on the other records of its own dataset (a
        sequence between two datasets: each flagged record against the other side).

        Then an incremental run reads, of the rule's own older records, only those whose
        counterparts in the other datasets changed (or, clock-driven, whose moment passed),
        besides its new records. False (the default) is always safe.
        """
        return False

    @property
    def partitioning(self) -> Partitioning:
        """How the rule may be split across workers (see :class:`Partitioning`).

        The default never splits: a rule type that has not said how it can be split is
        evaluated whole, so a plug-in type can never be split wrongly.
        """
        return Partitioning(keys={self.meta.dataset: ()}, reach=None)

    @abstractmethod
    def evaluate(self, frames: Mapping[str, pd.DataFrame], ctx: EvalContext) -> list[Finding]:
        """Findings for the records in ``frames[self.meta.dataset]``.

        ``frames`` holds a canonical frame for each dataset in :attr:`datasets` (possibly
        empty, never missing)."""


class ProblemFactory:
    """Builds problems located at one rule of one file, so rule types need not know where
    they were read from."""

    def __init__(self, file: str, rule_id: str | None, line_of: Any = None) -> None:
        self.file = file
        self.rule_id = rule_id
        self.problems: list[Problem] = []
        self._line_of = line_of

    def __call__(self, key: str | None, message: str, hint: str | None = None) -> None:
        line = self._line_of(key) if self._line_of else None
        self.problems.append(Problem(self.file, message, self.rule_id, key, hint, line))


_REGISTRY: dict[str, type[RuleType]] = {}


def register(cls: type[RuleType]) -> type[RuleType]:
    """Class decorator adding a rule type to the registry."""
    existing = _REGISTRY.get(cls.name)
    if existing is not None and existing is not cls:
        raise ValueError(
            f"rule type {cls.name!r} is registered twice: "
            f"{existing.__module__}.{existing.__qualname__} and {cls.__module__}.{cls.__qualname__}"
        )
    _REGISTRY[cls.name] = cls
    return cls


def rule_types() -> dict[str, type[RuleType]]:
    """All registered rule types by name (built-ins are imported on first use)."""
    import naebu.engine.ruletypes  # noqa: F401  (registers the built-in types)

    return dict(_REGISTRY)
