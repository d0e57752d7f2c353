"""The one door to durable_rules: every call to it in naebu goes through this module.

durable_rules 2.0.28 is a Rete engine that is good at one thing we need - correlating events
of two datasets by key and time, including the *absence* of an event - and awkward in many
others (see ``shared/design/durable_rules.md``). This module keeps the awkward parts here:

- **One lock.** The engine is not thread-safe; :data:`_LOCK` is held from creating a ruleset
  until it is deleted, so no two evaluations ever touch the engine at once.
- **JSON rulesets, never closures.** :func:`compile_ruleset` turns a sequence rule's shape
  (absent or present, which side is flagged, the window length) into a JSON ruleset
  definition; rule text never becomes Python code and nothing is ``eval``-ed.
- **Event time, not wall clock.** Times are integer ticks (days or seconds since 1970) carried
  in the facts; "now" is one ``clock`` fact holding the run's :class:`EvalContext` time. The
  engine's own timers are never used.
- **Facts, not events**, so a fact can take part in several matches (an event is consumed by
  the first one).
- **Absence pattern in the order that works**: ``clock``, then the flagged record whose window
  has closed by ``clock.t``, then ``none(counterpart in the window)``; facts are asserted
  flagged records first, counterparts next, the clock last.
- **Results complete before returning.** No :class:`durable.engine.Host` is created, so no
  background dispatch thread exists; after asserting, we drain every pending action ourselves
  (``start_action`` / ``complete_and_start_action``) until the engine has none left.
- **No field named ``sid`` from a record.** Facts carry only the fields built here; the session
  id is chosen deliberately: records are spread over sessions by key (at most
  :data:`SESSION_SIZE` flagged records a session), which keeps the engine's
  faster-than-linear cost in check, and asserted in batches of whole sessions (at most
  :data:`BATCH_RECORDS` flagged records and :data:`MAX_SESSIONS` sessions), which bounds its
  memory; the session ids of one batch are used again by the next.
- **Its exceptions stay here.** ``MessageNotHandledException`` and ``MessageObservedException``
  are caught; any other engine failure becomes :class:`DurableError`.
- **Rulesets are reused, not deleted.** Measured: ``delete_ruleset`` does not give back the
  memory of a ruleset's sessions (about 250 MB leaked per run of 15,000 flagged records and
  15,000 counterparts; ``delete_state`` segfaults). So each ruleset (uniquely named) is kept
  per definition, its facts retracted after every batch; the engine reuses the freed nodes
  and memory stays at the largest batch's size instead of growing run after run. A ruleset
  that failed mid-run is deleted, never reused.
- **Facts as text.** A batch's facts are written as one JSON array of integers and handed to
  the engine's ``assert_facts`` directly: a dict per record and ``json.dumps`` cost more than
  the engine's own work. The batch is the feed: no record is handed over one call at a time
  (demo city at scale 10, three rules, 8,005 facts: 0.066 s in :func:`correlate` against
  0.084 s one fact per call; ``tests/test_durable_batched_feed.py`` holds the two equal).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import threading
from dataclasses import dataclass
from typing import Any, Literal

import durable_rules_engine
import numpy as np
from durable.engine import MessageNotHandledException, MessageObservedException, Ruleset

#: Flagged records per session: the engine's cost grows faster than linear in a session's size
#: (measured, 20,000 flagged records and 20,000 counterparts: 0.5 s of CPU with 10-25 a
#: session, 0.9-2.2 s with 250).
SESSION_SIZE = 25
#: Sessions a ruleset can hold (``MAX_STATE_INDEX_LENGTH`` in durable's ``rete.h``).
MAX_SESSIONS = 1024
#: Flagged records asserted in one batch. The engine keeps the memory of every fact it held
#: (about 10 kB a fact, measured) for the ruleset's next use, so batches bound it.
BATCH_RECORDS = 2_000

Mode = Literal["absent", "present"]
Side = Literal["first", "then"]

_LOCK = threading.Lock()
_NAMES = itertools.count(1)
#: Emptied rulesets kept for reuse, by definition; see the module docstring.
_IDLE: dict[str, Ruleset] = {}
_RULE = "seq"
#: Below every tick: ``t < never`` is always false (see :func:`_guarded`).
_NEVER = -(2**62)


class DurableError(RuntimeError):
    """durable_rules failed in a way the adapter cannot recover from."""


@dataclass(frozen=True)
class Flagged:
    """The records that may get a finding: their ids, correlation keys and times (ticks)."""

    ids: np.ndarray
    keys: np.ndarray
    times: np.ndarray


@dataclass(frozen=True)
class Counterparts:
    """The other side's events: correlation keys and times (ticks)."""

    keys: np.ndarray
    times: np.ndarray


