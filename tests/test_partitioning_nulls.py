"""A rule type whose partitioning says records with a null key take no part
(``Partitioning.nulls_take_part = False``) must mean it: an incremental run leaves those records
out of the history it reads.

For every shipped rule making that claim, each example is evaluated as written and again with
copies of a dataset's records whose key column is null (otherwise identical, so they would be
siblings, peers or counterparts if nulls took part): the findings on the original records must
be exactly the same, and no copy may get a finding.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
from conftest import ROOT

from naebu.core import datasets
from naebu.engine.examples import EXAMPLE_NOW, Example, records_frame
from naebu.engine.loader import load_rules
from naebu.engine.registry import EvalContext, RuleType

PACK = load_rules([ROOT / "rules"], root=ROOT)
CLAIMING = [r for r in PACK.rules if not r.partitioning.nulls_take_part]


def _frames(rule: RuleType, example: Any, i: int) -> dict[str, pd.DataFrame]:
    frames = {d: records_frame(datasets.get(d), [], "EMPTY", "none")[0] for d in rule.datasets}
    related = example.related if isinstance(example, Example) else {}
    own = list(example.records) if isinstance(example, Example) and example.records else None
    for name, records in [(rule.meta.dataset, own or [example.record]), *related.items()]:
        frame, reasons = records_frame(datasets.get(name), list(records), f"R{i}", "example")
        assert not reasons
        frames[name] = frame
    return frames


def _seen(findings: list[Any]) -> list[tuple[Any, ...]]:
    return sorted(
        (f.dataset, f.record_key, f.message, sorted(map(repr, f.evidence.items())))
        for f in findings
    )


def test_shipped_types_claim_it() -> None:
    assert {r.name for r in CLAIMING} >= {"aggregate", "duplicate", "sequence"}


@pytest.mark.parametrize("rule", CLAIMING, ids=[r.meta.id for r in CLAIMING])
def test_null_keys_take_no_part(rule: RuleType) -> None:
    checked = 0
    for i, example in enumerate(rule.meta.examples):
        frames = _frames(rule, example, i)
        ctx = EvalContext(now=EXAMPLE_NOW)
        before = _seen(rule.evaluate(frames, ctx))
        for name, columns in rule.partitioning.keys.items():
            frame = frames.get(name)
            if frame is None or frame.empty:
                continue
            key = datasets.get(name).key
            for column in columns:
                copies = frame.copy()
                copies[column] = None
                copies[key] = "NULL-" + copies[key].astype(str)
                with_nulls = dict(frames)
                with_nulls[name] = pd.concat([frame, copies], ignore_index=True)
                found = rule.evaluate(
                    {n: f.astype(frames[n].dtypes.to_dict()) for n, f in with_nulls.items()}, ctx
                )
                assert not [f for f in found if f.record_key.startswith("NULL-")], column
                assert _seen(found) == before, column
                checked += 1
    assert checked, "no example had a keyed record to copy"
