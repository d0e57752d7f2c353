"""Small server-side SVG charts (no JavaScript): monthly bars with an optional line.

The SVG is written inline into the page; every label is escaped. Text names a Korean font
(NanumGothic, then Noto Sans CJK KR), as the page's CSS does, so Hangul never renders as
empty boxes.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

FONT = "NanumGothic, 'Noto Sans CJK KR', sans-serif"


def bar_chart(
    labels: Sequence[str],
    bars: Sequence[int],
    *,
    line: Sequence[int] | None = None,
    bar_name: str = "",
    line_name: str = "",
    width: int = 640,
    height: int = 180,
    title: str = "",
    more_lines: Sequence[tuple[str, Sequence[int], str]] = (),
    missing: Sequence[bool] = (),
    missing_name: str = "",
) -> Markup:
    """Bars for ``bars`` (one per label), and a polyline for ``line`` when given; each of
    ``more_lines`` (name, values, colour) is another polyline with its legend entry. A month
    ``missing`` (True: no data at all, not zero) gets a shaded band named ``missing_name``
    instead of a bar."""
    left, right, top, bottom = 34, 8, 22, 30
    plot_w, plot_h = width - left - right, height - top - bottom
    top_value = max([1, *bars, *(line or []), *(v for _, vs, _ in more_lines for v in vs)])
    n = max(len(labels), 1)
    step = plot_w / n
    bar_w = max(step * 0.6, 2)

    def y(v: float) -> float:
        return top + plot_h - (v / top_value) * plot_h

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'font-family="{escape(FONT)}" font-size="11">',
        f"<title>{escape(title)}</title>",
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - right}" y2="{top + plot_h}" '
        'stroke="#888"/>',
        f'<text x="{left - 4}" y="{top + 4}" text-anchor="end">{top_value}</text>',
        f'<text x="{left - 4}" y="{top + plot_h}" text-anchor="end">0</text>',
    ]
    for i, (label, value) in enumerate(zip(labels, bars, strict=True)):
        x = left + i * step + (step - bar_w) / 2
        if i < len(missing) and missing[i]:
            parts.append(
                f'<rect class="nodata" x="{left + i * step:.1f}" y="{top}" width="{step:.1f}" '
                f'height="{plot_h}" fill="#eeeeee"><title>{escape(label)}: '
                f"{escape(missing_name)}</title></rect>"
                f'<text x="{left + i * step + step / 2:.1f}" y="{height - 12}" '
                f'text-anchor="middle">{escape(label[-5:])}</text>'
            )
            continue
        parts.append(
            f'<rect class="bar" x="{x:.1f}" y="{y(value):.1f}" width="{bar_w:.1f}" '
            f'height="{top + plot_h - y(value):.1f}" fill="#4a78b5">'
            f"<title>{escape(label)}: {value}</title></rect>"
        )
        if value:
            parts.append(
                f'<text x="{x + bar_w / 2:.1f}" y="{y(value) - 3:.1f}" '
                f'text-anchor="middle">{value}</text>'
            )
        parts.append(
            f'<text x="{left + i * step + step / 2:.1f}" y="{height - 12}" '
            f'text-anchor="middle">{escape(label[-5:])}</text>'
        )
    if line is not None and len(line) == len(labels):
        points = " ".join(
            f"{left + i * step + step / 2:.1f},{y(v):.1f}" for i, v in enumerate(line)
        )
        parts.append(
            f'<polyline class="line" points="{points}" fill="none" stroke="#d9822b" '
            'stroke-width="2"/>'
        )
    for k, (_, values, colour) in enumerate(more_lines):
        if len(values) != len(labels):
            continue
        points = " ".join(
            f"{left + i * step + step / 2:.1f},{y(v):.1f}" for i, v in enumerate(values)
        )
        dash = ' stroke-dasharray="4 3"' if k % 2 else ""
        parts.append(
            f'<polyline class="line step-{k}" points="{points}" fill="none" '
            f'stroke="{escape(colour)}" stroke-width="2"{dash}/>'
        )
    legend = []
    if bar_name:
        legend.append(
            f'<rect x="{left}" y="4" width="10" height="10" fill="#4a78b5"/>'
            f'<text x="{left + 14}" y="13">{escape(bar_name)}</text>'
        )
    if line_name and line is not None:
        legend.append(
            f'<rect x="{left + 150}" y="8" width="10" height="3" fill="#d9822b"/>'
            f'<text x="{left + 164}" y="13">{escape(line_name)}</text>'
        )
    for k, (name, _, colour) in enumerate(more_lines):
        x0 = left + 300 + k * 100
        legend.append(
            f'<rect x="{x0}" y="8" width="10" height="3" fill="{escape(colour)}"/>'
            f'<text x="{x0 + 14}" y="13">{escape(name)}</text>'
        )
    parts.extend(legend)
    parts.append("</svg>")
    return Markup("".join(parts))


def rate_chart(
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None], str]],
    *,
    gaps: Sequence[str] = (),
    gap_names: tuple[str, str] = ("", ""),
    width: int = 640,
    height: int = 180,
    title: str = "",
) -> Markup:
    """Rates (0..1) per month as lines, one per ``series`` (name, values, colour).

    A month without a value (None: no alert raised, so no rate) breaks the line: a month with
    data on either side is never joined across it, so no ramp is drawn that never happened.
    Every month with a value has a dot, so a lone month shows too. ``gaps`` (per month, ""
    for a month with data) names why a month has none - "none": no alert raised, "before":
    before the store's first alert - and such months are shaded, their label from
    ``gap_names`` (none, before).
    """
    left, right, top, bottom = 40, 8, 22, 30
    plot_w, plot_h = width - left - right, height - top - bottom
    n = max(len(labels), 1)
    step = plot_w / n

    def x(i: int) -> float:
        return left + i * step + step / 2

    def y(v: float) -> float:
        return top + plot_h - v * plot_h

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart rates" role="img" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'font-family="{escape(FONT)}" font-size="11">',
        f"<title>{escape(title)}</title>",
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - right}" y2="{top + plot_h}" '
        'stroke="#888"/>',
        f'<text x="{left - 4}" y="{top + 4}" text-anchor="end">100%</text>',
        f'<text x="{left - 4}" y="{top + plot_h}" text-anchor="end">0%</text>',
    ]
    for i, label in enumerate(labels):
        gap = gaps[i] if i < len(gaps) else ""
        if gap:
            name = gap_names[0] if gap == "none" else gap_names[1]
            parts.append(
                f'<rect class="nodata {escape(gap)}" x="{left + i * step:.1f}" y="{top}" '
                f'width="{step:.1f}" height="{plot_h}" fill="#eeeeee">'
                f"<title>{escape(label)}: {escape(name)}</title></rect>"
            )
        parts.append(
            f'<text x="{x(i):.1f}" y="{height - 12}" text-anchor="middle">'
            f"{escape(label[-5:])}</text>"
        )
    for k, (name, values, colour) in enumerate(series):
        dash = ' stroke-dasharray="4 3"' if k % 2 else ""
        for run in _runs(values):
            if len(run) > 1:
                points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in run)
                parts.append(
                    f'<polyline class="line rate-{k}" points="{points}" fill="none" '
                    f'stroke="{escape(colour)}" stroke-width="2"{dash}/>'
                )
            for i, v in run:
                parts.append(
                    f'<circle class="dot rate-{k}" cx="{x(i):.1f}" cy="{y(v):.1f}" r="3" '
                    f'fill="{escape(colour)}"><title>{escape(labels[i])} {escape(name)}: '
                    f"{v * 100:.1f}%</title></circle>"
                )
        x0 = left + k * 130
        parts.append(
            f'<rect x="{x0}" y="8" width="10" height="3" fill="{escape(colour)}"/>'
            f'<text x="{x0 + 14}" y="13">{escape(name)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def _runs(values: Sequence[float | None]) -> list[list[tuple[int, float]]]:
    """The runs of consecutive months that have a value, as (month index, value)."""
    runs: list[list[tuple[int, float]]] = []
    current: list[tuple[int, float]] = []
    for i, v in enumerate(values):
        if v is None:
            if current:
                runs.append(current)
            current = []
        else:
            current.append((i, v))
    if current:
        runs.append(current)
    return runs
