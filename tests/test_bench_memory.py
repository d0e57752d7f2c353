"""``python -m bench.baselines.memory``: the frames read once and then from the pickle, and the
table it prints (per rule, per type and the whole pack)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pandas as pd
import pytest

from bench.baselines import memory


def test_frames_are_read_once_then_from_the_pickle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads: list[Any] = []

    def load(config: Any) -> SimpleNamespace:
        reads.append(config)
        return SimpleNamespace(frames={"payments": pd.DataFrame({"payment_id": ["P1"]})})

    monkeypatch.setattr(memory, "load_frames", load)
    monkeypatch.setattr(memory, "load_config", lambda path: path)
    cache = tmp_path / "frames.pkl"
    first = memory.frames_of(tmp_path / "config.toml", cache)
    second = memory.frames_of(tmp_path / "config.toml", cache)
    assert len(reads) == 1 and cache.exists()
    assert first["payments"].equals(second["payments"])


def _rule(rule_id: str, kind: str, naebu: float, duck: float, polars: float) -> dict[str, Any]:
    side = {"median": 0.0, "naebu_over": None}
    return {
        "rule_id": rule_id, "type": kind, "rows": 10, "findings": 1,
        "naebu": {"median": naebu},
        "duckdb": {**side, "median": duck, "naebu_over": naebu / duck},
        "polars": {**side, "median": polars, "naebu_over": naebu / polars},
    }  # fmt: skip


def test_the_table_has_every_rule_then_each_type_and_the_pack() -> None:
    rules = [_rule("B", "sequence", 3.0, 1.0, 2.0), _rule("A", "match", 1.0, 1.0, 0.5)]
    out = memory.lines(rules)
    assert [line.split()[1] for line in out[:2]] == ["A", "B"]  # by type, then id
    pack = next(line for line in out if line.startswith("all"))
    # the whole pack: medians summed, then divided (4 / 2 and 4 / 2.5)
    assert "n/d  2.00" in pack and "n/p  1.60" in pack
    assert any(line.startswith("sequence") and "n/d  3.00" in line for line in out[2:])
