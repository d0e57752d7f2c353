"""The inbox's pages: my alerts, one alert and its actions, the scorecard, the rule catalog,
and suppressions (compliance staff only).

Every page starts with :meth:`Inbox.begin` (the signed-in viewer, or a redirect to the login
page); every POST checks the session's CSRF token before anything else. Lifecycle steps go
through :func:`naebu.alerts.lifecycle.act` and suppressions through
:mod:`naebu.inbox.suppression_pages` (checked, previewed and saved by the modules ``naebu
suppress`` uses), exactly as the command line does, so the audit trail records them the same
way.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from naebu import data_coverage
from naebu.alerts import reasons
from naebu.alerts.deadline_text import is_overdue
from naebu.alerts.evidence_text import case_members, dataset_title, evidence_lines
from naebu.alerts.lifecycle import ACTIONS, OPEN, LifecycleError, act
from naebu.alerts.quality import Period, rule_quality
from naebu.alerts.trail import entries
from naebu.core import datasets, formatting
from naebu.engine import absence, coverage
from naebu.engine.rule import RuleMeta
from naebu.inbox import keep, queries
from naebu.inbox.app import Ctx, Inbox
from naebu.inbox.charts import bar_chart
from naebu.inbox.scorecard_view import PRIOR, scorecard_charts, scorecard_xlsx
from naebu.inbox.standing import standing
from naebu.inbox.suppression_pages import SuppressionPages


def _text(form: FormData | None, key: str, limit: int = 4000) -> str:
    value = form.get(key) if form is not None else None
    return value.strip()[:limit] if isinstance(value, str) else ""


class Pages:
    """The page handlers, bound to one :class:`Inbox`."""

    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox
        self._suppressions = SuppressionPages(inbox)

    def _begin(
        self, request: Request, form: FormData | None, *, rerender: bool = False
    ) -> Ctx | Response:
        # ``rerender``: a POST handler showing its page again with an error, after it has
        # checked the CSRF token itself.
        ctx = self.inbox.begin(request, form)
        if isinstance(ctx, Response):
            return ctx
        if request.method == "POST" and not rerender and not self.inbox.csrf_ok(ctx, form):
            return self.inbox.refuse(ctx, "csrf", 403)
        return ctx

    def home(self, request: Request, form: FormData | None) -> Response:
        """/ : to my alerts."""
        return RedirectResponse("/alerts", status_code=303)

    # -- my alerts -----------------------------------------------------------------------------

    def alert_list(self, request: Request, form: FormData | None) -> Response:
        """/alerts: the alerts the viewer may see, filtered, newest first, paged."""
        ctx = self._begin(request, form)
        if isinstance(ctx, Response):
            return ctx
        f = queries.Filters.parse(request.query_params)
        with self.inbox.engine.connect() as conn:
            page = queries.alert_page(
                conn,
                ctx.viewer,
                f,
                now=ctx.now,
                size=self.inbox.settings.page_size,
                approval=self.inbox.approval,
            )
            departments = (
                ctx.viewer.visible(queries.departments(conn)) if ctx.viewer.sees_all else []
            )
        return self.inbox.page(
            ctx,
            "alerts.html",
            {
                "page": page,
                "f": f,
                "rules": self.inbox.rules,
                "statuses": queries.STATUSES,
                "queues": [q for q in queries.QUEUES if q != "to_approve" or self.inbox.approval],
                "severities": queries.SEVERITIES,
                "departments": departments,
                "page_url": lambda n: "/alerts?" + urlencode(f.query_string(page=n)),
                "now": ctx.now,
                "names": {o.employee_id: o.display_name for o in ctx.viewer.directory},
            },
        )

    # -- one alert -----------------------------------------------------------------------------

    def alert(
        self,
        request: Request,
        form: FormData | None,
        error: str | None = None,
        *,
        typed: dict[str, str] | None = None,
        status: int = 400,
    ) -> Response:
        """/alerts/N: evidence, the rule, the timeline and the viewer's actions; after a
        refused step the form holds what was ``typed``, and ``?draft=`` brings back what was
        typed when the session had ended (:mod:`naebu.inbox.keep`)."""
        ctx = self._begin(request, form, rerender=error is not None)
        if isinstance(ctx, Response):
            return ctx
        alert_id = int(request.path_params["alert_id"])
        restored = typed is None and "draft" in request.query_params
        if typed is None:
            typed = self.inbox.kept.take(
                request.query_params.get("draft"),
                request.url.path,
                ctx.viewer.employee_id,
                now=ctx.now,
            )
        with self.inbox.engine.connect() as conn:
            alert = queries.get_alert(conn, alert_id)
            if alert is None:
                return self.inbox.refuse(ctx, "notfound", 404)
            if not ctx.viewer.may_see(alert):
                return self.inbox.refuse(ctx, "forbidden", 403)
            trail = entries(conn, alert_id)
            answered = queries.answered_by(conn, alert_id)
        actions = ctx.viewer.actions_for(alert, answered, self.inbox.approval)
        evidence = alert["evidence"] if isinstance(alert["evidence"], dict) else {}
        names = {o.employee_id: o.display_name for o in ctx.viewer.directory}
        return self.inbox.page(
            ctx,
            "alert.html",
            {
                "a": alert,
                "evidence": evidence_lines(
                    evidence, alert["dataset"], ctx.lang, ctx.viewer.directory, mask=False
                ),
                "members": case_members(
                    evidence, alert["dataset"], ctx.lang, ctx.viewer.directory, mask=False
                ),
                "record_dataset": dataset_title(alert["dataset"], ctx.lang),
                "rule": self.inbox.rules.get(alert["rule_id"]),
                "trail": trail,
                "standing": standing(trail, alert["status"]),
                "actions": actions,
                "specs": ACTIONS,
                "targets": ctx.viewer.reassign_targets(alert["department"])
                if "reassign" in actions
                else [],
                "names": names,
                "error": error,
                "done": request.query_params.get("done", ""),
                "now": ctx.now,
                "overdue": alert["status"] in OPEN and is_overdue(alert["deadline"], ctx.now),
                "reasons": reasons.REASONS,
                "typed": typed,
                "restored": restored and bool(typed),
            },
            status=status if error else 200,
        )

    def act(self, request: Request, form: FormData | None) -> Response:
        """POST /alerts/N/act: one lifecycle step through :func:`naebu.alerts.lifecycle.act`."""
        ctx = self._begin(request, form, rerender=True)
        if isinstance(ctx, Response):
            return ctx
        typed = keep.typed(form)  # shown again when the step is refused
        if not self.inbox.csrf_ok(ctx, form):
            return self.alert(request, None, error=_t(ctx)("csrf"), typed=typed, status=403)
        alert_id = int(request.path_params["alert_id"])
        action = _text(form, "action", 40)
        try:
            with self.inbox.engine.begin() as conn:
                alert = queries.get_alert(conn, alert_id)
                if alert is None:
                    return self.inbox.refuse(ctx, "notfound", 404)
                if not ctx.viewer.may_see(alert):
                    return self.inbox.refuse(ctx, "forbidden", 403)
                act(
                    conn,
                    alert_id,
                    action,
                    ctx.viewer.employee_id,
                    _text(form, "comment") or None,
                    now=ctx.now,
                    to=_text(form, "to", 100) or None,
                    directory=ctx.viewer.directory,
                    # The form sends both fields; each belongs to one step.
                    reason=_text(form, "reason", 40) or None
                    if action in ("false_positive", "false-positive")
                    else None,
                    recovered=_recovered(form) if action == "correct" else None,
                    approval=self.inbox.approval,
                )
        except LifecycleError as exc:  # rolled back; shown on the alert page
            return self.alert(
                request, None, error=exc.en if ctx.lang == "en" else exc.ko, typed=typed
            )
        except ValueError:  # the recovered amount is not a number
            return self.alert(request, None, error=_t(ctx)("recovered.bad"), typed=typed)
        target = f"/alerts/{alert_id}?" + urlencode({"done": action})
        return self.inbox.finish(ctx, RedirectResponse(target, status_code=303))

    # -- scorecard and rules -------------------------------------------------------------------

    def scorecard(self, request: Request, form: FormData | None) -> Response:
        """/scorecard: departments ranked fairly over the last 12 months, the city's totals,
        a department's officials for its manager and the audit office, and the monthly trend
        (months without alerts drawn as gaps); ``?format=xlsx`` downloads the same figures."""
        ctx = self._begin(request, form)
        if isinstance(ctx, Response):
            return ctx
        department = request.query_params.get("department", "")[:200]
        if department and not ctx.viewer.may_see_department(department):
            return self.inbox.refuse(ctx, "forbidden.page", 403)
        approval = self.inbox.approval
        with self.inbox.engine.connect() as conn:
            card = queries.scorecard(
                conn, ctx.viewer, now=ctx.now, department=department, approval=approval
            )
            departments = (
                ctx.viewer.visible(queries.departments(conn)) if ctx.viewer.sees_all else []
            )
        if request.query_params.get("format") == "xlsx":
            return self.inbox.finish(ctx, scorecard_xlsx(card, approval, ctx.lang))
        t = _t(ctx)
        charts = scorecard_charts(card, approval, t)
        return self.inbox.page(
            ctx,
            "scorecard.html",
            {
                "card": card,
                "chart": charts[0],
                "rate_chart": charts[1],
                "department": department,
                "departments": departments,
                "approval": approval,
                "prior": PRIOR,
                "xlsx_query": urlencode(
                    {"format": "xlsx", **({"department": department} if department else {})}
                ),
            },
        )

    def rules(self, request: Request, form: FormData | None) -> Response:
        """/rules: every rule, its parameters, 12 months of findings and its precision."""
        ctx = self._begin(request, form)
        if isinstance(ctx, Response):
            return ctx
        period = Period.last_months(ctx.now)
        with self.inbox.engine.connect() as conn:
            months, stats = queries.rule_stats(conn, now=ctx.now)
            quality = rule_quality(conn, period)
        states = data_coverage.store_states(
            self.inbox.engine, self.inbox.compiled, self.inbox.coverage
        )
        t = _t(ctx)
        rows: list[dict[str, Any]] = []
        for rule_id in sorted(set(self.inbox.rules) | set(stats)):
            s = stats.get(rule_id) or queries.RuleStats([0] * len(months))
            rows.append(
                {
                    "id": rule_id,
                    "meta": self.inbox.rules.get(rule_id),
                    **_coverage_row(self.inbox, rule_id, states.get(rule_id), ctx.lang),
                    "lookalikes": _lookalike_rows(self.inbox.rules.get(rule_id), ctx.lang),
                    "stats": s,
                    "chart": bar_chart(
                        months, s.by_month, width=420, height=120, title=t("findings_12m")
                    ),
                    "quality": [
                        q
                        for q in quality.by_month(rule_id)
                        if q.alerts or q.excluded or q.exclusions or q.withdrawn
                    ],
                    "quality_total": quality.total(rule_id),
                }
            )
        return self.inbox.page(
            ctx,
            "rules.html",
            {"rows": rows, "reason_label": reasons.label, "won": _won(ctx.lang)},
        )

    # -- suppressions (compliance staff): naebu.inbox.suppression_pages ------------------------

    def suppressions(self, request: Request, form: FormData | None) -> Response:
        """/suppressions: every suppression, and the forms to add and remove them."""
        return self._suppressions.suppressions(request, form)

    def suppression_add(self, request: Request, form: FormData | None) -> Response:
        """POST /suppressions/add: checked as ``naebu suppress add`` checks it, previewed, then
        saved from the preview's confirm button."""
        return self._suppressions.add(request, form)

    def suppression_remove(self, request: Request, form: FormData | None) -> Response:
        """POST /suppressions/N/remove: through :func:`naebu.alerts.suppressions.remove_suppression`."""
        return self._suppressions.remove(request, form, int(request.path_params["sid"]))


