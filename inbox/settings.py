"""The web inbox's settings: the ``[web]`` table of ``web.toml`` beside the config file.

``config.toml`` rejects sections it does not know, so the inbox reads its own small file
(same TOML, same ``[web]`` table) instead: ``naebu serve --web-config PATH``, by default
``web.toml`` in the config's folder when it exists. Every key is optional::

    [web]
    compliance = ["E030"]                 # compliance staff (준법감시 담당): see everything,
                                          # manage suppressions
    trusted_user_header = "X-Remote-User" # SSO through a reverse proxy (off when absent)
    trusted_proxies = ["127.0.0.1"]       # addresses the header is accepted from
    secure_cookies = false                # true behind HTTPS
    session_hours = 8
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from naebu.problems import Problem, ProblemsError

_KEYS = {
    "compliance": list,
    "trusted_user_header": str,
    "trusted_proxies": list,
    "secure_cookies": bool,
    "session_hours": int,
    "max_failures_per_account": int,
    "max_failures_per_address": int,
    "lockout_minutes": int,
    "page_size": int,
}


@dataclass
class WebSettings:
    """What ``[web]`` says (defaults when the file or a key is absent)."""

    compliance: tuple[str, ...] = ()
    trusted_user_header: str | None = None
    trusted_proxies: tuple[str, ...] = ("127.0.0.1", "::1")
    secure_cookies: bool = False
    session_hours: int = 8
    #: Failed logins allowed per account, and per client address, within ``lockout_minutes``.
    max_failures_per_account: int = 5
    max_failures_per_address: int = 20
    lockout_minutes: int = 15
    page_size: int = 50
    source: Path | None = field(default=None, compare=False)


def load_web_settings(path: Path | None) -> WebSettings:
    """Read ``path`` (None or a missing default file: the defaults).

    Raises :class:`ProblemsError` naming the file and key of an unknown key or a wrong type.
    """
    if path is None or not path.exists():
        return WebSettings()
    shown = str(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ProblemsError([Problem(shown, f"not valid TOML: {exc}")]) from None
    web: Any = raw.get("web", {})
    problems: list[Problem] = []
    for key in raw:
        if key != "web":
            problems.append(Problem(shown, f"unknown section [{key}]", hint="only [web]"))
    if not isinstance(web, dict):
        web = {}
    values: dict[str, Any] = {}
    for key, value in web.items():
        kind = _KEYS.get(key)
        if kind is None:
            problems.append(
                Problem(shown, "unknown key", key=f"web.{key}", hint=", ".join(sorted(_KEYS)))
            )
        elif not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            problems.append(Problem(shown, f"must be a {kind.__name__}", key=f"web.{key}"))
        else:
            values[key] = tuple(str(v) for v in value) if isinstance(value, list) else value
    if problems:
        raise ProblemsError(problems)
    return WebSettings(**values, source=path)
