"""What a rule draft would have done (``naebu rules simulate``), scored on past answers.

The draft's rules and the rules in force run over the same records of the store's history
(:func:`naebu.replay.compare_rules`, the engine of ``naebu backtest --compare``), only the
rules the draft changes. Per rule, the alerts (one per case, identified as the store
identifies them) the change would add and remove; and, from the answers officials gave to
the alerts that exist (``alerts.last_answer``):

- **confirmed**: answered 조치 완료 (``correct``: a real finding, corrected);
- **false positive**: answered 오탐 (``false_positive``);
- **explained**: answered 소명 (``explain``: the record had a reason);

an answer counts while it stands (the alert is answered or closed: an answer the audit
office rejected does not count). Then the confirmed findings the change would lose, the false
positives it would remove, and

    precision = confirmed / answered

before (the alerts of the rules in force) and after (those of them the draft still raises;
alerts it adds have no answer yet and are counted apart), each with its 95 % Wilson score
interval: for k of n, p = k/n, z = 1.96,

    (p + z²/2n ± z·√(p(1−p)/n + z²/4n²)) / (1 + z²/n).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select

from naebu import replay, rule_drafts, rulechanges
from naebu.alerts.lifecycle import REVIEWABLE
from naebu.rule_drafts import Draft
from naebu.settings.config import Config
from naebu.store import tables as store
from naebu.store.tables import alerts as alerts_table

Z = 1.96
#: The definition, as the output and the docs state it.
PRECISION_TEXT = (
    "precision = confirmed / answered (조치 완료 / 답변된 경보; 소명 and 오탐 are not "
    "confirmed); 95% Wilson score interval (p + z²/2n ± z·√(p(1−p)/n + z²/4n²)) / (1 + z²/n), "
    "z = 1.96"
)
_LABELS = {"correct": "confirmed", "false_positive": "false_positive", "explain": "explained"}


def wilson(k: int, n: int, z: float = Z) -> tuple[float, float] | None:
    """The Wilson score interval of ``k`` successes in ``n`` (None when ``n`` is 0)."""
    if n == 0:
        return None
    p = k / n
    centre = p + z * z / (2 * n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    scale = 1 + z * z / n
    # clamped: 0 of n gives a rounding error's worth below 0
    return (max(0.0, (centre - half) / scale), min(1.0, (centre + half) / scale))


def precision(labels: list[str]) -> dict[str, Any]:
    """Precision of the answered alerts whose labels are ``labels``, with its interval."""
    n = len(labels)
    k = labels.count("confirmed")
    interval = wilson(k, n)
    return {
        "answered": n,
        "confirmed": k,
        "precision": k / n if n else None,
        "interval": list(interval) if interval else None,
    }


def answers(rule_ids: list[str]) -> Any:
    """The select of the stored alerts of ``rule_ids`` with their standing answers."""
    a = alerts_table.c
    return select(a.rule_id, a.fingerprint, a.status, a.last_answer).where(a.rule_id.in_(rule_ids))


def label_of(status: str, last_answer: str | None) -> str | None:
    """An alert's standing answer as a label (None: none, or rejected by the audit office)."""
    if status not in (*REVIEWABLE, "closed") or last_answer is None:
        return None
    return _LABELS.get(last_answer)


def simulate(
    config: Config,
    draft: Draft,
    *,
    since: datetime | None,
    until: datetime | None,
    now: datetime,
) -> dict[str, Any]:
    """The draft replayed over the store's history against the rules in force."""
    base_set = rule_drafts.in_force(config)
    ids = set(draft.rules)
    with rule_drafts.overlaid(config, draft.target, draft.files) as (draft_set, root):
        ids |= _reading_lists(draft_set, root, {k[5:] for k in ids if k.startswith("list:")})
        result = replay.compare_rules(
            config,
            [r for r in base_set.rules if r.meta.id in ids],
            [r for r in draft_set.rules if r.meta.id in ids],
            since=since,
            until=until,
            now=now,
        )
    assert result.other is not None
    engine = store.connect(config.store_url)
    try:
        with engine.connect() as conn:
            stored = conn.execute(answers(sorted(ids))).fetchall()
    finally:
        engine.dispose()
    labels: dict[str, dict[str, str | None]] = {}
    for row in stored:
        labels.setdefault(row.rule_id, {})[row.fingerprint] = label_of(row.status, row.last_answer)
    per_rule = {
        rule_id: _rule(
            result.base.alerts.get(rule_id, {}),
            result.other.alerts.get(rule_id, {}),
            labels.get(rule_id, {}),
            rule_id in result.base.alerts,
            rule_id in result.other.alerts,
        )
        for rule_id in sorted(ids)
        if not rule_id.startswith("list:")
    }
    for rule_id, rule in per_rule.items():
        rule["title"] = result.other.titles.get(rule_id) or result.base.titles.get(rule_id, "")
        rule["error"] = result.other.errors.get(rule_id) or result.base.errors.get(rule_id)
    return {
        "draft": draft.id,
        "content_hash": draft.content_hash,
        "since": since.isoformat(sep=" ") if since else None,
        "until": until.isoformat(sep=" ") if until else None,
        "now": now.isoformat(sep=" "),
        "data": result.frames.origin,
        "rows": result.frames.rows(),
        "lists": sorted(k for k in ids if k.startswith("list:")),
        "rules": per_rule,
        "summary": _summary(per_rule),
        "definition": PRECISION_TEXT,
    }


