"""``[city]``: what kind of government the city is, so each rule picks its threshold by law.

```toml
[city]
name = "한빛시"
government_type = "시"        # 특별시, 광역시, 특별자치시, 도, 특별자치도, 시, 군, 자치구, 교육청
# metropolitan_area = true    # 특별시·광역시 지역: derived from the type (특별시, 광역시, 자치구);
#                             # say true for a 군 of a 광역시 (부산 기장군), and for a 교육청
#                             # say true or false (a 교육청 must: it serves a 시·도)
# large_city = true           # 인구 50만 이상인 시 (시, 특별자치시 only)
```

Without the section the rules run with each ``params.by_government`` default and ``naebu
check`` says so. The kinds and what depends on them live in naebu/core/government.py.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from naebu.core.government import (
    GOVERNMENT_TYPES,
    LARGE_CITY_TYPES,
    METROPOLITAN_REQUIRED,
    Government,
)
from naebu.core.problems import Problem, did_you_mean

CITY_KEYS = ("name", "government_type", "metropolitan_area", "large_city")


def parse_city(raw: Any, problems: list[Problem], file: str, path: Path) -> Government | None:
    """The ``[city]`` table as a :class:`Government`, or None when absent or wrong (the
    problems, located at their line, go to ``problems``)."""
    if raw is None:
        return None
    lines = _Lines(path)
    if not isinstance(raw, dict):
        problems.append(Problem(file, "[city] must be a table", key="city", line=lines("city"),
                                hint='[city] government_type = "시"'))  # fmt: skip
        return None
    before = len(problems)

    def problem(key: str, message: str, hint: str) -> None:
        problems.append(Problem(file, message, key=f"city.{key}", hint=hint, line=lines(key)))

    for key in raw:
        if key not in CITY_KEYS:
            problem(
                key, "unknown key", did_you_mean(key, CITY_KEYS) or "keys: " + ", ".join(CITY_KEYS)
            )
    types = ", ".join(GOVERNMENT_TYPES)
    kind = raw.get("government_type")
    if kind is None:
        problem("government_type", "missing", f'government_type = "시" (one of {types})')
    elif kind not in GOVERNMENT_TYPES:
        hint = did_you_mean(str(kind), GOVERNMENT_TYPES) or f"one of {types}"
        problem("government_type", f"unknown government type {kind!r}", hint)
    name = raw.get("name", "")
    if not isinstance(name, str):
        problem("name", "must be text", 'name = "한빛시"')
    for key in ("metropolitan_area", "large_city"):
        if key in raw and not isinstance(raw[key], bool):
            problem(key, f"must be true or false, not {raw[key]!r}", f"{key} = true")
    if len(problems) > before or not isinstance(kind, str):
        return None
    if kind in METROPOLITAN_REQUIRED and "metropolitan_area" not in raw:
        problem("metropolitan_area", f"a {kind} must say whether it serves a 특별시·광역시",
                "metropolitan_area = true (특별시·광역시 교육청) or false (도 교육청)")  # fmt: skip
        return None
    if raw.get("large_city") and kind not in LARGE_CITY_TYPES:
        problem("large_city", f"only a 시 can be 인구 50만 이상인 시, not a {kind}",
                "remove large_city")  # fmt: skip
        return None
    default = Government.of(kind)
    return Government(
        kind,
        raw.get("metropolitan_area", default.metropolitan_area),
        raw.get("large_city", False),
        str(name).strip(),
    )


class _Lines:
    """Lines of the keys of ``[city]`` in the config text, for ``file:line`` locations."""

    def __init__(self, path: Path) -> None:
        try:
            self.lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError):
            self.lines = []

    def __call__(self, key: str) -> int | None:
        start = next((n for n, line in enumerate(self.lines) if line.strip() == "[city]"), None)
        if start is None:
            return None
        if key == "city":
            return start + 1
        pattern = re.compile(r"^\s*" + re.escape(key) + r"\s*=")
        for n in range(start + 1, len(self.lines)):
            if self.lines[n].strip().startswith("["):
                break
            if pattern.match(self.lines[n]):
                return n + 1
        return start + 1
