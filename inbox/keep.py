"""Nothing typed is lost (issue 22, item 7): drafts kept across an expired session.

When a session ends while an official is writing (a 소명 takes time), the POST of the alert
form arrives without a live session. Instead of dropping it, the inbox keeps the fields the
official typed under a one-time token, sends them to the login page with a message, and
after login shows the alert with the draft back in the form. The draft is never acted on:
the official presses the button again.

Drafts live in the server process's memory (the inbox runs as one process, ``naebu serve``),
for :data:`KEEP_FOR`; a restart loses them, as it would lose an unsent browser form.
"""

from __future__ import annotations

import re
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from starlette.datastructures import FormData

#: The fields of the alert page's form worth keeping (never ``action``: nothing is acted on).
FIELDS = ("comment", "reason", "recovered", "to")
#: How long a kept draft waits for its official to sign in again.
KEEP_FOR = timedelta(hours=12)
#: At most this many drafts are kept; the oldest goes first (a flood cannot fill memory).
MAX_DRAFTS = 1000
_ACT = re.compile(r"^/alerts/(\d+)/act$")


def typed(form: FormData | None) -> dict[str, str]:
    """What the user typed into the alert form, to show it again (each field cut to size)."""
    if form is None:
        return {}
    kept = {}
    for name in FIELDS:
        value = form.get(name)
        if isinstance(value, str) and value:
            kept[name] = value[:4000]
    return kept


def page_of(path: str) -> str:
    """The page a POST to ``path`` came from: where to return after signing in."""
    m = _ACT.match(path)
    if m:
        return f"/alerts/{m.group(1)}"
    for page in ("/suppressions", "/rules/drafts"):
        if path.startswith(page + "/"):
            return page
    return "/alerts"


@dataclass
class DraftStore:
    """One-time drafts by token, kept in memory for :data:`KEEP_FOR` (thread-safe)."""

    keep_for: timedelta = KEEP_FOR
    limit: int = MAX_DRAFTS
    _items: OrderedDict[str, tuple[datetime, str, str | None, dict[str, str]]] = field(
        default_factory=OrderedDict
    )
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def put(self, page: str, fields: dict[str, str], owner: str | None, *, now: datetime) -> str:
        """Keep ``fields`` typed on ``page`` by ``owner`` (None: unknown, as the expired
        session's row was already cleared); returns the one-time token."""
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._expire(now)
            self._items[token] = (now + self.keep_for, page, owner, fields)
            while len(self._items) > self.limit:
                self._items.popitem(last=False)
        return token

    def take(self, token: str | None, page: str, viewer: str, *, now: datetime) -> dict[str, str]:
        """The draft of ``token`` typed on ``page``, removed from the store; ``{}`` when
        unknown, expired, of another page or of another official (then it stays)."""
        if not token:
            return {}
        with self._lock:
            self._expire(now)
            item = self._items.get(token)
            if item is None or item[1] != page or item[2] not in (None, viewer):
                return {}
            del self._items[token]
        return item[3]

    def _expire(self, now: datetime) -> None:
        for token in [t for t, item in self._items.items() if item[0] <= now]:
            del self._items[token]
