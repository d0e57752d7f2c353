"""durable_rules fed in batches decides exactly as when fed one fact per call.

The adapter hands the engine a whole batch of facts in one ``assert_facts`` call (issue 21:
3-4x faster than one record per call). These tests feed the same few thousand generated
records both ways - and in many small batches whose boundaries fall inside the records of one
key - and check the matched ids against each other and against a brute-force answer, for every
sequence shape, and that a reused ruleset keeps no state between evaluations.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

import numpy as np
import pytest

from naebu.engine import durable_adapter

WITHIN = 3
NOW = 60
SHAPES = [("absent", "first"), ("absent", "then"), ("present", "first"), ("present", "then")]


def _records(seed: int) -> tuple[durable_adapter.Flagged, durable_adapter.Counterparts]:
    """3,000 flagged records and 3,000 counterparts, shuffled, on 400 keys: key 7 is hot
    (600 flagged records and their counterparts, more than several small batches hold),
    times cluster so that many counterparts sit on a window's edges."""
    rng = np.random.default_rng(seed)
    n = 3_000
    r_keys = rng.integers(0, 400, n)
    r_keys[rng.choice(n, 600, replace=False)] = 7
    r_times = rng.integers(0, 60, n)
    c_keys = np.concatenate([rng.choice(r_keys, 2_400), rng.integers(400, 500, 600)])
    c_times = rng.integers(-5, 66, len(c_keys))
    order = rng.permutation(len(c_keys))
    ids = rng.permutation(n) + 10_000  # ids unrelated to position or key
    return (
        durable_adapter.Flagged(ids, r_keys, r_times),
        durable_adapter.Counterparts(c_keys[order], c_times[order]),
    )


def _oracle(
    mode: str, flag: str, flagged: durable_adapter.Flagged, c: durable_adapter.Counterparts
) -> set[int]:
    """Every flagged record against every counterpart: the documented windows, both edges in."""
    found = set()
    for rid, k, t in zip(flagged.ids, flagged.keys, flagged.times, strict=True):
        lo, hi = (t, t + WITHIN) if flag == "first" else (t - WITHIN, t)
        hit = bool(np.any((c.keys == k) & (c.times >= lo) & (c.times <= hi)))
        if hit if mode == "present" else (hi < NOW and not hit):
            found.add(int(rid))
    return found


def _one_fact_per_call(calls: list[int]) -> Any:
    """An ``_assert`` that gives the engine one fact per call, in the batch's order."""

    def feed(ruleset: Any, batch: str) -> None:
        for fact in json.loads(batch):
            calls.append(1)
            with contextlib.suppress(
                durable_adapter.MessageNotHandledException,
                durable_adapter.MessageObservedException,
            ):
                ruleset.assert_fact(fact)  # durable's own one-fact call

    return feed


@pytest.mark.parametrize(("mode", "flag"), SHAPES)
def test_batched_feed_matches_one_fact_per_call(
    monkeypatch: pytest.MonkeyPatch, mode: Any, flag: Any
) -> None:
    flagged, counterparts = _records(seed=len(mode) * 10 + len(flag))
    definition = durable_adapter.compile_ruleset(mode, flag, WITHIN)
    now = NOW if mode == "absent" else None
    expected = _oracle(mode, flag, flagged, counterparts)
    assert 100 < len(expected) < len(flagged.ids) - 100  # both outcomes are well represented

    # batched, as in production: one assert_facts call per batch
    batched_calls: list[int] = []
    real_assert = durable_adapter._assert

    def counted(ruleset: Any, batch: str) -> None:
        batched_calls.append(batch.count('"kind"'))
        real_assert(ruleset, batch)

    monkeypatch.setattr(durable_adapter, "_assert", counted)
    batched = durable_adapter.correlate(definition, flagged, counterparts, now)
    assert len(batched_calls) == 2  # 3,000 flagged records: two batches of at most 2,000
    # 120 sessions: every record and counterpart, and a clock a session for an absence
    facts = len(flagged.ids) + len(counterparts.keys) + (120 if now is not None else 0)
    assert sum(batched_calls) == facts  # the counterparts and clocks go in the same calls

    # many small batches: 2 sessions of 25 each, so key 7's 600 records and the
    # counterparts of every key are cut off from most other records by batch boundaries
    monkeypatch.setattr(durable_adapter, "BATCH_RECORDS", 2 * durable_adapter.SESSION_SIZE)
    small = durable_adapter.correlate(definition, flagged, counterparts, now)
    small_batches = len(batched_calls) - 2
    assert small_batches == 60

    # one fact per engine call, all of it in one batch of sessions
    monkeypatch.setattr(durable_adapter, "BATCH_RECORDS", 10**6)
    single: list[int] = []
    monkeypatch.setattr(durable_adapter, "_assert", _one_fact_per_call(single))
    one_by_one = durable_adapter.correlate(definition, flagged, counterparts, now)
    assert len(single) == facts  # every fact, each in a call of its own

    assert batched == small == one_by_one == expected


def test_reused_ruleset_keeps_no_state_between_batched_feeds() -> None:
    # The same definition's ruleset is emptied and reused: a second and a third feed (the
    # records of the first, then others) are decided as if on a fresh engine.
    first, c_first = _records(seed=1)
    second, c_second = _records(seed=2)
    definition = durable_adapter.compile_ruleset("absent", "first", WITHIN)
    a = durable_adapter.correlate(definition, first, c_first, NOW)
    b = durable_adapter.correlate(definition, second, c_second, NOW)
    again = durable_adapter.correlate(definition, first, c_first, NOW)
    assert a == again == _oracle("absent", "first", first, c_first)
    assert b == _oracle("absent", "first", second, c_second)
    assert definition in durable_adapter._IDLE
