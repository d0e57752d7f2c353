"""``[onboarding]``: the city's own header synonym files for ``naebu sources suggest``."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from naebu.core.problems import Problem


@dataclass
class OnboardingConfig:
    """``[onboarding]``: what ``naebu sources suggest`` reads besides its shipped dictionary.

    ``synonyms``: TOML files of the city's own header and value synonyms (the layout of
    ``connectors/synonyms.toml``), relative to the config file.
    """

    synonyms: list[Path] = field(default_factory=list)


def parse_onboarding(
    raw: dict[str, Any], base: Path, problems: list[Problem], file: str
) -> OnboardingConfig:
    """``[onboarding]`` with its synonym files resolved against ``base`` (each must exist);
    every mistake goes to ``problems``."""
    cfg = OnboardingConfig()
    for key, value in raw.items():
        if key != "synonyms":
            problems.append(
                Problem(file, "unknown key", key=f"onboarding.{key}", hint="keys: synonyms")
            )
            continue
        paths = value if isinstance(value, list) else [value]
        for i, path in enumerate(paths):
            if not isinstance(path, str) or not path.strip():
                problems.append(
                    Problem(
                        file,
                        f"must be a path to a TOML file, not {path!r}",
                        key=f"onboarding.synonyms[{i}]",
                        hint='synonyms = ["my-headers.toml"]',
                    )
                )
                continue
            resolved = (base / os.path.expanduser(path)).resolve()
            if not resolved.is_file():
                problems.append(
                    Problem(
                        file,
                        f"synonym file {path} not found",
                        key=f"onboarding.synonyms[{i}]",
                        hint="paths are relative to the config file",
                    )
                )
                continue
            cfg.synonyms.append(resolved)
    return cfg
