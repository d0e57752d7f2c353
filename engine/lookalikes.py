"""Lawful look-alikes (정상 업무와의 구별): the legitimate practice a rule's pattern resembles.

A control that fires on ordinary, lawful work every month is switched off. Each rule therefore
says, in one or more ``[[rule.lookalike]]`` tables, which lawful practice looks like its pattern
and how the two are told apart:

- ``practice`` (required, Korean) and ``practice_en``: the lawful practice, e.g.
  "반일 연가 후 저녁 초과근무".
- ``how`` (required, Korean) and ``how_en``: how the rule tells them apart, or how a city
  declares the exception (a parameter, a reference list, a suppression).
- ``examples`` (optional): the ``note`` of each example of the rule that pins the distinction;
  every name must be the note of one of the rule's examples.

The rule catalog (the inbox's rules page, ``naebu check --verbose``) shows the section.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from naebu.core.problems import did_you_mean

LOOKALIKE_KEYS = ("practice", "practice_en", "how", "how_en", "examples")


@dataclass(frozen=True)
class Lookalike:
    """One lawful practice that resembles a rule's pattern, and how the rule tells them apart."""

    practice: str
    how: str
    practice_en: str = ""
    how_en: str = ""
    #: Notes of the rule's examples that pin the distinction.
    examples: tuple[str, ...] = ()


def parse_lookalikes(
    raw: Any, example_notes: Sequence[str], problem: Callable[[str, str, str], None]
) -> tuple[Lookalike, ...]:
    """Read a rule's ``lookalike`` list; report every problem through ``problem(key, msg, hint)``."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        problem("lookalike", "must be a list of tables", "write [[rule.lookalike]] tables")
        return ()
    found: list[Lookalike] = []
    for n, item in enumerate(raw, start=1):
        where = f"lookalike #{n}"
        if not isinstance(item, dict):
            problem(where, "must be a table", "[[rule.lookalike]] practice = ... how = ...")
            continue
        bad = False
        for key in item:
            if key not in LOOKALIKE_KEYS:
                hint = did_you_mean(key, LOOKALIKE_KEYS) or "keys: " + ", ".join(LOOKALIKE_KEYS)
                problem(f"{where}: {key}", "unknown key", hint)
                bad = True
        for key in ("practice", "how"):
            value = item.get(key)
            if not isinstance(value, str) or not value.strip():
                problem(f"{where}: {key}", "missing or empty", f'{key} = "..." (Korean text)')
                bad = True
        for key in ("practice_en", "how_en"):
            if key in item and not isinstance(item[key], str):
                problem(f"{where}: {key}", "must be text", f'{key} = "..."')
                bad = True
        names = item.get("examples", [])
        if not isinstance(names, list) or not all(isinstance(x, str) for x in names):
            problem(f"{where}: examples", "must be a list of example notes", 'examples = ["..."]')
            bad = True
            names = []
        for name in names:
            if name not in example_notes:
                hint = (
                    did_you_mean(name, example_notes)
                    or "use the note of one of the rule's examples"
                )
                problem(f"{where}: examples", f"no example with the note {name!r}", hint)
                bad = True
        if not bad:
            found.append(
                Lookalike(
                    practice=item["practice"].strip(),
                    how=item["how"].strip(),
                    practice_en=str(item.get("practice_en", "")).strip(),
                    how_en=str(item.get("how_en", "")).strip(),
                    examples=tuple(names),
                )
            )
    return tuple(found)
