"""The ``[audit]`` section: where the audit key and the published heads live (alerts/anchor.py).

::

    [audit]
    key_file = "/etc/naebu/audit.key"   # made by `naebu audit init-key` (0600)
    # key_env = "NAEBU_AUDIT_KEY"       # or: the environment variable holding the key
    heads_file = "var/audit-heads.log"  # the default; "" to write none

The key never goes into the store, the config or a log: only its file or variable is named
here. Without ``key_file`` or ``key_env`` entries are not signed, as before, and `naebu audit
verify` says what it then cannot detect. Paths are relative to the config file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from naebu.core.problems import Problem, did_you_mean

#: The heads file when ``[audit] heads_file`` is not given, relative to the config file.
DEFAULT_HEADS_FILE = "var/audit-heads.log"
KEYS = ("key_file", "key_env", "heads_file")

if TYPE_CHECKING:
    from naebu.alerts.anchor import Anchor


@dataclass(frozen=True)
class AuditConfig:
    """``[audit]``, checked: the key's file or environment variable (neither: no key) and
    the heads file (None: heads are not written to a file)."""

    key_file: Path | None = None
    key_env: str | None = None
    heads_file: Path | None = None

    @property
    def keyed(self) -> bool:
        """True when a key is configured (it may still be missing: see :meth:`anchor`)."""
        return self.key_file is not None or self.key_env is not None

    def anchor(self) -> Anchor:
        """The key (read now) and heads file; :class:`AnchorError` when the key configured
        cannot be read."""
        # Imported here: alerts/ imports naebu.settings.config, which imports this module.
        from naebu.alerts.anchor import Anchor, AnchorError, parse_key, read_key_file

        key = None
        if self.key_file is not None:
            key = read_key_file(self.key_file)
        elif self.key_env is not None:
            value = os.environ.get(self.key_env)
            if not value:
                raise AnchorError(
                    f"environment variable {self.key_env} ([audit] key_env) is not set: "
                    "export the audit key before starting naebu"
                )
            key = parse_key(value, f"environment variable {self.key_env}")
        return Anchor(key=key, heads_file=self.heads_file)


def parse_audit(raw: dict[str, Any], base: Path, problems: list[Problem], file: str) -> AuditConfig:
    """``[audit]`` as read from the config at ``file`` (folder ``base``); every mistake is
    added to ``problems``."""
    for key in raw:
        if key not in KEYS:
            hint = did_you_mean(key, KEYS) or "keys: " + ", ".join(KEYS)
            problems.append(Problem(file, "unknown key", key=f"audit.{key}", hint=hint))
    values: dict[str, str | None] = {}
    for key in KEYS:
        value = raw.get(key)
        if value is not None and not isinstance(value, str):
            problems.append(Problem(file, f"must be text, not {value!r}", key=f"audit.{key}"))
            value = None
        values[key] = value
    if values["key_file"] and values["key_env"]:
        problems.append(
            Problem(
                file,
                "give either key_file or key_env, not both",
                key="audit",
                hint="the key is read from one place",
            )
        )
    heads = values["heads_file"] if "heads_file" in raw else DEFAULT_HEADS_FILE
    return AuditConfig(
        key_file=_path(values["key_file"], base),
        key_env=values["key_env"] or None,
        heads_file=_path(heads, base),
    )


def _path(value: str | None, base: Path) -> Path | None:
    if not value:
        return None
    p = Path(os.path.expanduser(value))
    return p if p.is_absolute() else (base / p).resolve()
