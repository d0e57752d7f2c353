"""Hostile rule files (issue 17, points 4 and 9): each is a located problem for its own file
or rule, never a traceback, and the other files' rules keep loading and running."""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd
import pytest

from naebu.engine.examples import run_examples
from naebu.engine.expr import ExprError, compile_expression
from naebu.engine.loader import load_rules

GOOD = """
[[rule]]
id = "CARD-GOOD"
title = "좋은 규칙"
title_en = "A good rule"
type = "match"
dataset = "card_transactions"
severity = "low"
when = "amount > 100"

[[rule.example]]
fires = true
record = { approval_id = "A-1", approved_date = "2025-03-12", amount = 500 }

[[rule.example]]
fires = false
record = { approval_id = "A-2", approved_date = "2025-03-12", amount = 5 }
"""


def _rule(rule_id: str, when: str, extra: str = "") -> str:
    return (
        GOOD.replace("CARD-GOOD", rule_id)
        .replace('"amount > 100"', repr_toml(when))
        .replace('severity = "low"', 'severity = "low"\n' + extra)
    )


def repr_toml(text: str) -> str:
    return "'''" + text + "'''"


def _load(tmp_path: Path, files: dict[str, str | bytes]):
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "a_good.toml").write_text(GOOD, encoding="utf-8")
    for name, body in files.items():
        if isinstance(body, bytes):
            (folder / name).write_bytes(body)
        else:
            (folder / name).write_text(body, encoding="utf-8")
    return load_rules([folder], root=tmp_path)


def _only_problem(ruleset, name: str) -> str:
    assert "CARD-GOOD" in ruleset.by_id(), "the other file's rule must still load"
    texts = [str(p) for p in ruleset.problems]
    assert texts and all(name in t for t in texts), texts
    return "\n".join(texts)


# -- point 4: recursion ------------------------------------------------------------------------


def test_toml_nested_too_deep_is_a_located_problem(tmp_path: Path) -> None:
    deep = "x = " + "[" * 1000 + "]" * 1000 + "\n"
    text = _only_problem(_load(tmp_path, {"deep.toml": deep}), "rules/deep.toml")
    assert "nested too deeply" in text


def test_toml_nested_deep_but_parsed_is_refused(tmp_path: Path) -> None:
    # Deep enough to parse, too deep for the code that walks the rule afterwards.
    body = _rule("CARD-DEEP", "amount > 1", "params = { x = " + "[" * 400 + "]" * 400 + " }")
    text = _only_problem(_load(tmp_path, {"deep.toml": body}), "rules/deep.toml")
    assert "nested too deeply" in text


def test_or_chain_of_400_merchants_works(tmp_path: Path) -> None:
    names = [f"가맹점{i}" for i in range(400)]
    when = " or ".join(f'merchant_name == "{n}"' for n in names)
    ruleset = _load(tmp_path, {"merchants.toml": _rule("CARD-MERCHANTS", when)})
    assert not ruleset.problems, [str(p) for p in ruleset.problems]
    rule = ruleset.by_id()["CARD-MERCHANTS"]
    assert rule is not None
    cond = compile_expression(when, {"merchant_name": "str"})
    frame = pd.DataFrame({"merchant_name": ["가맹점0", "가맹점399", "가맹점200", "other", None]})
    assert cond.evaluate(frame).tolist() == [True, True, True, False, False]


def test_and_chain_and_mixed_chain_work() -> None:
    when = " and ".join(f"amount != {i}" for i in range(500)) + " or amount == 3"
    cond = compile_expression(when, {"amount": "int"})
    frame = pd.DataFrame({"amount": [3, 7, 600, None]})
    assert cond.evaluate(frame).tolist() == [True, False, True, False]


def test_long_arithmetic_chain_is_a_located_problem(tmp_path: Path) -> None:
    when = " + ".join(["amount"] * 2000) + " > 0"
    body = _rule("CARD-SUM", when)
    text = _only_problem(_load(tmp_path, {"sum.toml": body}), "rules/sum.toml")
    assert "CARD-SUM" in text and "nested too deeply" in text


