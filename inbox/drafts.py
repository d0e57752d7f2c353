"""The inbox's rule-drafts page (규칙 변경안): each proposed rule change with its simulation,
and the audit office's approval (naebu/rule_drafts.py), exactly as ``naebu rules approve``.

Auditors and compliance staff see the page; :func:`naebu.rule_drafts.approve` decides who may
approve (a 감사자, never the proposer, a simulated draft) and records the step in the audit
trail with the reason given.
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from naebu import rule_drafts
from naebu.inbox.app import Ctx, Inbox


class DraftPages:
    """``/rules/drafts`` and its approval form, bound to one :class:`Inbox`."""

    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox

    def _begin(self, request: Request, form: FormData | None, rerender: bool) -> Ctx | Response:
        ctx = self.inbox.begin(request)
        if isinstance(ctx, Response):
            return ctx
        if request.method == "POST" and not rerender and not self.inbox.csrf_ok(ctx, form):
            return self.inbox.refuse(ctx, "csrf", 403)
        if not (ctx.viewer.compliance or ctx.viewer.is_auditor):
            return self.inbox.refuse(ctx, "forbidden.page", 403)
        return ctx

    def drafts(self, request: Request, form: FormData | None, error: str | None = None) -> Response:
        """GET /rules/drafts: every draft, newest first, with its simulation per rule."""
        ctx = self._begin(request, form, rerender=error is not None)
        if isinstance(ctx, Response):
            return ctx
        with self.inbox.engine.connect() as conn:
            items = rule_drafts.all_drafts(conn)
        return self.inbox.page(
            ctx,
            "drafts.html",
            {
                "items": items,
                "error": error,
                "names": {o.employee_id: o.display_name for o in ctx.viewer.directory},
                "may_approve": ctx.viewer.is_auditor,
                "percent": _percent,
            },
            status=403 if error else 200,
        )

    def approve(self, request: Request, form: FormData | None) -> Response:
        """POST /rules/drafts/N/approve: through :func:`naebu.rule_drafts.approve`."""
        ctx = self._begin(request, form, rerender=False)
        if isinstance(ctx, Response):
            return ctx
        reason = form.get("reason") if form is not None else None
        try:
            rule_drafts.approve(
                self.inbox.engine,
                self.inbox.config,
                int(request.path_params["draft_id"]),
                actor=ctx.viewer.employee_id,
                reason=reason.strip()[:4000] if isinstance(reason, str) else "",
                now=ctx.now,
                directory=ctx.viewer.directory,
            )
        except rule_drafts.DraftError as exc:
            return self.drafts(request, None, error=exc.en if ctx.lang == "en" else exc.ko)
        return self.inbox.finish(ctx, RedirectResponse("/rules/drafts", status_code=303))


def _percent(p: dict[str, Any] | None) -> str:
    """``50% (2/4, 15%-85%)``, or ``-`` without answers."""
    if not p or p.get("precision") is None:
        return "-"
    low, high = p["interval"]
    return f"{p['precision']:.0%} ({p['confirmed']}/{p['answered']}, {low:.0%}-{high:.0%})"
