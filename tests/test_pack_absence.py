"""Absent data never makes a shipped rule fire (issue 16, "Done when" 3).

For every rule of the pack and every column of every dataset it reads, the column is taken
away the ways a city's data loses it, and the rule must then be either not evaluable
(``naebu.engine.coverage`` says so, and the run does not evaluate it) or raise no alert that the
complete data would not raise:

- ``unmapped``: no source gives the column (null in every row, and not provided);
- ``some rows``: the column is mapped but empty in half of the rows, chosen at random
  (a required column empties a row into quarantine, so those rows are left out);
- ``every row``: mapped, and empty in every row;
- ``no dataset``: no source feeds one of the rule's datasets (its frame is empty).

The complete data is, first, the demo city (canonical frames from
``naebu.demo.build_frames``, typed by the connectors' coercion; its findings must be exactly
the demo's labels, so the comparison is against what the rules are meant to find), and second
each rule's own examples, which hold the near misses (exactly the limit, the exemption that
applies) the demo may lack: there every input of the rule is emptied in each record in turn.

A required column (a key, an amount, an event day) cannot be unmapped without its source
failing, and a row without it is quarantined: taking it away drops rows. When coverage says
a rule is partial and it has a ``[rule.fallback]``, the fallback runs in its place and must
raise nothing that it would not raise on the complete data; fallbacks are checked as rules too.

A few rules read emptiness itself as the fact they report (an open permit has no decision
day; a sale with no receipt was not paid). :data:`FACTS` names those inputs with the reason.
Row-level emptiness of a fact may raise alerts - on the emptied rows only when the fact is a
column of the rule's own dataset - but the fact must still be an input coverage sees: taken
away whole (unmapped, no dataset), the rule must be not evaluable or quiet.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from datetime import datetime

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT

from naebu.connectors.coerce import coerce
from naebu.core import datasets
from naebu.demo import build_frames
from naebu.engine.absence import DataFacts, absence_inputs, with_data
from naebu.engine.coverage import coverage, rule_inputs, runnable
from naebu.engine.examples import EXAMPLE_NOW, Example, example_frame, records_frame
from naebu.engine.loader import load_rules
from naebu.engine.registry import EvalContext, RuleType

PACK = load_rules([ROOT / "rules"], root=ROOT)
SCALE = 0.1
NOW = datetime(2100, 1, 1)  # every window of the demo year has closed

#: Inputs whose emptiness is the fact a rule reports: (rule, dataset, column or "*" for every
#: column of that dataset), with why. Keep this list short: each entry is a rule that fires
#: on missing data by design, and its description must say so.
FACTS: dict[tuple[str, str, str], str] = {
    ("PERMIT-OPEN-OVERDUE", "permits", "decided_on"): "no decision day = still open",
    ("CONTRACT-SOLE-SOURCE-NO-GROUND", "contracts", "sole_source_ground"): "no ground written",
    ("PROP-SOLE-SOURCE-NO-GROUND", "property_sales", "ground_code"): "no ground written",
    ("LEVY-REDUCTION-NO-CODE", "levies", "reduction_code"): "no reduction code written",
    ("PAY-ACCOUNT-MISMATCH", "vendors", "account_changed_on"): "no change day = never changed",
    ("PROP-PROCEEDS-LATE", "receipts", "*"): "no receipt for the sale = not paid",
    ("PROP-TITLE-BEFORE-PAYMENT", "receipts", "*"): "no receipt for the sale = not paid",
    ("LEVY-MISSING-FOR-PERMIT", "levies", "*"): "no levy on the permit = not levied",
    # a payment whose contract is not in the data at all is not judged (unmatched = "skip")
    ("PAY-BEFORE-INSPECTION", "contracts", "inspection_date"): "no inspection day = not inspected",
    ("PAYROLL-TRANSFER-EXCESS", "payroll", "*"): "money with no pay line = unaccounted for",
    ("REV-RECEIPT-OTHER-ACCOUNT", "accounts", "*"): "an account not on the list",
}

Found = set[tuple[str, str]]


def _canonical() -> tuple[dict[str, pd.DataFrame], set[tuple[str, str, str]]]:
    raw, labels = build_frames(42, scale=SCALE)
    frames = {}
    for name, frame in raw.items():
        ds = datasets.get(name)
        names = {c: c for c in frame.columns if c in ds.by_name}
        frames[name], bad = coerce(frame.reset_index(drop=True), ds, names, {}, [""] * len(frame))
        assert not bad, f"{name}: {bad[0].reason}"
    return frames, set(labels)


FRAMES, LABELS = _canonical()
ALL_PROVIDED: dict[str, frozenset[str]] = {
    name: frozenset(ds.column_names) for name, ds in datasets.DATASETS.items()
}


def _found(rule: RuleType, frames: Mapping[str, pd.DataFrame], now: datetime = NOW) -> Found:
    given = {d: frames.get(d, FRAMES[d].iloc[0:0]) for d in rule.datasets}
    return {(f.dataset, f.record_key) for f in rule.evaluate(given, EvalContext(now=now))}


def _fact(rule: RuleType, dataset: str, column: str) -> bool:
    rid = rule.meta.id
    return (rid, dataset, column) in FACTS or (rid, dataset, "*") in FACTS


def _half(rule: str, column: str, n: int) -> list[tuple[str, np.ndarray]]:
    """Half the rows, the same ones on every run, and every row."""
    rng = np.random.default_rng(zlib.crc32(f"{rule}/{column}".encode()))
    return [("some rows", rng.random(n) < 0.5), ("every row", np.ones(n, bool))]


def _each(rule: str, column: str, n: int) -> list[tuple[str, np.ndarray]]:
    """Each row on its own, and every row (for the few records of an example)."""
    return [(f"row {i}", np.arange(n) == i) for i in range(n)] + [("every row", np.ones(n, bool))]


def _emptied(frame: pd.DataFrame, ds: datasets.Dataset, column: str, rows: np.ndarray):
    """``frame`` with ``column`` empty in ``rows``; a required column drops those rows."""
    if column in ds.required_columns:
        return frame[~rows].reset_index(drop=True)
    out = frame.copy()
    out[column] = out[column].mask(rows)
    return out


def _variants(rule: RuleType, base: Mapping[str, pd.DataFrame], row_sets, columns=None):
    """(what, frames, provided, allowed extra keys) for every way an input can be absent.

    ``provided`` is what coverage is told. A required column of a dataset counts as provided
    (coverage.provided() says so: a source without it fails as a whole), so taking it away is
    the row-level absence "quarantined"; a dataset no source feeds is not provided at all.
    ``columns``: per dataset, the columns to take away (default: all of them).
    """
    for name in rule.datasets:
        ds = datasets.get(name)
        frame = base[name]
        without = {k: v for k, v in ALL_PROVIDED.items() if k != name}
        yield f"no dataset {name}", {**base, name: frame.iloc[0:0]}, without, None
        for column in (columns or {}).get(name, ds.column_names):
            fact = _fact(rule, name, column)
            required = column in ds.required_columns
            if not required:
                emptied = _emptied(frame, ds, column, np.ones(len(frame), bool))
                provided = {**ALL_PROVIDED, name: ALL_PROVIDED[name] - {column}}
                yield f"{name}.{column} unmapped", {**base, name: emptied}, provided, None
            if fact and name != rule.meta.dataset:
                continue  # the other side's records are the fact: row-level absence may fire
            for what, rows in row_sets(rule.meta.id, column, len(frame)):
                allowed = {(name, str(k)) for k in frame.loc[rows, ds.key]} if fact else None
                emptied = _emptied(frame, ds, column, rows)
                where = f"{name}.{column} empty in {what}"
                yield where, {**base, name: emptied}, ALL_PROVIDED, allowed


def _problems(rule: RuleType, base: Mapping[str, pd.DataFrame], row_sets, columns=None,
              now: datetime = NOW) -> list[str]:  # fmt: skip
    """What the rule (or what runs in its place) raises on absent data that it does not raise
    on ``base``, the complete data."""
    complete = {id(rule): _found(rule, base, now)}
    problems = []
    for what, frames, provided, allowed in _variants(rule, base, row_sets, columns):
        chosen = runnable(rule, coverage(rule, provided))
        if chosen is None:
            continue  # not evaluable: the run does not evaluate it
        # a fallback runs in the rule's place: it answers for what it raises on complete data
        if id(chosen) not in complete:
            complete[id(chosen)] = _found(chosen, base, now)
        new = _found(chosen, frames, now) - complete[id(chosen)] - (allowed or set())
        if new:
            problems.append(f"{what}: {len(new)} new, e.g. {sorted(new)[:3]}")
    return problems


def test_the_demo_city_is_the_complete_data() -> None:
    found = {(r.meta.id, d, k) for r in PACK.rules for d, k in _found(r, FRAMES)}
    assert found == LABELS


#: Every rule, and every rule's fallback (what runs when an optional input is absent).
RULES = [*PACK.rules, *(r.fallback for r in PACK.rules if r.fallback is not None)]
IDS = [r.meta.id + ("/fallback" if i >= len(PACK.rules) else "") for i, r in enumerate(RULES)]


@pytest.mark.parametrize("rule", RULES, ids=IDS)
def test_absent_input_raises_nothing_new_in_the_demo_city(rule: RuleType) -> None:
    problems = _problems(rule, FRAMES, _half)
    assert not problems, f"{rule.meta.id} fires on absent data:\n" + "\n".join(problems)


def _example_frames(rule: RuleType, example: Example, i: int) -> dict[str, pd.DataFrame]:
    """An example's records as canonical frames (as ``naebu check`` builds them)."""
    frames = {d: FRAMES[d].iloc[0:0] for d in rule.datasets}
    frames[rule.meta.dataset], bad = example_frame(datasets.get(rule.meta.dataset), example, i)
    for name, rows in example.related.items():
        frames[name], more = records_frame(datasets.get(name), list(rows), f"R{i}", "related")
        bad += more
    assert not bad, bad
    return frames


