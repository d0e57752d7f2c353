"""The shipped rule pack: every rule loads, and every example in it behaves."""

from __future__ import annotations

import re

import pytest
from conftest import ROOT

from naebu.core import datasets
from naebu.engine.examples import run_examples
from naebu.engine.loader import load_rules
from naebu.engine.registry import RuleType

PACK = load_rules([ROOT / "rules"], root=ROOT)


def test_pack_loads_without_problems() -> None:
    assert [str(p) for p in PACK.problems] == []
    assert len(PACK.rules) >= 11


@pytest.mark.parametrize("rule", PACK.rules, ids=[r.meta.id for r in PACK.rules])
def test_examples(rule) -> None:  # type: ignore[no-untyped-def]
    assert rule.meta.examples, "every shipped rule carries examples"
    assert any(e.fires for e in rule.meta.examples) and any(not e.fires for e in rule.meta.examples)
    assert [str(p) for p in run_examples([rule])] == []


_PLACEHOLDER = re.compile(r"\{[^{}]*\}")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_PATH = re.compile(r"[\w.-]+/[\w./-]+|\w+\.(toml|csv|xlsx|yaml|py)\b")


def _plain_korean_problems(rule: RuleType) -> list[str]:
    """Canonical column and dataset names and file paths in what an official reads of one
    rule."""
    columns = {c for name in rule.datasets for c in datasets.get(name).column_names}
    columns |= set(datasets.DATASETS)  # and the datasets' own names
    texts = {
        "title": rule.meta.title,
        "description": rule.meta.description,
        "why": rule.meta.why,
        # a message's {placeholders} are filled in with values: only the text around them
        "message": _PLACEHOLDER.sub("", rule.meta.message),
    }
    problems = []
    for key, text in texts.items():
        named = sorted({w for w in _WORD.findall(text) if w in columns})
        if named:
            problems.append(f"{rule.meta.id} {key}: canonical names {named}")
        if found := _PATH.search(text):
            problems.append(f"{rule.meta.id} {key}: file path {found.group(0)!r}")
    return problems


def test_korean_texts_name_no_column_nor_file() -> None:
    """What an official reads in the inbox catalog is plain Korean: the Korean labels of the
    columns (naebu/core/datasets.py), never their canonical names or a rule file's path."""
    rules = [*PACK.rules, *(r.fallback for r in PACK.rules if r.fallback is not None)]
    problems = [p for rule in rules for p in _plain_korean_problems(rule)]
    assert problems == []


ENABLED = [r for r in PACK.rules if r.meta.enabled]


@pytest.mark.parametrize("rule", ENABLED, ids=[r.meta.id for r in ENABLED])
def test_every_enabled_rule_says_why_it_is_a_red_flag(rule: RuleType) -> None:
    """The digest, `alerts show`, the export and the inbox explain each alert with the rule's
    basis and a paragraph on why the pattern is a red flag, in Korean and English."""
    meta = rule.meta
    assert meta.basis.strip(), f"{meta.id} ({meta.file}): no basis"
    assert meta.why.strip(), f"{meta.id} ({meta.file}): no why"
    assert meta.why_en.strip(), f"{meta.id} ({meta.file}): no why_en"
    assert re.search("[가-힣]", meta.why), f"{meta.id}: why is not Korean"
    # one paragraph: readable in a digest, not an essay
    assert "\n" not in meta.why and len(meta.why) <= 400, f"{meta.id}: why too long"