def _reading_lists(ruleset: Any, root: Any, names: set[str]) -> set[str]:
    """The rules whose table names one of the reference lists ``names`` (``lists.NAME``):
    a list edited changes what they find, though not their own version."""
    if not names:
        return set()
    found = set()
    for rule_id, version in rulechanges.current_versions(ruleset, root=root).items():
        text = json.dumps(version.content, ensure_ascii=False)
        if any(f"lists.{name}" in text for name in names):
            found.add(rule_id)
    return found


def _rule(
    before: Mapping[str, str],
    after: Mapping[str, str],
    labels: Mapping[str, str | None],
    ran_before: bool,
    runs_after: bool,
) -> dict[str, Any]:
    """One rule's figures: alerts added and removed, answers lost, precision."""
    added = sorted(set(after) - set(before), key=lambda fp: after[fp])
    removed = sorted(set(before) - set(after), key=lambda fp: before[fp])
    kept = set(before) & set(after)
    answered_before = [lab for fp in before if (lab := labels.get(fp))]
    answered_after = [lab for fp in kept if (lab := labels.get(fp))]
    lost = [labels.get(fp) for fp in removed]
    return {
        "status": "new rule"
        if not ran_before
        else "removed rule"
        if not runs_after
        else "changed"
        if added or removed
        else "same",
        "alerts_before": len(before),
        "alerts_after": len(after),
        "added": [{"record_key": after[fp], "fingerprint": fp} for fp in added],
        "removed": [
            {"record_key": before[fp], "fingerprint": fp, "answer": labels.get(fp)}
            for fp in removed
        ],
        "confirmed_lost": lost.count("confirmed"),
        "false_positives_removed": lost.count("false_positive"),
        "explained_removed": lost.count("explained"),
        "unanswered_added": len(added),
        "before": precision(answered_before),
        "after": precision(answered_after),
    }


def _summary(per_rule: Mapping[str, Mapping[str, Any]]) -> dict[str, int]:
    """Totals over the rules (kept with the approval in the audit trail)."""
    return {
        "rules": len(per_rule),
        "added": sum(len(r["added"]) for r in per_rule.values()),
        "removed": sum(len(r["removed"]) for r in per_rule.values()),
        "confirmed_lost": sum(r["confirmed_lost"] for r in per_rule.values()),
        "false_positives_removed": sum(r["false_positives_removed"] for r in per_rule.values()),
    }


def _percent(p: dict[str, Any]) -> str:
    if p["precision"] is None:
        return "- (no answer)"
    low, high = p["interval"]
    return f"{p['precision']:.0%} ({p['confirmed']}/{p['answered']}; 95% CI {low:.0%}-{high:.0%})"


def text(result: Mapping[str, Any]) -> list[str]:
    """The simulation as lines for the terminal."""
    period = f"{result['since'] or 'start'} .. {result['until'] or 'now'}"
    lines = [
        f"rule draft #{result['draft']} simulated over {period}; data: {result['data']} "
        f"({replay.summary_by(result['rows'])})"
    ]
    for rule_id, r in result["rules"].items():
        lines.append("")
        lines.append(f"{rule_id} {r['title']}: {r['status']}")
        if r.get("error"):
            lines.append(f"  ERROR {r['error']}")
        lines.append(
            f"  alerts {r['alerts_before']} -> {r['alerts_after']} "
            f"(+{len(r['added'])} / -{len(r['removed'])})"
        )
        for item in r["added"][:10]:
            lines.append(f"    + {item['record_key']} (new, no answer yet)")
        for item in r["removed"][:10]:
            lines.append(f"    - {item['record_key']} ({item['answer'] or 'no answer'})")
        more = len(r["added"]) + len(r["removed"]) - len(r["added"][:10]) - len(r["removed"][:10])
        if more > 0:
            lines.append(f"    ... {more} more (--format json lists them all)")
        lines.append(
            f"  confirmed findings lost {r['confirmed_lost']}, false positives removed "
            f"{r['false_positives_removed']}, explained removed {r['explained_removed']}"
        )
        lines.append(f"  precision before {_percent(r['before'])}")
        lines.append(f"  precision after  {_percent(r['after'])}")
    if result["lists"]:
        lines.append("")
        lines.append("reference lists changed: " + ", ".join(result["lists"]))
    lines.append("")
    lines.append(result["definition"])
    return lines