@pytest.mark.parametrize("rule", RULES, ids=IDS)
def test_absent_input_raises_nothing_new_in_the_rule_examples(rule: RuleType) -> None:
    """The examples hold the near misses the demo city may lack: every input the rule reads
    is taken away from each record of each example in turn."""
    inputs = rule_inputs(rule)
    columns: dict[str, list[str]] = {}
    for name, column in sorted(inputs.required | inputs.optional):
        columns.setdefault(name, []).append(column)
    problems = []
    for i, example in enumerate(rule.meta.examples):
        assert isinstance(example, Example)
        frames = _example_frames(rule, example, i)
        found = _problems(rule, frames, _each, columns, EXAMPLE_NOW)
        problems += [f"example[{i}] {p}" for p in found]
    assert not problems, f"{rule.meta.id} fires on absent data:\n" + "\n".join(problems)


def test_facts_name_real_inputs() -> None:
    ids = {r.meta.id: r for r in PACK.rules}
    for rid, dataset, column in FACTS:
        assert rid in ids and dataset in ids[rid].datasets, (rid, dataset)
        assert column == "*" or column in datasets.get(dataset).by_name, (rid, column)


#: Rules whose other dataset's records are the fact they report (a "*" entry of FACTS).
RECORD_FACTS = sorted((rid, name) for rid, name, column in FACTS if column == "*")


