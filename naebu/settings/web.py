"""The web inbox's settings: the ``[web]`` table of ``config.toml``.

Every key is optional::

    [web]
    compliance = ["E030"]                 # compliance staff (준법감시 담당): see everything,
                                          # manage suppressions
    trusted_proxies = ["127.0.0.1"]       # the reverse proxy's addresses (or networks)
    trusted_user_header = "X-Remote-User" # SSO through the proxy (off when absent)
    client_address_header = "X-Forwarded-For"  # the client's address, as the proxy passes it
                                          # (off when absent: the peer's address is used)
    secure_cookies = false                # true behind HTTPS
    session_hours = 8                     # a session ends after this long without a request
    session_max_hours = 12                # ... and this long after signing in, whatever
    max_failures_per_account = 5
    max_failures_per_address = 20
    lockout_minutes = 15
    page_size = 50
    base_url = "https://naebu.city.go.kr"  # where officials reach the inbox: messages
                                          # link each alert and the inbox (naebu.core.links)

Before ``config.toml`` accepted ``[web]``, the table lived in a ``web.toml`` beside it; that
file is still read when ``config.toml`` has no ``[web]`` (both at once is an error, so no
setting is silently ignored). ``naebu serve --web-config PATH`` reads the table from PATH.
"""

from __future__ import annotations

import ipaddress
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from naebu.core.links import check_base_url
from naebu.core.problems import Problem, ProblemsError, did_you_mean
from naebu.core.tomllines import locate

if TYPE_CHECKING:
    from naebu.settings.config import Config

#: The file ``[web]`` lived in before ``config.toml`` accepted it (still read, beside it).
LEGACY_FILE = "web.toml"

_KEYS = {
    "compliance": list,
    "trusted_user_header": str,
    "trusted_proxies": list,
    "client_address_header": str,
    "secure_cookies": bool,
    "session_hours": int,
    "session_max_hours": int,
    "max_failures_per_account": int,
    "max_failures_per_address": int,
    "lockout_minutes": int,
    "page_size": int,
    "base_url": str,
}
_POSITIVE = (
    "session_hours",
    "session_max_hours",
    "max_failures_per_account",
    "max_failures_per_address",
    "lockout_minutes",
    "page_size",
)


@dataclass
class WebSettings:
    """What ``[web]`` says (defaults when the table or a key is absent)."""

    compliance: tuple[str, ...] = ()
    trusted_user_header: str | None = None
    #: Addresses or networks (``10.0.0.0/24``) of the reverse proxy: only requests from them
    #: may carry the SSO header or the client's address.
    trusted_proxies: tuple[str, ...] = ("127.0.0.1", "::1")
    #: The header the proxy puts the client's address in (``X-Forwarded-For``); None: the
    #: peer's address is the client's (and behind a proxy every client has the proxy's).
    client_address_header: str | None = None
    secure_cookies: bool = False
    #: Idle limit: each request moves the session's end to this long after it ...
    session_hours: int = 8
    #: ... but never past this long after signing in.
    session_max_hours: int = 12
    #: Failed logins allowed per account, and per client address, within ``lockout_minutes``.
    max_failures_per_account: int = 5
    max_failures_per_address: int = 20
    lockout_minutes: int = 15
    page_size: int = 50
    #: Where officials reach the inbox (checked by :func:`naebu.core.links.check_base_url`).
    base_url: str | None = None
    source: Path | None = field(default=None, compare=False)

    def is_trusted_proxy(self, address: str | None) -> bool:
        """True when ``address`` is one of :attr:`trusted_proxies` (or inside one's network)."""
        if not address:
            return False
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in ipaddress.ip_network(p, strict=False) for p in self.trusted_proxies)


