"""The web inbox application (Starlette + Jinja2, server-rendered, no JavaScript).

:func:`create_app` builds it from a loaded :class:`~naebu.settings.config.Config` and the ``[web]``
settings. This module holds the machinery every page shares - the store, the signed-in
viewer, CSRF checks, the language, security headers, rendering - and the sign-in routes;
the pages themselves are in :mod:`naebu.inbox.pages`.

Database work runs in Starlette's thread pool (the store is synchronous SQLAlchemy).
"""

from __future__ import annotations

import ipaddress
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from jinja2.runtime import Context
from sqlalchemy import Connection, Engine
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, MutableHeaders
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from naebu.alerts.deadline_text import deadline_text
from naebu.alerts.directory import Directory
from naebu.alerts.lifecycle import OPEN
from naebu.alerts.officials import directory_from_store
from naebu.engine import coverage
from naebu.engine.loader import load_rules
from naebu.engine.rule import RuleMeta
from naebu.inbox import auth, keep
from naebu.inbox.access import Viewer, compliance_staff
from naebu.inbox.i18n import LANGUAGES, translator
from naebu.settings.config import Config
from naebu.settings.web import WebSettings

HERE = Path(__file__).parent
SESSION_COOKIE = "naebu_session"
LOGIN_CSRF_COOKIE = "naebu_login_csrf"
LANG_COOKIE = "naebu_lang"
#: No scripts at all, styles and images from this server only, never framed.
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)


def secure(headers: MutableHeaders) -> None:
    """Set the security headers (CSP, no sniffing, no framing, no caching by default)."""
    headers["Content-Security-Policy"] = CSP
    headers["X-Content-Type-Options"] = "nosniff"
    headers["X-Frame-Options"] = "DENY"
    headers["Referrer-Policy"] = "same-origin"
    headers.setdefault("Cache-Control", "no-store")


