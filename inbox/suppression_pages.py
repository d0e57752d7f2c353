"""The suppression pages (경보 예외 처리, compliance staff only): the list, the form, its
preview and its confirmation, and removal.

Adding takes two steps. The form posts to ``/suppressions/add``; what was typed is checked by
:func:`naebu.alerts.suppression_check.check` - the checks and messages of ``naebu suppress
add`` - and a refusal shows the form again with the message (naming the field, with a hint)
and everything typed still in it. A form that passes shows the preview: how many open alerts
the suppression would hide and which (:mod:`naebu.alerts.suppression_preview`), nothing saved.
Its confirm button posts the same fields again with the preview's token; saving checks
everything again and refuses, showing the new preview, when the alerts covered changed
meanwhile - so what is hidden is what was shown. Its other button goes back to the form.
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from naebu.alerts import reasons
from naebu.alerts.suppression_check import SuppressionForm, SuppressionRequest, check
from naebu.alerts.suppression_preview import (
    PreviewChanged,
    describe,
    save,
    target_text,
    token,
    would_hide,
)
from naebu.alerts.suppressions import (
    FINDING_FIELDS,
    SuppressionError,
    list_suppressions,
    remove_suppression,
)
from naebu.core import datasets
from naebu.inbox.app import Ctx, Inbox

#: The fields of the add form (named as :class:`SuppressionForm`'s), each cut to this size.
FORM_FIELDS = {
    "rule": 100,
    "record_key": 500,
    "column": 100,
    "value": 500,
    "reason": 4000,
    "reason_code": 40,
    "until": 40,
}
#: Alerts listed on the preview at most; the count above the list is always the whole.
LISTED = 200


def typed(form: FormData | None) -> dict[str, str]:
    """What was typed into the add form, each field stripped and cut to size."""
    out = {}
    for name, limit in FORM_FIELDS.items():
        value = form.get(name) if form is not None else None
        if isinstance(value, str) and value.strip():
            out[name] = value.strip()[:limit]
    return out


class SuppressionPages:
    """The handlers of ``/suppressions``, bound to one :class:`Inbox`."""

    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox

    def _begin(self, request: Request, form: FormData | None) -> Ctx | Response:
        """The signed-in compliance viewer, or the response that refuses."""
        ctx = self.inbox.begin(request, form)
        if isinstance(ctx, Response):
            return ctx
        if not ctx.viewer.compliance:
            return self.inbox.refuse(ctx, "forbidden.page", 403)
        return ctx

    def page(
        self,
        ctx: Ctx,
        *,
        error: SuppressionError | None = None,
        kept: dict[str, str] | None = None,
        status: int = 200,
    ) -> Response:
        """/suppressions: every suppression, and the forms to add and remove them; after a
        refusal the message and the add form as it was typed (``kept``)."""
        with self.inbox.engine.connect() as conn:
            items = list_suppressions(conn, include_inactive=True)
        done = ctx.request.query_params.get("done", "")
        hid = ctx.request.query_params.get("hid", "")
        return self.inbox.page(
            ctx,
            "suppressions.html",
            {
                "items": items,
                "rules": self.inbox.rules,
                "error": _message(error, ctx.lang) if error else None,
                "error_field": getattr(error, "field", ""),
                "typed": kept or {},
                "now": ctx.now,
                "names": {o.employee_id: o.display_name for o in ctx.viewer.directory},
                "reasons": reasons.REASONS,
                "reason_label": reasons.label,
                "columns": _columns(self.inbox),
                "done": done if done.isdigit() else "",
                "hid": hid if hid.isdigit() else "0",
            },
            status=status,
        )

    def suppressions(self, request: Request, form: FormData | None) -> Response:
        """GET /suppressions."""
        ctx = self._begin(request, form)
        if isinstance(ctx, Response):
            return ctx
        return self.page(ctx)

    def add(self, request: Request, form: FormData | None) -> Response:
        """POST /suppressions/add: check, then preview (nothing saved) or, from the preview's
        confirm button, save; back to the form with everything typed on a refusal."""
        ctx = self._begin(request, form)
        if isinstance(ctx, Response):
            return ctx
        kept = typed(form)
        if not self.inbox.csrf_ok(ctx, form):
            csrf = SuppressionError(_word(ctx, "csrf"), _word(ctx, "csrf"))
            return self.page(ctx, error=csrf, kept=kept, status=403)
        if form is not None and form.get("edit"):  # the preview's "back to the form"
            return self.page(ctx, kept=kept)
        viewer = ctx.viewer
        try:
            req = check(
                SuppressionForm(**kept),
                rules=self.inbox.rules,
                author=viewer.employee_id,
                now=ctx.now,
                directory=viewer.directory,
            )
        except SuppressionError as exc:
            return self.page(ctx, error=exc, kept=kept, status=400)
        confirm = form.get("confirm") if form is not None else None
        if isinstance(confirm, str) and confirm:
            try:
                with self.inbox.engine.begin() as conn:
                    saved = save(conn, req, now=ctx.now, directory=viewer.directory, expect=confirm)
            except PreviewChanged as exc:  # rolled back: the preview again, as it now is
                return self.preview(ctx, req, kept, exc.rows, changed=exc, status=409)
            except SuppressionError as exc:
                return self.page(ctx, error=exc, kept=kept, status=400)
            target = f"/suppressions?done={saved.suppression_id}&hid={len(saved.hidden)}"
            return self.inbox.finish(ctx, RedirectResponse(target, status_code=303))
        with self.inbox.engine.connect() as conn:
            rows = would_hide(conn, req)
        return self.preview(ctx, req, kept, rows)

    def preview(
        self,
        ctx: Ctx,
        req: SuppressionRequest,
        kept: dict[str, str],
        rows: list[dict[str, Any]],
        *,
        changed: SuppressionError | None = None,
        status: int = 200,
    ) -> Response:
        """The preview page: what the suppression hides, the confirm and back buttons."""
        visible = [r for r in rows if ctx.viewer.may_see(r)]
        hidden = describe(
            visible[:LISTED],
            language=ctx.lang,
            directory=ctx.viewer.directory,
            rules=self.inbox.rules,
            mask=False,  # as the alert page shows it to whoever may see the alert
        )
        meta = self.inbox.rules.get(req.rule_id)
        title = (meta.title_en or meta.title) if meta and ctx.lang == "en" else ""
        return self.inbox.page(
            ctx,
            "suppression_preview.html",
            {
                "req": req,
                "rule_title": title or (meta.title if meta else req.rule_id),
                "target": target_text(req, meta.dataset if meta else None, ctx.lang),
                "code_label": reasons.label(req.reason_code, ctx.lang),
                "typed": kept,
                "count": len(rows),
                "hidden": hidden,
                "more": len(visible) - len(hidden),
                "elsewhere": len(rows) - len(visible),
                "token": token(rows),
                "changed": _message(changed, ctx.lang) if changed else None,
            },
            status=status,
        )

    def remove(self, request: Request, form: FormData | None, sid: int) -> Response:
        """POST /suppressions/N/remove: through :func:`naebu.alerts.suppressions.remove_suppression`."""
        ctx = self._begin(request, form)
        if isinstance(ctx, Response):
            return ctx
        if not self.inbox.csrf_ok(ctx, form):
            return self.inbox.refuse(ctx, "csrf", 403)
        reason = form.get("reason") if form is not None else None
        try:
            with self.inbox.engine.begin() as conn:
                remove_suppression(
                    conn,
                    sid,
                    actor=ctx.viewer.employee_id,
                    reason=reason.strip()[:4000] if isinstance(reason, str) else "",
                    now=ctx.now,
                    directory=ctx.viewer.directory,
                )
        except SuppressionError as exc:
            return self.page(ctx, error=exc, status=400)
        return self.inbox.finish(ctx, RedirectResponse("/suppressions", status_code=303))


def _message(error: SuppressionError, lang: str) -> str:
    return error.en if lang == "en" else error.ko


def _word(ctx: Ctx, key: str) -> str:
    from naebu.inbox.i18n import translator

    return translator(ctx.lang)(key)


def _columns(inbox: Inbox) -> list[str]:
    """The columns a suppression of one of the rules may name (the form's suggestions)."""
    names = dict.fromkeys(FINDING_FIELDS)
    for meta in inbox.rules.values():
        if meta.dataset in datasets.DATASETS:
            names.update(dict.fromkeys(datasets.get(meta.dataset).column_names))
    return sorted(names)
