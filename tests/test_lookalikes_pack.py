"""The shipped pack's lawful look-alikes (정상 업무와의 구별): every enabled rule says which
legitimate practice resembles its pattern and how it is told apart, pinned by its examples."""

from __future__ import annotations

import re

import pytest
from conftest import ROOT

from naebu.core import datasets
from naebu.engine.loader import load_rules
from naebu.engine.registry import RuleType

PACK = load_rules([ROOT / "rules"], root=ROOT)
ENABLED = [r for r in PACK.rules if r.meta.enabled]

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_PATH = re.compile(r"[\w.-]+/[\w./-]+|\w+\.(toml|csv|xlsx|yaml|py)\b")


@pytest.mark.parametrize("rule", ENABLED, ids=[r.meta.id for r in ENABLED])
def test_every_enabled_rule_has_a_pinned_lookalike(rule: RuleType) -> None:
    looks = rule.meta.lookalikes
    assert looks, f"{rule.meta.id} ({rule.meta.file}): no [[rule.lookalike]] table"
    for n, look in enumerate(looks, start=1):
        assert look.examples, f"{rule.meta.id} lookalike #{n}: names no example"
        assert look.practice_en and look.how_en, f"{rule.meta.id} lookalike #{n}: no English"
        notes = {e.note: e for e in rule.meta.examples}
        assert all(name in notes for name in look.examples)


@pytest.mark.parametrize("rule", ENABLED, ids=[r.meta.id for r in ENABLED])
def test_lookalike_texts_are_plain_korean(rule: RuleType) -> None:
    """Officials read practice and how in the catalog: no canonical column or dataset name,
    no file path (the English texts may name them)."""
    names = {c for d in rule.datasets for c in datasets.get(d).column_names}
    names |= set(datasets.DATASETS)
    for n, look in enumerate(rule.meta.lookalikes, start=1):
        for key, text in (("practice", look.practice), ("how", look.how)):
            named = sorted({w for w in _WORD.findall(text) if w in names})
            assert not named, f"{rule.meta.id} lookalike #{n} {key}: canonical names {named}"
            found = _PATH.search(text)
            assert found is None, f"{rule.meta.id} lookalike #{n} {key}: path {found}"