class SecurityHeaders:
    """ASGI middleware adding the security headers to every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                secure(MutableHeaders(scope=message))
            await send(message)

        await self.app(scope, receive, send_with_headers)


@dataclass
class Ctx:
    """One request's signed-in viewer, its store connection's directory and language."""

    request: Request
    viewer: Viewer
    csrf: str
    lang: str
    now: datetime
    new_cookie: str | None = None  # a session opened from the SSO header


class Inbox:
    """The application state: config, store, settings, rules, templates."""

    def __init__(
        self,
        config: Config,
        engine: Engine,
        settings: WebSettings,
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.config = config
        self.engine = engine
        self.settings = settings
        #: ``[workflow] approval``: answers wait for the department manager (조치 -> 승인 -> 확인).
        self.approval = config.workflow.approval
        self.clock = clock or (lambda: datetime.now().replace(microsecond=0))
        #: Forms posted after the session ended, kept for the official's next sign-in.
        self.kept = keep.DraftStore()
        ruleset = load_rules(config.rule_paths, root=config.base_dir, government=config.city)
        # Rules that compiled are shown even when another rule file has a problem (the daemon
        # refuses such a rule set; the catalog still describes the rules it can read).
        self.rules: dict[str, RuleMeta] = {r.meta.id: r.meta for r in ruleset.rules}
        #: Each rule's coverage under the config (engine/coverage.py), and what runs instead
        #: of a partial rule that has a fallback.
        self.coverage = coverage.plan(ruleset.rules, coverage.provided(config.sources))
        #: The compiled rules, for the data-level coverage the catalog shows
        #: (naebu/data_coverage.py).
        self.compiled = [r for r in ruleset.rules if r.meta.enabled]
        self.fallbacks = {r.meta.id: r.fallback.meta for r in ruleset.rules if r.fallback}
        self.env = Environment(
            loader=FileSystemLoader(HERE / "templates"),
            autoescape=select_autoescape(default=True, default_for_string=True),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters["fmt_time"] = lambda v: v.strftime("%Y-%m-%d %H:%M") if v else "-"
        self.env.filters["fmt_date"] = lambda v: v.strftime("%Y-%m-%d") if v else "-"
        self.env.filters["pct"] = lambda v: "-" if v is None else f"{v * 100:.1f}%"
        # A bound method cannot carry Jinja's pass_context mark; a lambda can.
        self.env.filters["fmt_deadline"] = pass_context(
            lambda ctx, value, status=None: self._deadline(ctx, value, status)
        )

    def _deadline(self, context: Context, value: datetime | None, status: str | None = None) -> str:
        """``deadline|fmt_deadline(status)``: the deadline with its weekday and, for an open
        alert, the days left or overdue as of the page's clock (:mod:`naebu.alerts.deadline_text`);
        a closed alert's deadline is only a date, as nothing is left to count."""
        now = context.get("now") or self.clock()
        today = now.date() if status is None or status in OPEN else None
        return deadline_text(value, today, context.get("lang") or "ko")

    # -- helpers -------------------------------------------------------------------------------

    def lang(self, request: Request) -> str:
        """``?lang=`` first, then the cookie, then Korean."""
        lang = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE) or "ko"
        return lang if lang in LANGUAGES else "ko"

    def directory(self, conn: Connection) -> Directory:
        """The officials directory as last stored by a run, with the department tree of the
        record history (which organisation's alerts an auditor sees)."""
        return directory_from_store(conn, self.config.routing)

    def render(
        self, request: Request, name: str, context: dict[str, Any], *, status: int = 200
    ) -> HTMLResponse:
        """Render template ``name`` with the common context (language, user, CSRF token)."""
        lang = context.get("lang") or self.lang(request)
        ctx = {"t": translator(lang), "lang": lang, "request": request, "path": request.url.path}
        ctx["lang_url"] = (
            request.url.path
            + "?"
            + urlencode({**request.query_params, "lang": "ko" if lang == "en" else "en"})
        )
        ctx.update(context)
        response = HTMLResponse(self.env.get_template(name).render(**ctx), status_code=status)
        if request.query_params.get("lang") in LANGUAGES:
            response.set_cookie(
                LANG_COOKIE, lang, max_age=365 * 86400, httponly=True, samesite="lax",
                secure=self.settings.secure_cookies,
            )  # fmt: skip
        return response

    def set_session_cookie(self, response: Response, token: str) -> None:
        """The session cookie: HttpOnly, SameSite=Lax, Secure when configured."""
        # The cookie lives as long as a session may; the store ends it earlier when idle.
        response.set_cookie(
            SESSION_COOKIE,
            token,
            max_age=self.settings.session_max_hours * 3600,
            httponly=True,
            samesite="lax",
            secure=self.settings.secure_cookies,
            path="/",
        )

    def _header_user(self, request: Request) -> str | None:
        name = self.settings.trusted_user_header
        if not name or request.client is None:
            return None
        if not self.settings.is_trusted_proxy(request.client.host):
            return None  # anyone could send the header: only the proxy's is believed
        value = request.headers.get(name, "").strip()
        return value or None

    def client_address(self, request: Request) -> str:
        """The client's address: the peer's, or - when ``client_address_header`` is set and
        the peer is a trusted proxy - the one the proxies passed on.

        ``X-Forwarded-For`` lists the addresses each proxy saw, the client's first; anyone
        can put anything at its start, so it is read from the right, skipping the trusted
        proxies: the first address that is not one is the client (the last hop a trusted
        proxy vouches for). An entry that is not an IP address ends the walk there.
        """
        peer = request.client.host if request.client else "-"
        name = self.settings.client_address_header
        if not name or not self.settings.is_trusted_proxy(peer):
            return peer
        hops = [h.strip() for v in request.headers.getlist(name) for h in v.split(",")]
        client = peer
        for hop in reversed([h for h in hops if h]):
            try:
                hop = str(ipaddress.ip_address(hop))
            except ValueError:
                break  # garbage (or a port, a "unknown"): believe nothing before it
            client = hop
            if not self.settings.is_trusted_proxy(hop):
                break
        return client

    def begin(self, request: Request, form: FormData | None = None) -> Ctx | Response:
        """The signed-in viewer of ``request``, or the response to send instead (login).

        A POST whose session has ended (``form`` is what it carried) is not lost: see
        :meth:`to_login`.
        """
        now = self.clock()
        token = request.cookies.get(SESSION_COOKIE)
        new_cookie = None
        with self.engine.begin() as conn:
            session = auth.find_session(conn, token, now=now, settings=self.settings)
            header_user = self._header_user(request)
            if header_user and (session is None or session.employee_id != header_user):
                # The proxy vouches for this user: open a session of theirs (for CSRF).
                new_cookie = auth.open_session(conn, header_user, "header", self.settings, now=now)
                session = auth.find_session(conn, new_cookie, now=now)
            directory = self.directory(conn)
            official = directory.get(session.employee_id) if session else None
            if session is None or official is None or not official.active:
                owner = session.employee_id if session else auth.session_owner(conn, token)
                if session is not None:
                    auth.close_session(conn, new_cookie or token)
                return self.to_login(request, form, now=now, expired=token is not None, owner=owner)
        staff = compliance_staff(directory, self.settings.compliance)
        viewer = Viewer(official, directory, official.employee_id in staff)
        return Ctx(request, viewer, session.csrf_token, self.lang(request), now, new_cookie)

    def to_login(
        self,
        request: Request,
        form: FormData | None,
        *,
        now: datetime,
        expired: bool,
        owner: str | None = None,
    ) -> Response:
        """To the login page, then back to where the viewer was.

        A GET returns to its page (with its query). A POST returns to the page it was sent
        from - never to the POST's own URL, which a browser would fetch with GET (the bare
        "Method Not Allowed" of issue 22); what the alert form carried is kept under a
        one-time token (:mod:`naebu.inbox.keep`) and shown again, not acted on - only to
        ``owner``, the official whose session it was, when the store still knows them.
        """
        if request.method == "POST":
            page = keep.page_of(request.url.path)
            fields = keep.typed(form) if page.startswith("/alerts/") else {}
            nxt = page
            if fields:
                nxt += "?" + urlencode({"draft": self.kept.put(page, fields, owner, now=now)})
        else:
            nxt = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        query = {"next": nxt}
        if expired or request.method == "POST":
            query["expired"] = "1"
        return RedirectResponse("/login?" + urlencode(query), status_code=303)

    def finish(self, ctx: Ctx, response: Response) -> Response:
        """Attach a session cookie opened during the request (SSO header)."""
        if ctx.new_cookie:
            self.set_session_cookie(response, ctx.new_cookie)
        return response

    def page(self, ctx: Ctx, name: str, context: dict[str, Any], *, status: int = 200) -> Response:
        """Render a page for a signed-in viewer."""
        context = {
            "viewer": ctx.viewer,
            "csrf": ctx.csrf,
            "lang": ctx.lang,
            "approval": self.approval,
            **context,
        }
        return self.finish(ctx, self.render(ctx.request, name, context, status=status))

    def refuse(self, ctx: Ctx, key: str, status: int) -> Response:
        """An error page (403, 404, 400) with a message from the word table."""
        return self.page(ctx, "error.html", {"message_key": key}, status=status)

    def csrf_ok(self, ctx: Ctx, form: FormData | None) -> bool:
        """True when the form carries this session's CSRF token."""
        value = form.get("csrf") if form is not None else None
        return auth.same(ctx.csrf, value if isinstance(value, str) else None)

    # -- sign in and out -----------------------------------------------------------------------

    def login_form(self, request: Request, form: FormData | None) -> Response:
        """GET /login: the form, with a fresh double-submit CSRF cookie."""
        return self._login_page(request, None)

    def _login_page(
        self, request: Request, error: str | None, status: int = 200, form: FormData | None = None
    ) -> Response:
        token = secrets.token_urlsafe(32)
        # A refused login keeps where the form was to go (and so a kept draft).
        nxt = request.query_params.get("next", "") if form is None else str(form.get("next") or "")
        expired = request.query_params.get("expired") == "1"
        notice = "login.expired.draft" if "draft=" in nxt else None
        notice = notice or ("login.expired" if expired else None)
        context = {"csrf": token, "error": error, "next": nxt, "notice": notice}
        response = self.render(request, "login.html", context, status=status)
        response.set_cookie(
            LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict",
            secure=self.settings.secure_cookies, path="/login",
        )  # fmt: skip
        return response

    def login(self, request: Request, form: FormData | None) -> Response:
        """POST /login: check the CSRF cookie, the rate limits and the password."""
        assert form is not None
        sent = form.get("csrf")
        if not auth.same(
            request.cookies.get(LOGIN_CSRF_COOKIE), sent if isinstance(sent, str) else None
        ):
            return self._login_page(request, "csrf", status=403, form=form)
        user = str(form.get("employee_id") or "")
        password = str(form.get("password") or "")
        address = self.client_address(request)
        now = self.clock()
        with self.engine.begin() as conn:
            result = auth.check_login(conn, user, password, address, self.settings, now=now)
            if result.outcome != "ok" or result.employee_id is None:
                error = "login.locked" if result.outcome == "locked" else "login.bad"
                status = 429 if result.outcome == "locked" else 401
                return self._login_page(request, error, status=status, form=form)
            token = auth.open_session(conn, result.employee_id, "password", self.settings, now=now)
        nxt = str(form.get("next") or "")
        # Only a path of this site: never an absolute or protocol-relative URL.
        target = nxt if _own_path(nxt) else "/alerts"
        response = RedirectResponse(target, status_code=303)
        self.set_session_cookie(response, token)
        response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
        return response

    def logout(self, request: Request, form: FormData | None) -> Response:
        """POST /logout (with the CSRF token): end the session."""
        ctx = self.begin(request)
        if isinstance(ctx, Response):
            return ctx
        if not self.csrf_ok(ctx, form):
            return self.refuse(ctx, "csrf", 403)
        with self.engine.begin() as conn:
            auth.close_session(conn, request.cookies.get(SESSION_COOKIE))
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response


