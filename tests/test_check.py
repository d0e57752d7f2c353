"""`naebu check`: every problem in config and rule files, located, at once, no traceback."""

from __future__ import annotations

import shutil
from pathlib import Path

from conftest import ROOT, run_cli, write_config

from naebu.engine.loader import load_rules

FIXTURES = ROOT / "tests" / "fixtures"


def _config_for_rules(tmp_path: Path, rules_dir: Path) -> Path:
    return write_config(
        tmp_path, f'[rules]\npaths = ["{rules_dir}"]\n[store]\nurl = "sqlite:///var/s.db"\n'
    )


def test_three_located_errors_and_exit_1(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(FIXTURES / "rules_bad", rules)
    cfg = _config_for_rules(tmp_path, rules)
    result = run_cli("check", "--config", str(cfg), cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if "three_errors.toml" in line]
    assert len(lines) == 3, result.stderr
    typo, syntax, injection = lines
    assert "rules/three_errors.toml:10: rule BAD-COLUMN: when: unknown column 'amout'" in typo
    assert "did you mean 'amount'?" in typo
    assert "rule BAD-SYNTAX: when:" in syntax
    assert "rule BAD-INJECTION: when:" in injection
    assert "__import__" in injection
    assert "3 problem(s) found" in result.stderr
    # nothing in a rule file is ever executed
    assert not (tmp_path / "NAEBU_PWNED").exists()


def test_shipped_rules_and_config_check_clean(tmp_path: Path) -> None:
    result = run_cli("check", cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("OK:")


def _load(tmp_path: Path, text: str) -> list[str]:
    (tmp_path / "r.toml").write_text(text, encoding="utf-8")
    return [str(p) for p in load_rules([tmp_path], root=tmp_path).problems]


RULE = """
[[rule]]
id = "X-1"
title = "t"
title_en = "t"
type = "match"
dataset = "payments"
severity = "low"
when = "amount > 1"
"""


def test_valid_rule_has_no_problems(tmp_path: Path) -> None:
    assert _load(tmp_path, RULE) == []


def test_toml_syntax_error_names_the_line(tmp_path: Path) -> None:
    problems = _load(tmp_path, RULE + 'broken = "unterminated\n')
    assert len(problems) == 1
    assert problems[0].startswith("r.toml:10: TOML syntax error")


def test_missing_and_unknown_keys(tmp_path: Path) -> None:
    text = RULE.replace('severity = "low"\n', "").replace(
        'when = "amount > 1"', 'whn = "amount > 1"'
    )
    problems = _load(tmp_path, text)
    assert any("rule X-1: severity: missing required key" in p for p in problems)
    assert any("rule X-1: whn: unknown key - did you mean 'when'?" in p for p in problems)
    assert any("rule X-1: when: missing required key" in p for p in problems)


def test_unknown_type_dataset_severity(tmp_path: Path) -> None:
    text = (
        RULE.replace('"match"', '"mach"')
        .replace('"payments"', '"payment"')
        .replace('"low"', '"urgent"')
    )
    problems = _load(tmp_path, text)
    assert any("type: unknown rule type 'mach' - did you mean 'match'?" in p for p in problems)
    assert any(
        "dataset: unknown dataset 'payment' - did you mean 'payments'?" in p for p in problems
    )
    assert any("severity: unknown severity 'urgent'" in p for p in problems)


def test_wrong_value_type(tmp_path: Path) -> None:
    problems = _load(tmp_path, RULE + 'deadline_days = "seven"\n')
    assert any("deadline_days: must be a whole number, not str" in p for p in problems)


def test_duplicate_ids_across_files(tmp_path: Path) -> None:
    (tmp_path / "a.toml").write_text(RULE, encoding="utf-8")
    (tmp_path / "b.toml").write_text(RULE, encoding="utf-8")
    problems = [str(p) for p in load_rules([tmp_path], root=tmp_path).problems]
    assert len(problems) == 1
    assert "b.toml" in problems[0] and "duplicate rule id 'X-1'" in problems[0]
    assert "a.toml" in problems[0]


def test_unknown_param_and_message_field(tmp_path: Path) -> None:
    text = (
        RULE.replace('"amount > 1"', '"amount > params.limt"')
        + 'params = { limit = 5 }\nmessage = "{amont:,}"\n'
    )
    problems = _load(tmp_path, text)
    assert any("when:" in p and "limt" in p for p in problems), problems
    assert any("message:" in p and "amont" in p for p in problems), problems


def test_example_that_does_not_behave_is_reported(tmp_path: Path) -> None:
    text = (
        RULE + '[[rule.example]]\nfires = true\nrecord = { amount = 0, paid_on = "2025-01-02" }\n'
    )
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "r.toml").write_text(text, encoding="utf-8")
    cfg = _config_for_rules(tmp_path, rules)
    result = run_cli("check", "--config", str(cfg), cwd=tmp_path)
    assert result.returncode == 1
    assert "rule X-1: example[0]: example should fire but does not" in result.stderr


def test_config_problems_are_located(tmp_path: Path) -> None:
    cfg = write_config(
        tmp_path,
        '[sorces.x]\nkind = "sql"\n[sources.p]\nkind = "sql"\ndataset = "paymnts"\n'
        '[sources.q]\nkind = "sql"\ndataset = "payments"\ncolumns = { amout = "AMT" }\n',
    )
    result = run_cli("check", "--config", str(cfg), cwd=tmp_path)
    assert result.returncode == 1
    err = result.stderr
    assert "config.toml:1: sorces: unknown section [sorces] - did you mean 'sources'?" in err
    assert "sources.p.dataset: unknown dataset 'paymnts' - did you mean 'payments'?" in err
    assert (
        "sources.q.columns.amout: 'amout' is not a column of dataset payments - did you mean 'amount'?"
        in err
    )
    assert "Traceback" not in err


def test_missing_config_is_a_clear_error(tmp_path: Path) -> None:
    result = run_cli("check", "--config", str(tmp_path / "nope.toml"), cwd=tmp_path)
    assert result.returncode == 1
    assert "config file not found" in result.stderr


_WITH_EXAMPLES = (
    RULE
    + """
[[rule.example]]
fires = true
record = { payment_id = "P-1", amount = 5, paid_on = "2025-06-02" }

[[rule.example]]
fires = false
note = "small"
record = { payment_id = "P-2", amount = 1, paid_on = "2025-06-02" }
"""
)


def test_verbose_lists_each_rules_lawful_lookalikes(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "r.toml").write_text(
        _WITH_EXAMPLES + '\n[[rule.lookalike]]\npractice = "매월 같은 금액의 임차료"\n'
        'how = "세금계산서 번호가 다르면 다른 지급"\nexamples = ["small"]\n'
        + _WITH_EXAMPLES.replace('"X-1"', '"X-2"').replace(
            'severity = "low"',
            'basis = "지방회계법 제29조"\nwhy = "돈이 두 번 나갑니다."\nseverity = "low"',
        ),
        encoding="utf-8",
    )
    cfg = _config_for_rules(tmp_path, rules)
    plain = run_cli("check", "--config", str(cfg), cwd=tmp_path)
    assert plain.returncode == 0, plain.stderr
    assert "정상 업무와의 구별" not in plain.stdout
    result = run_cli("check", "--verbose", "--config", str(cfg), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    x1 = out.index("X-1 t\n")
    x2 = out.index("X-2 t\n")
    assert "  - 매월 같은 금액의 임차료\n    세금계산서 번호가 다르면 다른 지급\n" in out[x1:x2]
    assert '    확인 예시: "small" (경보하지 않음)' in out[x1:x2]
    assert "  정상 업무와의 구별: 적혀 있지 않음" in out[x2:]
    # the rule's basis and why, when it gives them; nothing when it does not
    assert "X-2 t\n  근거: 지방회계법 제29조\n  왜 문제인가: 돈이 두 번 나갑니다.\n" in out
    assert "근거:" not in out[x1:x2] and "왜 문제인가" not in out[x1:x2]