def compile_ruleset(mode: Mode, flag: Side, within: int) -> str:
    """The JSON ruleset definition for one sequence shape.

    ``flag`` is the side whose records are flagged: ``first`` (window ``[t, t + within]``
    after it) or ``then`` (window ``[t - within, t]`` before it). Both edges are inclusive.
    For ``absent``, a flagged record is matched once its window has closed by the clock:
    its window's last tick is before ``clock.t``.
    """
    if flag == "first":
        lo: Any = {"r": "t"}
        hi: Any = {"$add": {"$l": {"r": "t"}, "$r": within}}
        closed_by = within + 1  # r.t + within < clock.t  <=>  r.t <= clock.t - (within + 1)
    else:
        lo = {"$sub": {"$l": {"r": "t"}, "$r": within}}
        hi = {"r": "t"}
        closed_by = 1
    window = [{"k": {"r": "k"}}, {"$gte": {"t": lo}}, {"$lte": {"t": hi}}]
    counterpart = {"$and": [{"kind": "c"}, _guarded(window, "r", {"k": {"r": "k"}})]}
    if mode == "absent":
        closed = [{"$lte": {"t": {"$sub": {"$l": {"clock": "t"}, "$r": closed_by}}}}]
        pattern = [
            {"clock": {"kind": "clock"}},
            {"r": {"$and": [{"kind": "r"}, _guarded(closed, "clock", None)]}},
            {"c$not": counterpart},
        ]
    else:
        pattern = [{"r": {"kind": "r"}}, {"c": counterpart}]
    return json.dumps({_RULE: {"all": pattern}})


def _guarded(conditions: list[Any], alias: str, also: Any) -> dict[str, Any]:
    """``$and`` of ``conditions``, wrapped so that durable never reads past its expressions.

    Measured: in 2.0.28, a beta condition that is false inside a top-level ``$and`` makes
    ``reduceExpressionSequence`` skip forward to an end marker that lies past the end of the
    expression array (valgrind: invalid reads; with some heap layouts, e.g. once numpy is
    loaded, a segfault on the 22nd ruleset). Wrapped as ``$or`` of the conditions and an
    always-false branch, the skip stops at an end marker inside the array: no invalid read
    under valgrind, results unchanged. ``never`` is a field every fact of ``alias`` carries.
    """
    never = {"$lt": {"t": {alias: "never"}}}
    return {"$or": [{"$and": conditions}, {"$and": [also or never, never]}]}