def test_parentheses_nested_too_deep_is_a_located_problem(tmp_path: Path) -> None:
    when = "(" * 3000 + "amount > 0" + ")" * 3000
    text = _only_problem(
        _load(tmp_path, {"paren.toml": _rule("CARD-PAREN", when)}), "rules/paren.toml"
    )
    assert "CARD-PAREN" in text and "nested too deeply" in text


def test_huge_number_in_expression_is_a_located_problem(tmp_path: Path) -> None:
    when = "amount > " + "9" * 100_000
    text = _only_problem(_load(tmp_path, {"big.toml": _rule("CARD-BIG", when)}), "rules/big.toml")
    assert "CARD-BIG" in text and "digits" in text


def test_huge_number_in_toml_is_a_located_problem(tmp_path: Path) -> None:
    body = _rule("CARD-BIGTOML", "amount > 1", "deadline_days = " + "9" * 100_000)
    text = _only_problem(_load(tmp_path, {"big.toml": body}), "rules/big.toml")
    assert "digits" in text


# -- point 9: rule files -----------------------------------------------------------------------


def test_empty_file_is_reported(tmp_path: Path) -> None:
    text = _only_problem(_load(tmp_path, {"empty.toml": b""}), "rules/empty.toml")
    assert "file is empty" in text


def test_deadline_days_bounded(tmp_path: Path) -> None:
    body = _rule("CARD-LATE", "amount > 1", "deadline_days = 10_000_000")
    text = _only_problem(_load(tmp_path, {"late.toml": body}), "rules/late.toml")
    assert "CARD-LATE" in text and "deadline_days" in text and "3650" in text


def test_byte_order_mark_is_stripped(tmp_path: Path) -> None:
    body = "\ufeff" + _rule("CARD-BOM", "amount > 1")
    ruleset = _load(tmp_path, {"bom.toml": body.encode("utf-8")})
    assert not ruleset.problems, [str(p) for p in ruleset.problems]
    assert "CARD-BOM" in ruleset.by_id()


@pytest.mark.parametrize(
    "pattern",
    [
        r"^(?=(a|aa)*b)",
        r"(?!x)(a|aa)*c",
        r"(?<=a)b",
        r"(?<!a)b",
        r"(a|aa)+$",
        r"(a|a?)+b",
        r"(ab|a)*c",
        r"(?P<x>a)(?P=x)",
        r"(a)?(?(1)b|c)",
    ],
)
def test_regex_guard_refuses_what_it_cannot_prove_linear(pattern: str) -> None:
    when = f"matches(merchant_name, {pattern!r})".replace("'", '"')
    with pytest.raises(ExprError) as info:
        compile_expression(when.replace("\\", "\\\\"), {"merchant_name": "str"})
    assert "pattern" in str(info.value) or "look" in str(info.value)


def test_regex_guard_keeps_ordinary_patterns() -> None:
    for pattern in [r"노래(연습장|방)", r"(\\d+)\\s*명", r"^[A-Z]{2}-\\d{4}$", r"유흥|단란"]:
        compile_expression(f'matches(merchant_name, "{pattern}")', {"merchant_name": "str"})


def test_lookaround_backtracking_pattern_refused_quickly() -> None:
    start = time.monotonic()
    with pytest.raises(ExprError):
        compile_expression('matches(merchant_name, "^(?=(a|aa)*$)")', {"merchant_name": "str"})
    assert time.monotonic() - start < 1