#: Fact columns (not "*" entries of FACTS): a column whose empty value is the finding.
COLUMN_FACTS = sorted(k for k in FACTS if k[2] != "*")


def _data_state(rule: RuleType, frames: Mapping[str, pd.DataFrame]) -> RuleType | None:
    """What runs for ``rule`` once the data is looked at too (engine/absence.py)."""
    state = coverage(rule, ALL_PROVIDED)
    return runnable(rule, with_data(rule, state, DataFacts.from_frames(frames, [rule])))


@pytest.mark.parametrize("rid, name", RECORD_FACTS, ids=[f"{r}/{n}" for r, n in RECORD_FACTS])
def test_a_configured_dataset_with_no_record_raises_nothing(rid: str, name: str) -> None:
    """A dataset a source is configured for but that holds no record (an empty drop folder on
    day one, a source failing every run) is not evidence that nothing happened."""
    rule = next(r for r in PACK.rules if r.meta.id == rid)
    frames = {**FRAMES, name: FRAMES[name].iloc[0:0]}
    chosen = _data_state(rule, frames)
    if chosen is not None:
        new = _found(chosen, frames) - _found(chosen, FRAMES)
        assert not new, f"{rid} with no {name} record fires on {len(new)} records"
    assert _data_state(rule, FRAMES) is not None, f"{rid} is not run on the complete data"


@pytest.mark.parametrize(
    "rid, name, column", COLUMN_FACTS, ids=[f"{r}/{c}" for r, _, c in COLUMN_FACTS]
)
def test_a_fact_column_empty_in_every_record_raises_nothing(
    rid: str, name: str, column: str
) -> None:
    """Mapped but empty in every record (a source whose table lacks it, a mapping to a column
    that is always blank, a source taken as naebu's own shape): not evaluable, not a finding
    on every record."""
    rule = next(r for r in PACK.rules if r.meta.id == rid)
    frames = {
        **FRAMES,
        name: FRAMES[name].assign(
            **{column: FRAMES[name][column].mask(np.ones(len(FRAMES[name]), bool))}
        ),
    }
    chosen = _data_state(rule, frames)
    if chosen is not None:
        new = _found(chosen, frames) - _found(chosen, FRAMES)
        assert not new, f"{rid} with {name}.{column} empty everywhere fires on {len(new)} records"
    # one filled value is enough to judge the others
    one = FRAMES[name][column].notna().idxmax()
    some = {**frames, name: frames[name].assign(**{column: FRAMES[name][column].where(
        FRAMES[name].index == one)})}  # fmt: skip
    assert _data_state(rule, some) is not None


def test_every_fact_is_an_absence_input() -> None:
    """FACTS (what the tests know fires on emptiness) and absence_inputs (what the run checks
    in the data) name the same inputs."""
    found = set()
    for rule in PACK.rules:
        inputs = absence_inputs(rule)
        found |= {(rule.meta.id, d, "*") for d in inputs.datasets}
        found |= {(rule.meta.id, d, c) for d, c in inputs.columns}
    assert found == set(FACTS)
