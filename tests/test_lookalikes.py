"""[[rule.lookalike]]: the lawful practice a rule resembles, read and checked by the loader."""

from __future__ import annotations

from pathlib import Path

from naebu.engine.loader import load_rules

_RULE = """
[[rule]]
id = "T-NIGHT"
title = "심야 사용"
title_en = "Night use"
type = "match"
dataset = "card_transactions"
severity = "low"
when = "amount > 0"

[[rule.example]]
fires = true
note = "used"
record = {{ amount = 1 }}

[[rule.example]]
fires = false
note = "nothing spent"
record = {{ amount = 0 }}
{lookalike}
"""


def _load(tmp_path: Path, lookalike: str):
    path = tmp_path / "r.toml"
    path.write_text(_RULE.format(lookalike=lookalike), encoding="utf-8")
    return load_rules([path])


def test_a_lookalike_is_read_with_its_examples(tmp_path: Path) -> None:
    result = _load(
        tmp_path,
        '[[rule.lookalike]]\npractice = "야간 당직 식사"\npractice_en = "night duty meal"\n'
        'how = "당직 명단과 대조"\nexamples = ["nothing spent"]\n',
    )
    assert not result.problems, result.problems
    (look,) = result.rules[0].meta.lookalikes
    assert look.practice == "야간 당직 식사"
    assert look.practice_en == "night duty meal"
    assert look.examples == ("nothing spent",)


def test_a_rule_without_lookalikes_has_none(tmp_path: Path) -> None:
    result = _load(tmp_path, "")
    assert not result.problems
    assert result.rules[0].meta.lookalikes == ()


def test_an_unknown_example_note_is_a_located_problem(tmp_path: Path) -> None:
    result = _load(
        tmp_path,
        '[[rule.lookalike]]\npractice = "야간 당직 식사"\nhow = "당직 명단과 대조"\n'
        'examples = ["nothing spend"]\n',
    )
    (problem,) = result.problems
    text = str(problem)
    assert "no example with the note 'nothing spend'" in text
    assert "did you mean 'nothing spent'?" in text
    assert not result.rules


def test_missing_how_and_unknown_key_are_problems(tmp_path: Path) -> None:
    result = _load(tmp_path, '[[rule.lookalike]]\npractice = "야간 당직 식사"\nwhy = "x"\n')
    messages = " | ".join(str(p) for p in result.problems)
    assert "lookalike #1: how" in messages and "missing or empty" in messages
    assert "lookalike #1: why" in messages and "unknown key" in messages
