"""``sequence``: event A then event B - or A and no B - within a window, across two datasets.

```toml
[[rule]]
id = "PROP-PROCEEDS-LATE"
type = "sequence"
dataset = "property_sales"            # where findings live: the flagged side's dataset
first = { dataset = "property_sales", time = "contract_date", when = "sale_price > 0" }
then  = { dataset = "receipts", time = "received_on", when = "ref_type == \\"property_sale\\"" }
match = { sale_id = "ref_id" }        # first's column = then's column (one or more pairs)
within = "60d"                        # "<N>d" or "<N>h", or "params.NAME" (a number of days)
expect = "absent"                     # absent | present | before
complete = { sum = "amount", at_least = "sale_price" }   # optional
flag = "first"                        # optional: which side the finding is on
unmatched = "fire"                    # optional: skip (default) | fire
settle = "2d"                         # optional: wait for late records before judging
```

**expect** says which pattern raises a finding:

- ``absent``: a ``first`` record with no ``then`` record within ``within`` after it (sale
  contracted, no proceeds in 60 days; permit granted, no levy). Flags ``first``.
- ``present``: a ``first`` record followed by a ``then`` record within ``within`` (vendor
  account changed, then paid within 7 days). Flags ``then`` (default) or ``first``.
- ``before``: a ``then`` record with no ``first`` record within ``within`` before it - it
  came before its ``first``, or its ``first`` never came (paid before inspection or with no
  inspection; title transferred before full payment). Flags ``then``.

**unmatched** (:mod:`naebu.engine.ruletypes.sequence_unmatched`) separates, for ``absent`` and
``before``, a counterpart record that exists but whose event is missing or late (the finding)
from no counterpart record of the key at all (unknown): ``skip``, the default, judges no such
record; ``fire`` makes the missing record itself the finding (a sale never paid for at all).

**settle** (:mod:`naebu.engine.ruletypes.sequence_settle`) makes an ``absent`` or ``before``
rule judge a record only once its window closed that long ago by the run's clock, so records
keyed in late (an inspection entered two days after the payment) are there when it is judged
(docs/incremental.md). An alert whose condition a later record takes away is withdrawn.

**Semantics** (event time, never the wall clock):

- The window of a flagged record at time ``t`` is ``[t, t + within]`` when it is the ``first``
  side and ``[t - within, t]`` when it is the ``then`` side. **Both edges are inclusive**:
  a receipt exactly 60 days after the contract is in time; a payment on the day of the
  inspection is not "before" it.
- When either side's time is a calendar ``date``, times are compared by calendar day (a
  datetime counts as its day) and ``within`` must be whole days.
- An absence (``absent``, ``before``) is only provable once the window has closed by the run's
  clock (``EvalContext.now``): for days, once the window's last day has fully passed; for
  datetimes, once ``now`` is past its last second. Until then the record raises nothing; a
  later run will decide it.
- ``match`` pairs compare exactly; a record with a null in any match column, or a null time,
  takes no part (it is never flagged and never counts as a counterpart). A ``when`` filter
  on a side drops its records before anything else.
- ``complete``: the counterparts count only together. Taken in time order from the window's
  start (records at the same time together), the running total of their ``sum`` column must
  reach ``at_least`` - an expression on the flagged record, e.g. ``sale_price`` - by the
  window's end. Null amounts count as 0; a null ``at_least`` skips the record; with no
  counterpart at all nothing is complete, even when ``at_least`` is 0.

**Execution.** pandas drops records without keys or time, turns times into integer ticks and
codes keys as integers, then narrows - every step provably keeps the results, and each is
derived from the rule's structure, never from its id:

1. ``present``: only flagged records whose key occurs on the other side can be flagged (a
   semi-join on the key); ``absent``: only windows closed by ``now`` can prove an absence.
2. Counterparts outside every window of a flagged record of their key can take part in no
   match: they are dropped (one sorted search, :mod:`naebu.engine.ruletypes.sequence_search`)
   when that pays - before their ``when``, before durable_rules, or when they outnumber the
   flagged records; a plain search over fewer counterparts is cheaper than the narrowing.
3. ``when`` filters, row by row, are evaluated on what is left, not on the whole frames.
4. ``complete`` totals become, per flagged record, the tick its total is first reached.

Then the correlation is decided. A plain "A then B within W on a key" is decided by a sorted
search (does the record's window hold a counterpart of its key?). The ``complete`` shapes -
several counterparts counting only together - are decided by durable_rules behind
:mod:`naebu.engine.durable_adapter`, fed only records that still have a counterpart of their key
(the rest are decided without correlation). Tests run both deciders, with and without the
narrowing, against a brute-force oracle (tests/test_sequence_prefilter.py).

**Evidence** names the other side too: with ``complete``, the total counted in the window
(``receipts.sum_amount``); otherwise the key and time of one counterpart - for ``present``
the earliest in the window, for ``absent`` and ``before`` the earliest after it (it came, but
late), none when there is none.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

import numpy as np
import pandas as pd

from naebu.core.problems import did_you_mean
from naebu.engine import durable_adapter
from naebu.engine.evidence import findings_from_rows
from naebu.engine.expr import CompiledExpression
from naebu.engine.findings import Finding
from naebu.engine.registry import (
    EvalContext,
    KeySpec,
    Partitioning,
    ProblemFactory,
    RuleType,
    register,
)
from naebu.engine.rule import RuleMeta
from naebu.engine.ruletypes.common import expression_lists, expression_reads
from naebu.engine.ruletypes.match import compile_message
from naebu.engine.ruletypes.sequence_options import (
    EXPECTS,
    Complete,
    Side,
    read_complete,
    read_flag,
    read_match,
    read_side,
    read_within,
)
from naebu.engine.ruletypes.sequence_search import Timeline, in_some_window, key_codes, witnesses
from naebu.engine.ruletypes.sequence_settle import read_settle
from naebu.engine.ruletypes.sequence_unmatched import DEFAULT, compile_unmatched, counterpart_known
from naebu.engine.ruletypes.sequence_unmatched import naive as _naive
from naebu.engine.ruletypes.sequence_unmatched import ticks as _ticks
from naebu.engine.template import MessageTemplate

Decider = Literal["numpy", "durable"]
_TZ = "Asia/Seoul"
__all__ = ["EXPECTS", "Complete", "SequenceRule", "Side"]


@register
class SequenceRule(RuleType):
    """Correlates two datasets by key and event time; see the module docstring."""

    name = "sequence"
    keys = {
        "first": KeySpec(dict, True, '{ dataset = "...", time = "...", when = "..." }'),
        "then": KeySpec(dict, True, '{ dataset = "...", time = "...", when = "..." }'),
        "match": KeySpec(
            dict, True, '{ first_column = "then_column" }, e.g. { sale_id = "ref_id" }'
        ),
        "within": KeySpec(str, True, 'window length: "60d", "12h" or "params.NAME"'),
        "expect": KeySpec(str, True, "absent, present or before"),
        "complete": KeySpec(dict, False, '{ sum = "amount", at_least = "sale_price" }'),
        "flag": KeySpec(str, False, "first or then: the side findings are on"),
        "unmatched": KeySpec(
            str, False, "skip (default) or fire: a record whose key has no counterpart record"
        ),
        "settle": KeySpec(
            str,
            False,
            'absent or before: judge a record only once its window closed this long ago, "2d"',
        ),
    }

    def __init__(
        self,
        meta: RuleMeta,
        first: Side,
        then: Side,
        match: list[tuple[str, str]],
        within: timedelta,
        expect: str,
        flag: str,
        complete: Complete | None,
        template: MessageTemplate | None,
        unmatched: str = DEFAULT,
        settle: timedelta = timedelta(0),
    ) -> None:
        super().__init__(meta)
        #: How long after its window closes a record waits for late records before it is
        #: judged (see :mod:`naebu.engine.ruletypes.sequence_settle`).
        self.settle = settle
        #: ``skip``: a record whose key has no counterpart record is not judged; ``fire``: it
        #: is (see :mod:`naebu.engine.ruletypes.sequence_unmatched`).
        self.unmatched = unmatched
        self.first, self.then, self.match = first, then, match
        self.within, self.expect, self.flag = within, expect, flag
        self.complete, self.template = complete, template
        self.by_day = "date" in (
            first.dataset.by_name[first.time].type,
            then.dataset.by_name[then.time].type,
        )
        ticks = within // timedelta(days=1) if self.by_day else int(within.total_seconds())
        self.within_ticks = int(ticks)
        mode: durable_adapter.Mode = "present" if expect == "present" else "absent"
        side: durable_adapter.Side = "first" if flag == "first" else "then"
        self.mode = mode
        self.ruleset = durable_adapter.compile_ruleset(mode, side, self.within_ticks)
        #: Who decides the correlation: ``durable`` (durable_rules) for the ``complete``
        #: shapes, ``numpy`` (a sorted search) for plain "A then B within W on a key".
        self.decider: Decider = "numpy" if complete is None else "durable"
        #: Narrow in pandas before deciding (see the module docstring). Every step keeps the
        #: results; False gives durable_rules everything, for the tests that prove it.
        self.prefilter = True

    # -- compile ------------------------------------------------------------------------------

    @classmethod
    def compile(
        cls, meta: RuleMeta, spec: Mapping[str, Any], problem: ProblemFactory
    ) -> SequenceRule | None:
        first = read_side("first", spec.get("first"), meta.params, problem)
        then = read_side("then", spec.get("then"), meta.params, problem)
        match = read_match(spec.get("match"), first, then, problem)
        expect = spec.get("expect")
        if expect not in EXPECTS:
            problem(
                "expect",
                f"unknown expect {expect!r}",
                did_you_mean(str(expect), EXPECTS) or "one of " + ", ".join(EXPECTS),
            )
            expect = None
        flag = read_flag(spec.get("flag"), expect, first, then, meta.dataset, problem)
        unmatched = compile_unmatched(spec.get("unmatched"), expect, problem)
        within = read_within(spec.get("within"), meta.params, first, then, problem)
        flagged = first if flag == "first" else then if flag == "then" else None
        other = then if flag == "first" else first
        complete = None
        if "complete" in spec and flagged is not None and other is not None:
            complete = read_complete(spec["complete"], flagged, other, meta.params, problem)
        settle = None
        if first is not None and then is not None:
            by_day = "date" in (first.dataset.by_name[first.time].type,
                                then.dataset.by_name[then.time].type)  # fmt: skip
            settle = read_settle(spec.get("settle"), expect, by_day, problem)
        template = None
        if flagged is not None and meta.message:
            template = compile_message(meta.message, flagged.dataset, meta.params, problem)
        if problem.problems or None in (first, then, match, expect, flag, within, unmatched):
            return None
        assert first and then and match and expect and flag and unmatched and within is not None
        assert settle is not None
        return cls(
            meta, first, then, match, within, expect, flag, complete, template, unmatched, settle
        )

    # -- the pipeline's view --------------------------------------------------------------------

    @property
    def datasets(self) -> tuple[str, ...]:
        """(the flagged side's dataset, the other side's), once each."""
        flagged, other = self._sides()
        return tuple(dict.fromkeys((flagged.dataset.name, other.dataset.name)))

    @property
    def columns_read(self) -> frozenset[tuple[str, str]]:
        """Each side's time, ``match`` columns and ``when`` columns; ``complete``'s ``sum``
        (the other side) and ``at_least`` (the flagged side)."""
        first, then = self.first.dataset.name, self.then.dataset.name
        found = {(first, self.first.time), (then, self.then.time)}
        found |= {(first, a) for a, _ in self.match} | {(then, b) for _, b in self.match}
        found |= expression_reads(self.first.when, first) | expression_reads(self.then.when, then)
        if self.complete is not None:
            flagged, other = self._sides()
            found.add((other.dataset.name, self.complete.sum))
            found |= expression_reads(self.complete.at_least, flagged.dataset.name)
        return frozenset(found)

    @property
    def lists_read(self) -> frozenset[str]:
        return expression_lists(self.first.when, self.then.when)

    @property
    def lookback(self) -> timedelta:
        """The window: counterparts lie at most this far from a flagged record."""
        return self.within

    @property
    def time_columns(self) -> dict[str, str]:
        """Each side's dataset and the column that times it (first side wins a shared one)."""
        return {side.dataset.name: side.time for side in (self.then, self.first)}

    @property
    def clock_driven(self) -> bool:
        """Absences (``absent``, ``before``) become provable when a window closes."""
        return self.expect != "present"

    # -- evaluate ------------------------------------------------------------------------------

    def evaluate(self, frames: Mapping[str, pd.DataFrame], ctx: EvalContext) -> list[Finding]:
        flagged, other = self._sides()
        frame = frames.get(flagged.dataset.name)
        if frame is None or frame.empty:
            return []
        other_frame = frames.get(other.dataset.name)
        if other_frame is None:
            other_frame = frame.iloc[0:0] if other.dataset is flagged.dataset else pd.DataFrame()
        r_pos, r_keys, r_times = self._usable(flagged, frame)
        c_pos, c_keys, c_times = self._usable(other, other_frame)
        codes_r, codes_c = key_codes(r_keys, c_keys)
        r = _Part(frame, r_pos, codes_r, r_times)
        c = _Part(other_frame, c_pos, codes_c, c_times)
        # A window counts as closed once it closed ``settle`` ago: late records had time to come.
        now = _ticks_of_now(ctx.now - self.settle, self.by_day)
        # A plain shape decided by the sorted search depends on each record's key and time
        # only: its filter is then needed only for the records the search would flag.
        late_when = self.prefilter and self.decider == "numpy" and self.complete is None
        if self.prefilter and self.mode == "present":
            # Semi-join: a presence needs a counterpart of the record's key.
            r = r.take(np.isin(r.codes, c.codes))
        if not late_when:
            r = r.take(_passes(flagged, r))
        need = np.zeros(len(r))
        if self.complete is not None and len(r):
            need = _numbers(self.complete.at_least.evaluate(r.rows(self.complete.at_least)))
            keep = ~np.isnan(need)
            r, need = r.take(keep), need[keep]
        if not len(r):
            return []
        lo, hi = self._window(r.times)
        if self.prefilter and self.mode == "absent":
            # Only a window closed by now can prove an absence: the rest waits for a later run.
            closed = hi < now
            r, need, lo, hi = r.take(closed), need[closed], lo[closed], hi[closed]
        candidates = c
        # Dropping counterparts pays when something costly follows them: their ``when``,
        # durable_rules, or a decision over more counterparts than flagged records. A plain
        # sorted search over fewer counterparts than flagged records (100,000 contracts for a
        # million payments) costs less than the search that would narrow them.
        if self.prefilter and (
            other.when is not None or self.decider == "durable" or len(c) > len(r)
        ):
            # A counterpart outside every window of its key can take part in no match.
            c = c.take(in_some_window(c.codes, c.times, r.codes, lo, self.within_ticks))
        c = c.take(_passes(other, c))
        if self.complete is not None:
            amounts = np.nan_to_num(_numbers(c.values(self.complete.sum))) if len(c) else None
            done, done_at = _completions(r.codes, lo, need, c.codes, c.times, amounts)
            # each flagged record is its own key: its running total is its own
            hits = self._decide(np.arange(len(r)), r.times, lo, hi, done, done_at, now)
        else:
            hits = self._decide(r.codes, r.times, lo, hi, c.codes, c.times, now)
        if late_when:
            hits = hits[_passes(flagged, r.take_at(hits))]
        if self.unmatched == "skip" and self.mode == "absent" and len(hits):
            # No counterpart record of the key at all: unknown, not a finding.
            mine, theirs = self._match_columns(flagged), self._match_columns(other)
            keys = r.take_at(hits).values_of(mine)
            start = self._window(r.times[hits])[0]
            hits = hits[
                counterpart_known(
                    keys, start, other_frame, theirs, other.time, other.when, self.by_day
                )
            ]
        found = r.take_at(hits)
        rows = found.rows().copy()
        extra = self._counterpart_evidence(rows, found, lo[hits], hi[hits], candidates)
        return self._findings(flagged, rows, extra)

    def _decide(
        self,
        r_keys: np.ndarray,
        r_times: np.ndarray,
        lo: np.ndarray,
        hi: np.ndarray,
        c_keys: np.ndarray,
        c_times: np.ndarray,
        now: int,
    ) -> np.ndarray:
        """Positions (sorted) of the flagged records that get a finding."""
        absent = self.mode == "absent"
        if self.decider == "numpy":
            found = witnesses(r_keys, lo, hi, c_keys, c_times) >= 0
            return np.flatnonzero(~found & (hi < now) if absent else found)
        ids = np.arange(len(r_keys))
        sure = ids[:0]
        counterparts = np.ones(len(c_keys), dtype=bool)
        if self.prefilter:
            # A record with no counterpart of its key left is decided without correlation:
            # an absence (its window is closed, see above), or no presence.
            has_any = np.isin(r_keys, c_keys)
            sure = ids[~has_any] if absent else sure
            ids = ids[has_any]
            counterparts = np.isin(c_keys, r_keys[ids])
        matched = durable_adapter.correlate(
            self.ruleset,
            durable_adapter.Flagged(ids, r_keys[ids], r_times[ids]),
            durable_adapter.Counterparts(c_keys[counterparts], c_times[counterparts]),
            now if absent else None,
        )
        return np.union1d(sure, np.fromiter(matched, dtype="int64", count=len(matched)))

    @property
    def closing(self) -> tuple[str, str, timedelta]:
        """A flagged record's window ends ``within`` after it (``first`` flagged) or at it
        (``then`` flagged); by calendar day it is decided once that day has fully passed, and
        ``settle`` later than that."""
        flagged, _ = self._sides()
        delay = self.within if self.flag == "first" else timedelta(0)
        delay += self.settle
        if self.by_day:
            delay += timedelta(days=1)
        return flagged.dataset.name, flagged.time, delay

    def _match_columns(self, side: Side) -> list[str]:
        return [a if side.role == "first" else b for a, b in self.match]

    def _sides(self) -> tuple[Side, Side]:
        return (self.first, self.then) if self.flag == "first" else (self.then, self.first)

    def _usable(
        self, side: Side, frame: pd.DataFrame
    ) -> tuple[np.ndarray, pd.DataFrame, np.ndarray]:
        """Positions of the rows that can take part (keys and time present), their keys and
        ticks. The side's ``when`` is applied later, to fewer rows (:func:`_passes`): it is
        row by row, so applying it after the other narrowing steps changes nothing but the
        cost."""
        columns = self._match_columns(side)
        if frame.empty:
            empty = np.zeros(0, "int64")
            return empty, pd.DataFrame(columns=range(len(columns))), empty
        keys = frame[columns]
        times = _naive(frame[side.time])
        mask = ~np.asarray(keys.isna().any(axis=1), dtype=bool)
        mask &= ~np.asarray(times.isna(), dtype=bool)
        keys = keys[mask].set_axis(range(len(columns)), axis=1)
        return np.flatnonzero(mask), keys, _ticks(times[mask], self.by_day)

    def _window(self, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self.flag == "first":
            return times, times + self.within_ticks
        return times - self.within_ticks, times

    def _counterpart_evidence(
        self, rows: pd.DataFrame, hits: _Part, lo: np.ndarray, hi: np.ndarray, others: _Part
    ) -> dict[str, str]:
        """Add to ``rows`` (the flagged records) what an official needs of the other side, and
        return those columns with their types:

        - with ``complete``: ``<dataset>.sum_<column>``, the total counted in the window;
        - otherwise the other side's key (unless it is a ``match`` column) and time of one
          counterpart: for ``present`` the earliest in the window; for ``absent`` and
          ``before`` the earliest after the window (it came, but late), None when there is
          none.

        Only the few flagged records' keys are looked at, so this costs little.
        """
        _, other = self._sides()
        if rows.empty:
            return {}
        others = others.take(np.isin(others.codes, hits.codes))
        others = others.take(_passes(other, others))
        if self.complete is not None:
            name = f"{other.dataset.name}.sum_{self.complete.sum}"
            amounts = np.zeros(0)
            if len(others):
                amounts = np.nan_to_num(_numbers(others.values(self.complete.sum)))
            pairs = pd.DataFrame({"hit": np.arange(len(rows)), "k": hits.codes, "lo": lo, "hi": hi})
            pairs = pairs.merge(pd.DataFrame({"k": others.codes, "t": others.times, "a": amounts}))
            pairs = pairs[(pairs["t"] >= pairs["lo"]) & (pairs["t"] <= pairs["hi"])]
            total = np.zeros(len(rows))
            np.add.at(total, pairs["hit"].to_numpy("int64"), pairs["a"].to_numpy("float64"))
            rows[name] = total
            return {name: "number"}
        if self.mode == "present":
            at = Timeline.of(others.codes, others.times).first_in(hits.codes, lo, hi)
        else:
            end = np.full(len(rows), np.iinfo("int64").max // 2)
            at = Timeline.of(others.codes, others.times).first_in(hits.codes, hi + 1, end)
        extra = {}
        matched = {a if other.role == "first" else b for a, b in self.match}
        key = [] if other.dataset.key in matched else [other.dataset.key]  # else shown already
        for column in dict.fromkeys((*key, other.time)):
            name = f"{other.dataset.name}.{column}"
            values = others.values(column).to_numpy(dtype=object) if len(others) else []
            rows[name] = [values[i] if i >= 0 else None for i in at.tolist()]
            extra[name] = other.dataset.by_name[column].type
        return extra

    def _findings(self, side: Side, rows: pd.DataFrame, extra: dict[str, str]) -> list[Finding]:
        used = [side.time, *(a if side.role == "first" else b for a, b in self.match)]
        if side.when is not None:
            used += sorted(side.when.columns_used)
        if self.complete is not None:
            used += sorted(self.complete.at_least.columns_used)
        if self.template is not None:
            used += sorted(self.template.columns_used)
        ordered = [c for c in side.dataset.column_names if c in used]
        return findings_from_rows(self.meta, side.dataset, rows, self.template, ordered, extra)

    @property
    def partitioning(self) -> Partitioning:
        """Records correlate only on equal ``match`` keys: both sides are split by them, side
        by side. Never by time: a finding's evidence may name a counterpart that came late,
        however late. One dataset on both sides with different key columns: never split.
        A record with a null in a ``match`` column correlates with nothing (see ``_usable``)."""
        first = tuple(a for a, _ in self.match)
        then = tuple(b for _, b in self.match)
        if self.first.dataset.name == self.then.dataset.name:
            keys = first if first == then else ()
            return Partitioning(
                keys={self.first.dataset.name: keys}, reach=None, nulls_take_part=False
            )
        return Partitioning(
            keys={self.first.dataset.name: first, self.then.dataset.name: then},
            reach=None,
            nulls_take_part=False,
        )

    @property
    def judged_alone(self) -> bool:
        """Between two datasets, each flagged record is decided against the other side's
        records only (its window, its counterparts, a ``complete`` sum of the other side)."""
        flagged, other = self._sides()
        mine = flagged.dataset.name == self.meta.dataset
        return mine and other.dataset.name != flagged.dataset.name


@dataclass(frozen=True)
class _Part:
    """One side's usable records: positions in its frame, key codes and ticks. Rows are
    copied out of the frame only when needed, and only the columns needed."""

    frame: pd.DataFrame
    pos: np.ndarray
    codes: np.ndarray
    times: np.ndarray

    def __len__(self) -> int:
        return len(self.pos)

    def take(self, mask: np.ndarray) -> _Part:
        """The records where ``mask`` holds."""
        return _Part(self.frame, self.pos[mask], self.codes[mask], self.times[mask])

    def take_at(self, positions: np.ndarray) -> _Part:
        """The records at ``positions``."""
        return self.take(np.asarray(positions, dtype="int64"))

    def rows(self, expression: CompiledExpression | None = None) -> pd.DataFrame:
        """The records' rows: every column, or those ``expression`` reads."""
        if expression is None:
            return self.frame.iloc[self.pos]
        columns = [c for c in self.frame.columns if c in expression.columns_used]
        return self.frame[columns].iloc[self.pos]

    def values_of(self, columns: list[str]) -> pd.DataFrame:
        """Some columns of the records."""
        return self.frame[columns].iloc[self.pos]

    def values(self, column: str) -> pd.Series:
        """One column of the records."""
        return self.frame[column].iloc[self.pos]


def _passes(side: Side, part: _Part) -> np.ndarray:
    """Where the side's ``when`` holds (everywhere when it has none)."""
    if side.when is None or not len(part):
        return np.ones(len(part), dtype=bool)
    return np.asarray(side.when.evaluate(part.rows(side.when)), dtype=bool)


# -- evaluate helpers ----------------------------------------------------------------------------


def _ticks_of_now(now: datetime, by_day: bool) -> int:
    stamp = pd.Timestamp(now)
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert(_TZ).tz_localize(None)
    per_tick = 86_400 * 10**9 if by_day else 10**9
    return int(stamp.value // per_tick)  # floor: a day or second counts once it has begun


def _numbers(values: Any) -> np.ndarray:
    return pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(
        dtype="float64", na_value=np.nan
    )


def _completions(
    codes: np.ndarray,
    lo: np.ndarray,
    need: np.ndarray,
    c_codes: np.ndarray,
    c_times: np.ndarray,
    amounts: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray]:
    """For each flagged record, the tick at which its counterparts' running total, from its
    window's start, first reaches what it needs: (flagged positions, ticks); none if never."""
    if amounts is None or not len(codes):
        return np.zeros(0, "int64"), np.zeros(0, "int64")
    left = pd.DataFrame({"rid": np.arange(len(codes)), "k": codes, "lo": lo, "need": need})
    right = pd.DataFrame({"k": c_codes, "t": c_times, "amount": amounts})
    pairs = left.merge(right, on="k")
    pairs = pairs[pairs["t"] >= pairs["lo"]]
    if pairs.empty:
        return np.zeros(0, "int64"), np.zeros(0, "int64")
    per_time = pairs.groupby(["rid", "t"], sort=True).agg(
        amount=("amount", "sum"), need=("need", "first")
    )
    running = per_time["amount"].groupby(level="rid").cumsum()
    reached = per_time[running.to_numpy() >= per_time["need"].to_numpy()]
    first = reached.reset_index().groupby("rid", sort=False)["t"].min()
    return first.index.to_numpy("int64"), first.to_numpy("int64")
