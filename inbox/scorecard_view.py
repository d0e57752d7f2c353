"""What the scorecard page draws and downloads besides its tables: the monthly trend charts
and the XLSX of the ranking (:mod:`naebu.alerts.ranking_xlsx`), from one :class:`Scorecard`.

The trend is two charts: alerts raised per month (a month before the store's first alert is
shaded as "no data", not drawn as 0), and the four rates per month of raising as lines that
break at a month without alerts (no rate, not 0%), so no ramp is drawn that never happened.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from urllib.parse import quote

from markupsafe import Markup
from starlette.responses import Response

from naebu.alerts.ranking import PRIOR, rate_keys
from naebu.alerts.ranking_xlsx import write_ranking
from naebu.inbox.charts import bar_chart, rate_chart
from naebu.inbox.queries import Scorecard

__all__ = ["PRIOR", "scorecard_charts", "scorecard_xlsx"]

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: Each rate's word key on the page and its line's colour.
RATE_LINES = {
    "action": ("action_rate", "#2e7d32"),
    "approval": ("approval_rate", "#6a1b9a"),
    "confirmation": ("confirmation_rate", "#37474f"),
    "timely": ("timely_rate", "#d9822b"),
}


def scorecard_charts(
    card: Scorecard, approval: bool, t: Callable[[str], str]
) -> tuple[Markup, Markup]:
    """The raised-per-month bars and the rates-per-month lines."""
    bars = bar_chart(
        card.months,
        card.raised_by_month,
        bar_name=t("raised"),
        title=t("trend.raised"),
        missing=[s == "before" for s in card.month_states],
        missing_name=t("month.before"),
    )
    series = []
    for key in rate_keys(approval):
        word, colour = RATE_LINES[key]
        values = [
            m.rate(key) if state == "data" else None
            for m, state in zip(card.by_month, card.month_states, strict=True)
        ]
        series.append((t(word), values, colour))
    lines = rate_chart(
        card.months,
        series,
        gaps=["" if s == "data" else s for s in card.month_states],
        gap_names=(t("month.none"), t("month.before")),
        title=t("trend.rates"),
    )
    return bars, lines


def scorecard_xlsx(card: Scorecard, approval: bool, lang: str) -> Response:
    """The ranking as an XLSX download, with the officials' rows when the page shows them."""
    buffer = io.BytesIO()
    officials = [(card.officials_of, card.officials)] if card.officials_of is not None else []
    write_ranking(
        buffer,
        card,
        approval=approval,
        language=lang,
        period=f"{card.months[0]}..{card.months[-1]}",
        officials=officials,
    )
    name = "부서별_처리현황.xlsx" if lang != "en" else "scorecard.xlsx"
    return Response(
        buffer.getvalue(),
        media_type=XLSX,
        headers={
            "Content-Disposition": f"attachment; filename=\"scorecard.xlsx\"; filename*=UTF-8''{quote(name)}"
        },
    )
