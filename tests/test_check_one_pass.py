"""`naebu check` reports the config, its sources, `[web]` and the rules in one pass, each
problem at its file and line (issue 20)."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from conftest import run_cli, write_config

from naebu.cli import main
from naebu.core.tomllines import KeyLines
from naebu.settings.config import read_config

RULE = """\
[[rule]]
id = "X-1"
title = "t"
title_en = "t"
type = "match"
dataset = "payments"
severity = "low"
when = "amout > 1"
message = "m"

[[rule.example]]
fires = true
record = { payment_id = "P-1", amount = 5, paid_on = "2025-06-02" }

[[rule.example]]
fires = false
record = { payment_id = "P-2", amount = 1, paid_on = "2025-06-02" }
"""

CONFIG = """\
[store]
url = "sqlite:///var/s.db"
[rules]
paths = ["rules"]
[web]
session_hours = 8
sesion_max_hours = 12
[sources.pay]
kind = "files"
dataset = "payments"
path = "drop"
encodng = "cp949"
"""


def _project(tmp_path: Path, config: str, rule: str = RULE) -> Path:
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "r.toml").write_text(rule, encoding="utf-8")
    return write_config(tmp_path, config)


def _check(tmp_path: Path, path: Path) -> tuple[int, list[str]]:
    """``naebu check`` in this process; its exit code and its error lines."""
    import os

    here = os.getcwd()
    os.chdir(tmp_path)  # problems name files relative to the working folder, as a user sees
    try:
        result = CliRunner().invoke(main, ["check", "--config", str(path)])
    finally:
        os.chdir(here)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.stderr.splitlines()


def test_web_source_and_rule_errors_in_one_run_each_with_its_line(tmp_path: Path) -> None:
    cfg = _project(tmp_path, CONFIG)
    result = run_cli("check", "--config", str(cfg), cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert lines[-1] == "3 problem(s) found", lines
    web, source, rule = lines[:3]
    assert web.startswith("config.toml:7: web.sesion_max_hours: unknown key"), web
    assert "did you mean 'session_max_hours'?" in web
    assert source.startswith("config.toml:12: sources.pay.encodng: "), source
    assert "did you mean 'encoding'?" in source
    assert rule.startswith("rules/r.toml:8: rule X-1: when: unknown column 'amout'"), rule


def test_a_config_error_does_not_hide_the_rules(tmp_path: Path) -> None:
    config = CONFIG.replace('dataset = "payments"', 'dataset = "paymnts"').replace(
        "sesion_max_hours", "session_max_hours"
    )
    code, lines = _check(tmp_path, _project(tmp_path, config + "[notify]\nlanguage = 'fr'\n"))
    assert code == 1
    assert lines[-1] == "3 problem(s) found", lines
    assert any(
        line.startswith("config.toml:10: sources.pay.dataset: unknown dataset 'paymnts'")
        and "did you mean 'payments'?" in line
        for line in lines
    ), lines
    assert "config.toml:14: notify.language: unknown language 'fr'" in "\n".join(lines)
    assert any(line.startswith("rules/r.toml:8: rule X-1: when:") for line in lines), lines


def test_a_misspelt_web_key_alone_fails_check_with_did_you_mean(tmp_path: Path) -> None:
    config = CONFIG.replace('encodng = "cp949"', 'encoding = "cp949"')
    code, lines = _check(tmp_path, _project(tmp_path, config, RULE.replace("amout", "amount")))
    assert code == 1
    assert lines == [
        "config.toml:7: web.sesion_max_hours: unknown key - did you mean 'session_max_hours'?",
        "1 problem(s) found",
    ]
    # Fixed, the same project checks clean.
    (tmp_path / "config.toml").write_text(
        config.replace("sesion_max_hours", "session_max_hours"), encoding="utf-8"
    )
    code, lines = _check(tmp_path, tmp_path / "config.toml")
    assert (code, lines) == (0, []), lines


def test_the_legacy_web_toml_is_checked_too(tmp_path: Path) -> None:
    config = CONFIG.replace('encodng = "cp949"', 'encoding = "cp949"')
    config = config.replace("[web]\nsession_hours = 8\nsesion_max_hours = 12\n", "")
    path = _project(tmp_path, config, RULE.replace("amout", "amount"))
    (tmp_path / "web.toml").write_text("[web]\n\npage_sise = 20\n", encoding="utf-8")
    code, lines = _check(tmp_path, path)
    assert code == 1
    assert any(
        line.endswith("web.toml:3: web.page_sise: unknown key - did you mean 'page_size'?")
        for line in lines
    ), lines


def test_a_toml_syntax_error_is_one_located_line(tmp_path: Path) -> None:
    code, lines = _check(tmp_path, _project(tmp_path, CONFIG + "[notify\n"))
    assert code == 1
    assert lines[0].startswith("config.toml:13: not valid TOML"), lines
    assert lines[-1] == "1 problem(s) found"


def test_key_lines_find_tables_arrays_inline_tables_and_dotted_keys() -> None:
    text = (
        "[sources.pay]\n"  # 1
        'columns = { amount = "AMT", paid_at = "DT" }\n'  # 2
        'desc = """\n'  # 3
        "x = 1\n"  # 4: inside a string, not a key
        '"""\n'  # 5
        "[[notify.channels]]\n"  # 6
        'url = "mailto://a"\n'  # 7
        "[[notify.channels]]\n"  # 8
        'name = "b"\n'  # 9
        "engine.backend = 'dask'\n"  # 10
    )
    lines = KeyLines(text)
    assert lines("sources") == 1
    assert lines("sources.pay.columns.paid_at") == 2
    assert lines("sources.pay.columns.nope") == 2  # the nearest key that is set
    assert lines("sources.pay.x") == 1
    assert lines("notify.channels[0].url") == 7
    assert lines("notify.channels[1].name") == 9
    assert lines("notify.channels[1]") == 8
    assert lines("notify.channels[1].engine.backend") == 10
    assert lines("config.notify.channels[0].url") == 7  # an environment variable's key
    assert lines("daemon.http_port") is None


def test_config_problems_of_arrays_schedules_and_environment_carry_their_line(
    tmp_path: Path,
) -> None:
    path = write_config(
        tmp_path,
        '[store]\nurl = "sqlite:///s.db"\n'  # 1-2
        '[daemon]\nlog_format = "text"\nreminders_cron = "99 * * * *"\n'  # 3-5
        '[[notify.channels]]\nurl = "mailto://a@b"\n'  # 6-7
        '[[notify.channels]]\nname = "outbox-file"\nurl = "mailto://c@d"\n'  # 8-10
        '[connections.hr]\nurl = "${NAEBU_TEST_UNSET_20}"\n',  # 11-12
    )
    config, problems = read_config(path)
    assert config is not None  # read as far as it goes, for the rest of naebu check
    where = {p.key: p.line for p in problems}
    assert where == {
        "daemon.reminders_cron": 5,
        "notify.channels[1].name": 9,
        "config.connections.hr.url": 12,
    }, [str(p) for p in problems]
