"""The in-process ``run_cli``: what a subprocess would give, and the test's process left as it was."""

from __future__ import annotations

import logging
import os
import shutil
import signal
import warnings
from datetime import date
from pathlib import Path

import pytest
from conftest import ROOT, run_cli

from naebu.core import workdays


def _city(tmp_path: Path) -> Path:
    shutil.copy(ROOT / "config.toml", tmp_path / "config.toml")
    shutil.copytree(ROOT / "rules", tmp_path / "rules")
    with (tmp_path / "config.toml").open("a", encoding="utf-8") as f:
        f.write('\n[calendar]\nextra_holidays = ["2025-10-10"]\n')
    return tmp_path


def test_a_command_leaves_the_process_as_it_found_it(tmp_path: Path) -> None:
    city = _city(tmp_path)
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    factory = logging.getLogRecordFactory()
    cwd, environ = os.getcwd(), dict(os.environ)
    filters = list(warnings.filters)
    sigterm = signal.getsignal(signal.SIGTERM)
    holidays = workdays.city_holidays()
    assert date(2025, 10, 10) not in holidays.extra

    result = run_cli("-v", "alerts", "list", "--format", "json", cwd=city, env={"NAEBU_X": "1"})

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
    # -v took effect although pytest's handlers are on the root logger: the migration's
    # INFO lines reached the command's stderr, not stdout.
    assert "INFO" in result.stderr and "INFO" not in result.stdout
    assert root.handlers == handlers and root.level == level
    assert logging.getLogRecordFactory() is factory
    assert os.getcwd() == cwd and dict(os.environ) == environ
    assert warnings.filters == filters
    assert signal.getsignal(signal.SIGTERM) is sigterm
    assert workdays.city_holidays() == holidays


def test_the_city_calendar_is_in_force_during_the_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[workdays.CityHolidays] = []
    real = workdays.configure

    def configure(*args: object, **kwargs: object) -> None:
        real(*args, **kwargs)  # type: ignore[arg-type]
        seen.append(workdays.city_holidays())

    monkeypatch.setattr(workdays, "configure", configure)
    run_cli("alerts", "list", cwd=_city(tmp_path))
    assert any(date(2025, 10, 10) in s.extra for s in seen)
    assert date(2025, 10, 10) not in workdays.city_holidays().extra


def test_a_users_mistake_is_an_exit_code_and_a_crash_is_raised(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = run_cli("check", "--config", "nope.toml", cwd=tmp_path)
    assert missing.returncode == 1 and "nope.toml" in missing.stderr and not missing.stdout
    usage = run_cli("chek", cwd=tmp_path)
    assert usage.returncode == 2 and "python -m naebu.cli" in usage.stderr

    from naebu import cli

    def crash(args: object) -> None:
        raise RuntimeError("a bug, not a user's mistake")

    monkeypatch.setattr(cli, "install_for_command_line", crash)
    with pytest.raises(RuntimeError, match="a bug"):
        run_cli("check", cwd=tmp_path)
    assert os.getcwd() != str(tmp_path)
