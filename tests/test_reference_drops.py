"""Reference data delivered as file drops (issue 16: HR exports as CSV files).

A drop folder's files are taken once, so a run that finds no new file has no new version of
the directory: the stored officials stay. A new file replaces them whole, as a reference
pull always does.
"""

from __future__ import annotations

from pathlib import Path

from history_copy import history_db

from naebu.pipeline import run_once
from naebu.settings.config import load_config


def _officials(folder: Path) -> list[str]:
    db = history_db(folder / "var" / "naebu.sqlite")
    rows = db.execute("SELECT employee_id FROM rec_employees ORDER BY 1").fetchall()
    return [r[0] for r in rows]


def test_a_directory_from_file_drops_stays_until_a_new_file_comes(tmp_path: Path) -> None:
    (tmp_path / "drops").mkdir()
    (tmp_path / "rules").mkdir()
    (tmp_path / "drops" / "emp-1.csv").write_text(
        "employee_id,name,department,role\nE001,김담당,재무과,담당자\nE010,이과장,재무과,부서관리자\n",
        encoding="utf-8",
    )
    config = tmp_path / "config.toml"
    config.write_text(
        '[store]\nurl = "sqlite:///var/naebu.sqlite"\n\n[rules]\npaths = ["rules"]\n\n'
        '[sources.employees]\nkind = "files"\npath = "drops"\ndataset = "employees"\n',
        encoding="utf-8",
    )
    run_once(load_config(config))
    assert _officials(tmp_path) == ["E001", "E010"]
    run_once(load_config(config))  # no new file: the directory is unchanged
    assert _officials(tmp_path) == ["E001", "E010"]
    (tmp_path / "drops" / "emp-2.csv").write_text(
        "employee_id,name,department,role\nE001,김담당,재무과,담당자\nE011,최주무,재무과,담당자\n",
        encoding="utf-8",
    )
    run_once(load_config(config))  # a new export replaces the directory whole
    assert _officials(tmp_path) == ["E001", "E011"]