def _won(lang: str) -> Any:
    """An amount as the page's readers read it: ``1,234,000원`` (``KRW 1,234,000``); a dash
    where the rule's data has no amount."""

    def won(value: float | None) -> str:
        return "-" if value is None else formatting.won(value, lang, places=0)

    return won


def _recovered(form: FormData | None) -> float | None:
    """The recovered amount of a 조치 완료 form (``1,500,000`` or ``1500000``), or None;
    raises ``ValueError`` for text that is not a number."""
    text = _text(form, "recovered", 40).replace(",", "").replace("원", "").strip()
    return float(text) if text else None


def _t(ctx: Ctx) -> Any:
    from naebu.inbox.i18n import translator

    return translator(ctx.lang)


def _coverage_row(
    inbox: Inbox, rule_id: str, state: coverage.Coverage | None, lang: str
) -> dict[str, Any]:
    """A rule's coverage for the catalog: its dataset and what is missing in plain words
    (dataset titles and column labels, never raw names), the data it lacks, its state and the
    fallback in effect."""
    meta = inbox.rules.get(rule_id)
    dataset = _dataset_title(meta.dataset, lang) if meta is not None else ""
    if state is None:
        return {"coverage": None, "dataset": dataset}
    fallback = inbox.fallbacks.get(rule_id) if state.uses_fallback else None
    return {
        "dataset": dataset,
        "coverage": state,
        "empty": [absence.reason(m, lang) for m in state.empty],
        "missing": [coverage.describe(m, lang) for m in state.missing],
        "absent": [coverage.describe(m, lang) for m in state.absent_optional],
        "fallback": fallback,
    }


def _lookalike_rows(meta: RuleMeta | None, lang: str) -> list[dict[str, Any]]:
    """A rule's lawful look-alikes for the catalog, in the page's language (Korean text when
    a rule file gives no English), each with the examples that pin it and whether they fire."""
    if meta is None:
        return []
    fires = {e.note: e.fires for e in meta.examples if e.note}
    rows = []
    for look in meta.lookalikes:
        en = lang == "en"
        rows.append(
            {
                "practice": (look.practice_en or look.practice) if en else look.practice,
                "how": (look.how_en or look.how) if en else look.how,
                "examples": [{"note": n, "fires": fires.get(n, False)} for n in look.examples],
            }
        )
    return rows


def _dataset_title(name: str, lang: str) -> str:
    """The dataset a rule reads as officials call it (its Korean title); its name in English."""
    if lang == "en" or name not in datasets.DATASETS:
        return name
    return datasets.get(name).title
