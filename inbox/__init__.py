"""The web inbox (경보함): officials answer alerts in a browser, the audit office reviews them.

``naebu serve`` runs it: :func:`naebu.inbox.app.create_app` (Starlette + Jinja2, server-rendered,
no JavaScript). Accounts, sessions and rate limits: :mod:`naebu.inbox.auth`; who sees what:
:mod:`naebu.inbox.access`; the pages: :mod:`naebu.inbox.pages`; their queries: :mod:`naebu.inbox.queries`.
See docs/web.md.
"""

from __future__ import annotations
