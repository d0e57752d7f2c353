"""Links into the web inbox from the messages officials get: ``[web] base_url``.

``base_url`` is the address officials reach ``naebu serve`` at (behind the city's proxy)::

    [web]
    base_url = "https://naebu.city.go.kr"

When set, every digest and follow-up links each alert (``{base_url}/alerts/{id}``, the
inbox's alert page) and the inbox itself (``{base_url}/alerts``); when unset, messages carry
no links. The value is checked when the configuration is read (http or https, a host, no
query or fragment), so a message never carries a broken address.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from naebu.core.problems import Problem

#: The inbox's routes a message links to (inbox/app.py).
ALERT_PATH = "/alerts/{id}"
INBOX_PATH = "/alerts"

_HINT = 'e.g. base_url = "https://naebu.city.go.kr" (http or https, no query)'


def check_base_url(value: Any, problems: list[Problem], file: str) -> str | None:
    """``[web] base_url`` checked and without a trailing ``/``; None when absent or wrong.

    A wrong value adds a :class:`Problem` naming ``file`` and ``web.base_url``.
    """
    if value is None:
        return None
    key = "web.base_url"
    if not isinstance(value, str):
        problems.append(Problem(file, "must be a string", key=key, hint=_HINT))
        return None
    try:
        parts = urlsplit(value.strip())
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError as exc:
        problems.append(Problem(file, f"{value!r} is not an address: {exc}", key=key, hint=_HINT))
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        problems.append(
            Problem(file, f"{value!r} is not an http(s) address with a host", key=key, hint=_HINT)
        )
        return None
    if parts.query or parts.fragment or "?" in value or "#" in value:
        problems.append(Problem(file, f"{value!r} has a query or fragment", key=key, hint=_HINT))
        return None
    return value.strip().rstrip("/")


def alert_link(base_url: str | None, alert_id: Any) -> str | None:
    """The inbox page of alert ``alert_id``, or None without ``base_url``."""
    if not base_url:
        return None
    return base_url + ALERT_PATH.format(id=int(alert_id))


def inbox_link(base_url: str | None) -> str | None:
    """The inbox's alert list, or None without ``base_url``."""
    if not base_url:
        return None
    return base_url + INBOX_PATH