def web_settings_from(table: Any, shown: str) -> WebSettings:
    """Check a ``[web]`` table read from ``shown`` (a file name, for the messages).

    Raises :class:`ProblemsError` naming the file and key of an unknown key, a wrong type, a
    number under 1 or a proxy that is not an address or network.
    """
    problems: list[Problem] = []
    if not isinstance(table, dict):
        raise ProblemsError([Problem(shown, "must be a table", key="web")])
    values: dict[str, Any] = {}
    for key, value in table.items():
        kind = _KEYS.get(key)
        if kind is None:
            hint = did_you_mean(key, _KEYS) or "keys: " + ", ".join(sorted(_KEYS))
            problems.append(Problem(shown, "unknown key", key=f"web.{key}", hint=hint))
        elif key == "base_url":
            values[key] = value  # checked below, with the hint of a good address
        elif not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            problems.append(Problem(shown, f"must be a {kind.__name__}", key=f"web.{key}"))
        elif key in _POSITIVE and isinstance(value, int) and value < 1:
            problems.append(Problem(shown, "must be 1 or more", key=f"web.{key}"))
        else:
            values[key] = tuple(str(v) for v in value) if isinstance(value, list) else value
    for proxy in values.get("trusted_proxies", ()):
        try:
            ipaddress.ip_network(proxy, strict=False)
        except ValueError:
            problems.append(
                Problem(
                    shown,
                    f"{proxy!r} is not an IP address or network",
                    key="web.trusted_proxies",
                    hint='e.g. "127.0.0.1", "10.0.0.0/24", "::1"',
                )
            )
    if "base_url" in values:
        values["base_url"] = check_base_url(values["base_url"], problems, shown)
    if problems:
        raise ProblemsError(problems)
    settings = WebSettings(**values)
    if settings.session_max_hours < settings.session_hours:
        settings.session_max_hours = settings.session_hours  # the idle limit is the smaller
    return settings


def _read(path: Path) -> tuple[dict[str, Any], str]:
    try:
        text = path.read_text(encoding="utf-8")
        return tomllib.loads(text), text
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ProblemsError([Problem(str(path), f"not valid TOML: {exc}")]) from None
    except OSError as exc:
        raise ProblemsError([Problem(str(path), f"cannot be read: {exc.strerror}")]) from None


def _located(table: Any, shown: str, text: str) -> WebSettings:
    """:func:`web_settings_from`, its problems located at their line of ``text``."""
    try:
        return web_settings_from(table, shown)
    except ProblemsError as exc:
        raise ProblemsError(locate(exc.problems, shown, text)) from None


def load_web_settings(path: Path | None) -> WebSettings:
    """Read the ``[web]`` table of a file holding only it (``--web-config``, ``web.toml``).

    None or a missing file: the defaults. Raises :class:`ProblemsError` for a problem.
    """
    if path is None or not path.exists():
        return WebSettings()
    raw, text = _read(path)
    problems = [
        Problem(str(path), f"unknown section [{key}]", hint="only [web]")
        for key in raw
        if key != "web"
    ]
    if problems:
        raise ProblemsError(locate(problems, str(path), text))
    settings = _located(raw.get("web", {}), str(path), text)
    settings.source = path
    return settings


def settings_for_config(config: Config, explicit: Path | None = None) -> WebSettings:
    """The inbox's settings for ``config``.

    ``explicit`` (``--web-config``) wins; else the config's ``[web]`` (read and checked with
    the rest of the file); else the legacy ``web.toml`` beside it; else the defaults. A
    ``[web]`` in the config and a ``web.toml`` beside it is an error: one of them would be
    ignored.
    """
    if explicit is not None:
        if not explicit.exists():
            raise ProblemsError([Problem(str(explicit), "web settings file not found")])
        return load_web_settings(explicit)
    legacy = config.path.parent / LEGACY_FILE
    if config.web.source is None:
        return load_web_settings(legacy)
    if legacy.exists():
        raise ProblemsError(
            [
                Problem(
                    str(legacy),
                    f"[web] is set in both {config.path.name} and {LEGACY_FILE}",
                    hint=f"move the settings into {config.path.name} and delete {LEGACY_FILE}",
                )
            ]
        )
    return config.web


def web_problems(config: Config) -> list[Problem]:
    """What ``naebu serve`` would refuse beyond the config's own ``[web]`` (which
    :func:`~naebu.settings.config.load_config` checks): a legacy ``web.toml`` beside the
    config, or one beside a config that has ``[web]`` too. For ``naebu check``."""
    try:
        settings_for_config(config)
    except ProblemsError as exc:
        return exc.problems
    return []
