"""The shipped rule pack: every rule loads, and every example in it behaves."""

from __future__ import annotations

import pytest
from conftest import ROOT

from engine.examples import run_examples
from engine.loader import load_rules

PACK = load_rules([ROOT / "rules"], root=ROOT)


def test_pack_loads_without_problems() -> None:
    assert [str(p) for p in PACK.problems] == []
    assert len(PACK.rules) >= 11


@pytest.mark.parametrize("rule", PACK.rules, ids=[r.meta.id for r in PACK.rules])
def test_examples(rule) -> None:  # type: ignore[no-untyped-def]
    assert rule.meta.examples, "every shipped rule carries examples"
    assert any(e.fires for e in rule.meta.examples) and any(not e.fires for e in rule.meta.examples)
    assert [str(p) for p in run_examples([rule])] == []