def correlate(
    definition: str, flagged: Flagged, counterparts: Counterparts, now: int | None
) -> set[int]:
    """Ids of the flagged records the ruleset matched.

    ``now`` (ticks) is the clock of an absence ruleset; None for a presence one. Records are
    spread over sessions by key, so every correlation happens inside one session.
    """
    if len(flagged.ids) == 0:
        return set()
    sessions = max(1, -(-len(flagged.ids) // SESSION_SIZE))
    r_session = flagged.keys % sessions
    c_session = counterparts.keys % sessions
    per_batch = max(1, min(MAX_SESSIONS, BATCH_RECORDS // SESSION_SIZE))
    matched: set[int] = set()
    for first in range(0, sessions, per_batch):
        last = min(first + per_batch, sessions)
        facts = _facts(flagged, counterparts, r_session, c_session, first, last, now)
        matched |= _run(definition, facts)
    return matched


@dataclass(frozen=True)
class _Facts:
    """One ruleset's facts as JSON objects (text), by kind: flagged records, counterparts and
    clocks. Written straight as text: building a dict per record and ``json.dumps`` of the
    list cost more than the engine's own work on a large batch."""

    r: list[str]
    c: list[str]
    clock: list[str]

    def batch(self, *kinds: str) -> str:
        """A JSON array of the facts of these kinds, in this order."""
        return "[" + ",".join(itertools.chain.from_iterable(getattr(self, k) for k in kinds)) + "]"

    def __len__(self) -> int:
        return len(self.r) + len(self.c) + len(self.clock)


def _facts(
    flagged: Flagged,
    counterparts: Counterparts,
    r_session: np.ndarray,
    c_session: np.ndarray,
    first: int,
    last: int,
    now: int | None,
) -> _Facts:
    # Only integers go into the text, so no escaping is needed. ``n`` keeps two otherwise
    # identical facts apart (durable refuses a repeated fact).
    take = (r_session >= first) & (r_session < last)
    r = [
        f'{{"kind":"r","n":{n},"k":{k},"t":{t},"never":{_NEVER},"sid":"{s}"}}'
        for n, k, t, s in zip(
            flagged.ids[take].tolist(),
            flagged.keys[take].tolist(),
            flagged.times[take].tolist(),
            (r_session[take] - first).tolist(),
            strict=True,
        )
    ]
    take = (c_session >= first) & (c_session < last)
    c = [
        f'{{"kind":"c","n":{n},"k":{k},"t":{t},"sid":"{s}"}}'
        for n, (k, t, s) in enumerate(
            zip(
                counterparts.keys[take].tolist(),
                counterparts.times[take].tolist(),
                (c_session[take] - first).tolist(),
                strict=True,
            )
        )
    ]
    clock = []
    if now is not None:
        clock = [
            f'{{"kind":"clock","n":0,"t":{int(now)},"never":{_NEVER},"sid":"{s}"}}'
            for s in range(last - first)
        ]
    return _Facts(r, c, clock)


def _never_called(c: Any) -> None:
    """durable wants an action per rule; the adapter drains actions itself instead."""
    raise AssertionError("durable_rules actions are drained by the adapter")


def _run(definition: str, facts: _Facts) -> set[int]:
    matched: set[int] = set()
    with _LOCK:
        ruleset = _IDLE.pop(definition, None) or _create(definition)
        clean = False
        try:
            # Flagged records, then counterparts, then the clock: the order absence needs.
            _assert(ruleset, facts.batch("r", "c", "clock"))
            _drain(ruleset._handle, matched)
            _retract_all(ruleset, facts)
            clean = True
        except (MemoryError, ValueError, TypeError) as exc:
            raise DurableError(f"durable_rules failed on {ruleset._name}: {exc}") from exc
        finally:
            if clean:
                _IDLE[definition] = ruleset
            else:  # its sessions may hold facts: never reuse it
                durable_rules_engine.delete_ruleset(ruleset._handle)
    return matched


def _create(definition: str) -> Ruleset:
    rules = json.loads(definition)
    for rule in rules.values():
        rule["run"] = _never_called
    name = f"naebu_seq_{next(_NAMES)}"
    try:
        return Ruleset(name, None, rules)
    except Exception as exc:  # the engine reports a bad definition as a bare Exception
        raise DurableError(f"durable_rules refused ruleset {name}: {exc}") from exc


def _retract_all(ruleset: Ruleset, facts: _Facts) -> None:
    """Empty the ruleset's sessions for its next use.

    The clock goes first, so that no flagged record can match while the rest is retracted;
    whatever the retractions set off is drained and ignored.
    """
    for kind in ("clock", "r", "c"):
        if getattr(facts, kind):
            with contextlib.suppress(MessageNotHandledException, MessageObservedException):
                _checked(durable_rules_engine.retract_facts(ruleset._handle, facts.batch(kind)))
            _drain(ruleset._handle, set())


def _assert(ruleset: Ruleset, batch: str) -> None:
    try:
        _checked(durable_rules_engine.assert_facts(ruleset._handle, batch))
    except (MessageNotHandledException, MessageObservedException):
        # Raised after the whole batch went in (measured: facts after a repeated or unwanted
        # one are still matched); our facts are unique and all wanted, so this is insurance.
        # Re-asserting one at a time makes sure, and a repeat is refused harmlessly.
        for fact in json.loads(batch):
            with contextlib.suppress(MessageNotHandledException, MessageObservedException):
                ruleset.assert_fact(fact)


def _checked(result: Any) -> None:
    """The engine's result codes as durable's own wrapper reads them (``Ruleset._handle_result``):
    1 is a fact no rule wanted, 2 a repeated fact."""
    if result[0] == 1:
        raise MessageNotHandledException("a fact no rule wants")
    if result[0] == 2:
        raise MessageObservedException("a repeated fact")


def _drain(handle: int, matched: set[int]) -> None:
    # No Host, hence no background timers: run every pending action here, in this thread.
    while True:
        started = durable_rules_engine.start_action(handle)
        if not started:
            return
        _state, message, state_handle = started
        while message:
            _collect(json.loads(message), matched)
            message = durable_rules_engine.complete_and_start_action(handle, state_handle)


def _collect(message: Any, matched: set[int]) -> None:
    frames = message.get(_RULE, []) if isinstance(message, dict) else message
    for frame in frames if isinstance(frames, list) else [frames]:
        if isinstance(frame, dict) and _RULE in frame:
            _collect(frame, matched)
        elif isinstance(frame, dict) and isinstance(frame.get("r"), dict):
            matched.add(int(frame["r"]["n"]))