def test_failing_examples_keep_the_last_good_version(tmp_path: Path) -> None:
    from naebu.daemon.rules import RuleKeeper

    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "a_good.toml").write_text(GOOD, encoding="utf-8")
    target = folder / "b.toml"
    target.write_text(_rule("CARD-EX", "amount > 100"), encoding="utf-8")

    class _Config:
        rule_paths = [folder]
        base_dir = tmp_path
        city = None

    keeper = RuleKeeper(_Config())  # type: ignore[arg-type]
    first = keeper.refresh()
    assert {r.meta.id for r in first.ruleset.rules} == {"CARD-GOOD", "CARD-EX"}
    # The edit breaks the examples: amount > 1000 no longer fires on the 500 example.
    target.write_text(_rule("CARD-EX", "amount > 1000"), encoding="utf-8")
    second = keeper.refresh()
    running = second.ruleset.by_id()["CARD-EX"]
    assert running.meta.examples and "CARD-EX" in second.kept
    assert any("CARD-EX" in str(p) for p in second.problems)
    assert not run_examples([running])
    # Emptying the file keeps its rules too, and says so.
    target.write_bytes(b"")
    third = keeper.refresh()
    assert "CARD-EX" in third.ruleset.by_id() and "CARD-EX" in third.kept
    assert any("file is empty" in str(p) for p in third.problems)


# -- as a user runs it: `check` and `run --once` ------------------------------------------------


def test_check_and_run_once_with_hostile_files_give_no_traceback(tmp_path: Path) -> None:
    import shutil

    from conftest import ROOT, run_cli

    result = run_cli("demo", "--out", str(tmp_path / "demo-city"), "--scale", "0.05", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    shutil.copy(ROOT / "config.toml", tmp_path / "config.toml")
    shutil.copytree(ROOT / "rules", tmp_path / "rules")
    hostile = tmp_path / "rules" / "hostile"
    hostile.mkdir()
    (hostile / "deep.toml").write_text("x = " + "[" * 1000 + "]" * 1000 + "\n", encoding="utf-8")
    (hostile / "big.toml").write_text(
        _rule("CARD-BIG", "amount > " + "9" * 100_000), encoding="utf-8"
    )
    (hostile / "bignum.toml").write_text("n = " + "9" * 100_000 + "\n", encoding="utf-8")
    (hostile / "empty.toml").write_bytes(b"")
    for args in (("check",), ("run", "--once")):
        result = run_cli(*args, cwd=tmp_path)
        out = result.stdout + result.stderr
        assert "Traceback" not in out, out[-3000:]
        assert "rules/hostile/deep.toml" in out and "nested too deeply" in out, out[-3000:]
        assert "rules/hostile/big.toml" in out and "CARD-BIG" in out, out[-3000:]
        assert "rules/hostile/bignum.toml" in out and "rules/hostile/empty.toml" in out
        # `run --once` refuses rule problems by design (the daemon runs the rest: below)
        assert result.returncode != 0


def test_daemon_keeps_running_the_other_files_rules(tmp_path: Path) -> None:
    from naebu.daemon.rules import RuleKeeper

    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "a_good.toml").write_text(GOOD, encoding="utf-8")
    names = " or ".join(f'merchant_name == "가맹점{i}"' for i in range(400))
    when = f"({names}) or amount > 100"
    (folder / "merchants.toml").write_text(_rule("CARD-MERCHANTS", when), encoding="utf-8")
    (folder / "deep.toml").write_text("x = " + "[" * 1000 + "]" * 1000, encoding="utf-8")
    (folder / "big.toml").write_text(
        _rule("CARD-BIG", "amount > " + "9" * 100_000), encoding="utf-8"
    )

    class _Config:
        rule_paths = [folder]
        base_dir = tmp_path
        city = None

    reload = RuleKeeper(_Config()).refresh()  # type: ignore[arg-type]
    assert set(reload.ruleset.by_id()) == {"CARD-GOOD", "CARD-MERCHANTS"}
    assert {p.file for p in reload.problems} == {"rules/deep.toml", "rules/big.toml"}


def test_nesting_over_the_parser_bound_is_still_a_located_problem(tmp_path: Path) -> None:
    # Parentheses in the first operand of arithmetic chains: each bound holds, their product
    # is too deep for the recursive checker; the rule is refused, the others load.
    inner = "amount"
    for _ in range(60):
        inner = "(" + inner + " + amount" * 90 + ")"
    body = _rule("CARD-NEST", inner + " > 0")
    text = _only_problem(_load(tmp_path, {"nest.toml": body}), "rules/nest.toml")
    assert "rules/nest.toml:" in text and "CARD-NEST" in text and "too deeply" in text