def _own_path(target: str) -> bool:
    """True for a path of this site; never an absolute or protocol-relative URL (browsers
    read a backslash as a slash, so ``/\\evil`` is one too)."""
    return target.startswith("/") and not target.startswith("//") and "\\" not in target


Handler = Callable[[Request, FormData | None], Response]


def endpoint(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """An async Starlette endpoint reading the form, then running ``handler`` in a thread."""

    async def run(request: Request) -> Response:
        form = await request.form(max_files=0, max_fields=50) if request.method == "POST" else None
        return await run_in_threadpool(handler, request, form)

    return run


def create_app(
    config: Config,
    engine: Engine,
    settings: WebSettings | None = None,
    *,
    clock: Callable[[], datetime] | None = None,
) -> Starlette:
    """The inbox as an ASGI application (serve it with uvicorn)."""
    from naebu.inbox import drafts, errors, pages

    inbox = Inbox(config, engine, settings or WebSettings(), clock=clock)
    p = pages.Pages(inbox)
    d = drafts.DraftPages(inbox)
    routes = [
        Route("/", endpoint(p.home)),
        Route("/login", endpoint(inbox.login_form), methods=["GET"]),
        Route("/login", endpoint(inbox.login), methods=["POST"]),
        Route("/logout", endpoint(inbox.logout), methods=["POST"]),
        Route("/alerts", endpoint(p.alert_list)),
        Route("/alerts/{alert_id:int}", endpoint(p.alert)),
        Route("/alerts/{alert_id:int}/act", endpoint(p.act), methods=["POST"]),
        Route("/scorecard", endpoint(p.scorecard)),
        Route("/rules", endpoint(p.rules)),
        Route("/rules/drafts", endpoint(d.drafts)),
        Route("/rules/drafts/{draft_id:int}/approve", endpoint(d.approve), methods=["POST"]),
        Route("/suppressions", endpoint(p.suppressions)),
        Route("/suppressions/add", endpoint(p.suppression_add), methods=["POST"]),
        Route("/suppressions/{sid:int}/remove", endpoint(p.suppression_remove), methods=["POST"]),
        Route("/healthz", endpoint(lambda request, form: Response("ok\n"))),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    e = errors.ErrorPages(inbox)
    app = Starlette(
        routes=routes,
        exception_handlers={404: e.http_error, 405: e.http_error, Exception: e.server_error},
    )
    app.state.inbox = inbox
    app.add_middleware(SecurityHeaders)
    return app
