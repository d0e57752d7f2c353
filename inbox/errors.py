"""The inbox's own 404, 405 and 500 pages, in the inbox's look and the viewer's language.

Starlette's defaults are bare English lines ("Method Not Allowed"); these pages say what
happened in Korean (English with ``?lang=en``) and link back to the inbox. A 500 shows no
traceback: it is logged, with the request's method and path, for the operator.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from naebu.inbox.app import Inbox, secure

log = logging.getLogger("naebu.inbox")


class ErrorPages:
    """Starlette exception handlers rendering ``error.html``, bound to one :class:`Inbox`."""

    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox

    def _page(self, request: Request, status: int, headers: Mapping[str, str] | None) -> Response:
        response = self.inbox.render(
            request,
            "error.html",
            {"message_key": f"error.{status}", "detail_key": f"error.{status}.detail"},
            status=status,
        )
        if headers:
            # Keep Starlette's headers (a 405's Allow) on the page.
            for name, value in headers.items():
                response.headers.setdefault(name, value)
        return response

    async def http_error(self, request: Request, exc: Exception) -> Response:
        """A 404 or 405 raised by the router."""
        assert isinstance(exc, HTTPException)
        status = exc.status_code if exc.status_code in (404, 405) else 404
        return self._page(request, status, exc.headers)

    async def server_error(self, request: Request, exc: Exception) -> Response:
        """Anything unexpected: logged with its traceback, shown as a plain apology."""
        log.error(
            "inbox: %s %s failed", request.method, request.url.path, exc_info=exc
        )  # fmt: skip
        response = self._page(request, 500, None)
        # Starlette answers a crash outside every middleware: the headers are set here.
        secure(response.headers)
        return response
