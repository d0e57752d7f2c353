"""The parts of a rule every rule type shares, as read from a rule file."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from naebu.core.government import ParamInForce
    from naebu.engine.lookalikes import Lookalike

SEVERITIES = ("low", "medium", "high", "critical")

#: Who an alert may be sent to when it is raised: the official in charge, the department's
#: manager (부서관리자) and the audit office (감사자).
NOTIFY_TARGETS = ("official", "manager", "audit")


class _NotifyTargetsType(type):
    """Metaclass letting ``isinstance`` check a rule's ``notify`` list *values*.

    The rule loader checks each key with ``isinstance(value, KeySpec.type)``; this type
    accepts only a non-empty list of :data:`NOTIFY_TARGETS` without repeats, so a misspelt
    target ("manger") is a located problem in the rule file, not a silent omission.
    """

    def __instancecheck__(cls, value: object) -> bool:
        return (
            isinstance(value, list)
            and bool(value)
            and all(isinstance(v, str) and v in NOTIFY_TARGETS for v in value)
            and len(set(value)) == len(value)
        )

    def __str__(cls) -> str:  # shown in "must be a ..., not list"
        return "list of " + ", ".join(f'"{t}"' for t in NOTIFY_TARGETS)


#: The type of the ``notify`` rule key (see :class:`_NotifyTargetsType`); named ``list`` for
#: the generated rule reference.
NotifyTargets = _NotifyTargetsType("list", (), {"__doc__": "A list of notify targets."})


@dataclass(frozen=True)
class RuleExample:
    """A record that must (``fires = true``) or must not fire the rule."""

    fires: bool
    record: dict[str, Any]
    note: str = ""


@dataclass
class RuleMeta:
    """What a rule file says about a rule, apart from the logic its type compiles.

    ``deadline_days`` counts business days (weekends and Korean public holidays excluded).
    ``optional`` holds the ``(dataset, column)`` inputs the rule reads when a source provides
    them (see engine/coverage.py). ``notify`` names who is told when the rule raises an alert (a subset of
    :data:`NOTIFY_TARGETS`); empty means the ``[routing.notify]`` default for the severity.
    """

    #: The KeySpec type of the ``notify`` key (the loader reads it from here).
    NOTIFY_TYPE: ClassVar[type] = NotifyTargets

    id: str
    title: str
    title_en: str
    type: str
    dataset: str
    severity: str
    file: Path
    description: str = ""
    description_en: str = ""
    basis: str = ""
    #: Why the pattern is a red flag: the fraud or error it has revealed (Korean; ``why_en``).
    why: str = ""
    why_en: str = ""
    owner: str = "department"
    deadline_days: int = 10
    message: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    examples: list[RuleExample] = field(default_factory=list)
    enabled: bool = True
    notify: tuple[str, ...] = ()
    optional: tuple[tuple[str, str], ...] = ()
    #: Inputs whose emptiness the rule reports (``absence_of``; see engine/absence.py):
    #: ``"dataset accounts"``, ``"contracts.sole_source_ground"``.
    absence_of: tuple[str, ...] = ()
    #: Lawful practice that resembles the pattern (``[[rule.lookalike]]``, engine/lookalikes.py).
    lookalikes: tuple[Lookalike, ...] = ()
    #: The ``params.by_government`` values in force, with their articles (naebu/core/government.py).
    government_params: tuple[ParamInForce, ...] = ()
