"""Baseline (a): a match rule's condition as a durable_rules ruleset, fed in batches.

Records are posted as events in batches of :data:`BATCH` (``assert_events``, one call and one
JSON document per batch - how durable_rules is best fed; one record per call was 3-4x slower
and flattered naebu) and the engine's pending actions are drained after each batch, in this
thread. The ruleset is built from JSON (no Python closures for conditions) and driven without
a ``Host``, as ``engine/durable_adapter.py`` does: no background threads, no ``sid`` field in
any record. Only the posting and draining are timed; turning the frame into dicts is done
beforehand (it is the same for the Python loop).

This module talks to durable_rules directly, not through naebu's adapter: it measures the
engine itself, which is what naebu's vectorized ``match`` is compared with.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Sequence
from typing import Any

import durable_rules_engine
from durable.engine import MessageNotHandledException, MessageObservedException, Ruleset

_NAMES = itertools.count(1)

#: Records per ``assert_events`` call.
BATCH = 1_000


def _never_called(c: Any) -> None:
    raise AssertionError("actions are drained by the benchmark, never run by durable_rules")


def _drain(handle: int, key: str, flagged: list[Any]) -> None:
    while True:
        started = durable_rules_engine.start_action(handle)
        if not started:
            return
        _state, message, state_handle = started
        while message:
            for frame in _frames(json.loads(message)):
                flagged.append(frame["m"][key])
            message = durable_rules_engine.complete_and_start_action(handle, state_handle)


def _frames(message: Any) -> list[dict[str, Any]]:
    found = message.get("r", []) if isinstance(message, dict) else message
    found = found if isinstance(found, list) else [found]
    return [f for f in found if isinstance(f, dict) and isinstance(f.get("m"), dict)]


def post_records(
    condition: dict[str, Any], records: Sequence[dict[str, Any]], key: str
) -> tuple[float, list[Any]]:
    """Post ``records`` in batches to a fresh ruleset holding ``condition``; return the wall
    seconds and the keys of the records that matched."""
    ruleset = Ruleset(
        f"bench_match_{next(_NAMES)}",
        None,
        {"r": {"all": [{"m": condition}], "run": _never_called}},
    )
    handle = ruleset._handle
    flagged: list[Any] = []
    start = time.perf_counter()
    for first in range(0, len(records), BATCH):
        # try/except, not contextlib.suppress: no extra cost on durable_rules' side of the timing
        try:  # noqa: SIM105
            ruleset.assert_events(list(records[first : first + BATCH]))
        except (MessageNotHandledException, MessageObservedException):
            pass  # no rule wanted some of them: the usual case
        _drain(handle, key, flagged)
    seconds = time.perf_counter() - start
    durable_rules_engine.delete_ruleset(handle)
    return seconds, flagged
