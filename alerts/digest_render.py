"""Rendering a digest of new alerts: its subject, its text and its HTML table.

The message is rendered from ``templates/digest_<language>.j2`` (text) and
``templates/digest_<language>.html.j2`` (HTML, a table of the alerts) in the Jinja2 sandbox of
:mod:`naebu.alerts.templating`, from one context, and each part is masked by :mod:`naebu.core.masking`
as a whole, so nothing a rule put in its message or evidence leaves unmasked.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from operator import itemgetter
from typing import Any

from jinja2 import Template

from naebu.alerts.deadline_text import deadline_text
from naebu.alerts.digest_summary import NO_DEPARTMENT, digest_summary
from naebu.alerts.directory import Directory, Official
from naebu.alerts.evidence_text import case_members, dataset_title, evidence_lines
from naebu.alerts.explain import explain_rules
from naebu.alerts.templating import (
    ROLE_LABELS,
    SEVERITY_LABELS,
    SEVERITY_RANK,
    MailParts,
    environment,
    html_environment,
    per_rule,
)
from naebu.core.links import alert_link, inbox_link
from naebu.core.masking import mask_document, mask_text
from naebu.engine.rule import RuleMeta


def digest_templates(language: str) -> tuple[Template, Template]:
    """The text and HTML templates of a digest in ``language``."""
    return (
        environment().get_template(f"digest_{language}.j2"),
        html_environment().get_template(f"digest_{language}.html.j2"),
    )


def render_digest(
    recipient: Official | None,
    recipient_id: str,
    alerts: Sequence[Mapping[Any, Any]],
    language: str = "ko",
    roles: Mapping[int, Sequence[str]] | None = None,
    directory: Directory | None = None,
    max_items: int | None = None,
    *,
    today: date | None = None,
    base_url: str | None = None,
    rules: Mapping[str, RuleMeta] | None = None,
) -> tuple[str, str]:
    """The masked ``(subject, body)`` of a digest of ``alerts`` (rows of the alerts table).

    ``roles`` maps an alert id to what the recipient is told as (default: ``official``);
    an alert that is not the recipient's to handle names its assignee (from ``directory``).
    With more than ``max_items`` alerts, the most severe ``max_items`` are written out in
    full and the rest counted per rule: an audit office told of every high-severity alert of
    a province would otherwise get one mail of thousands of pages. Deadlines count the days
    left from ``today`` (the run's clock; :mod:`naebu.alerts.deadline_text`); with ``base_url``
    (``[web] base_url``) each alert and the inbox are linked (:mod:`naebu.core.links`).
    ``rules`` (rule id -> :class:`RuleMeta`) gives each rule's basis and why it is a red
    flag, written once per rule.
    """
    parts = render_digest_mail(
        recipient,
        recipient_id,
        alerts,
        language,
        roles,
        directory,
        max_items,
        today=today,
        base_url=base_url,
        rules=rules,
    )
    return parts.subject, parts.body


def render_digest_mail(
    recipient: Official | None,
    recipient_id: str,
    alerts: Sequence[Mapping[Any, Any]],
    language: str = "ko",
    roles: Mapping[int, Sequence[str]] | None = None,
    directory: Directory | None = None,
    max_items: int | None = None,
    *,
    today: date | None = None,
    base_url: str | None = None,
    rules: Mapping[str, RuleMeta] | None = None,
) -> MailParts:
    """:func:`render_digest` with the HTML part too: masked subject, text and HTML."""
    ordered = sorted(alerts, key=lambda a: (-SEVERITY_RANK.get(a["severity"], -1), a["id"]))
    return render_ordered(
        digest_templates(language),
        recipient,
        recipient_id,
        first_department(recipient, alerts),
        ordered,
        language,
        roles,
        directory,
        max_items,
        {},
        today,
        base_url,
        rules,
    )


def first_department(recipient: Official | None, alerts: Iterable[Mapping[Any, Any]]) -> Any:
    """The department a digest names: the recipient's, else the first alert's that has one."""
    if recipient is not None and recipient.department:
        return recipient.department
    return next((a["department"] for a in alerts if a["department"]), None)


def render_ordered(
    templates: tuple[Template, Template],
    recipient: Official | None,
    recipient_id: str,
    department: Any,
    ordered: Sequence[Mapping[Any, Any]],
    language: str,
    roles: Mapping[int, Sequence[str]] | None,
    directory: Directory | None,
    max_items: int | None,
    shared: dict[int, dict[str, Any]],
    today: date | None = None,
    base_url: str | None = None,
    rules: Mapping[str, RuleMeta] | None = None,
    masked: dict[str, str] | None = None,
    fragments: dict[Any, Any] | None = None,
) -> MailParts:
    """:func:`render_digest_mail` of alerts already in digest order (most severe first, then
    by id), with its ``(text, html)`` templates.

    ``shared`` keeps, by alert id, the fields of an item that do not depend on the recipient
    (the masked evidence above all): a province's alert is written out in the digests of its
    official, their managers and every auditor, and is worked out once for all of them (with
    this call's ``base_url`` and ``today``).
    ``masked`` keeps the masked pieces of the rendered messages for the same reason
    (:func:`naebu.core.masking.mask_document`), and ``fragments`` the rendered parts of the
    items the templates mark ``once`` (:mod:`naebu.alerts.digest_fragments`); both must
    only be shared by digests rendered with the same templates, ``base_url`` and ``today``.
    """
    labels = SEVERITY_LABELS.get(language, SEVERITY_LABELS["ko"])
    role_labels = ROLE_LABELS.get(language, ROLE_LABELS["ko"])
    shown = ordered if max_items is None else ordered[:max_items]
    hidden = ordered[len(shown) :]
    rest = per_rule(map(itemgetter("rule_id", "title"), hidden))
    items = []
    for a in shown:
        mine = roles is None or "official" in roles.get(a["id"], ("official",))
        told_as = [] if mine or roles is None else list(roles.get(a["id"], ()))
        item = shared.get(a["id"])
        if item is None:
            item = shared[a["id"]] = _shared_item(a, labels, language, directory, today, base_url)
        item = item.copy()  # its keys stay in their order: "mine" and "role" are in place
        item["mine"] = mine
        item["role"] = ", ".join(role_labels.get(r, r) for r in told_as)
        items.append(item)
    all_mine = roles is None or all(
        "official" in roles.get(a["id"], ("official",)) for a in ordered
    )
    context = {
        "recipient": recipient.display_name if recipient else recipient_id,
        "department": department,
        "alerts": items,
        "count": len(ordered),
        "all_mine": all_mine,
        # A manager or auditor is told of others' alerts: they also see them per department.
        "summary": digest_summary(ordered, labels, language, today, by_department=not all_mine),
        "more": rest,
        "more_count": len(hidden),
        "inbox_link": inbox_link(base_url),
        "rules": explain_rules(map(itemgetter("rule_id"), ordered), rules, language),
        "fragments": fragments,
    }
    text_template, html_template = templates
    module = text_template.make_module(context)
    subject = str(getattr(module, "subject", "")).strip()
    html = html_template.render(context)
    return MailParts(
        mask_text(subject), mask_document(str(module), masked), mask_document(html, masked)
    )


def _shared_item(
    a: Mapping[Any, Any],
    labels: Mapping[str, str],
    language: str,
    directory: Directory | None,
    today: date | None,
    base_url: str | None,
) -> dict[str, Any]:
    """A digest item's fields that do not depend on the recipient, with ``mine`` and
    ``role`` (which do) left None for ``render_ordered`` to fill in a copy."""
    assignee = directory.get(a["assignee"]) if directory is not None else None
    evidence = a["evidence"] if isinstance(a["evidence"], Mapping) else {}
    return {
        "id": a["id"],
        "rule_id": a["rule_id"],
        "title": a["title"],
        "message": a["message"],
        "dataset": dataset_title(a["dataset"], language),
        "record_key": a["record_key"],
        "severity": labels.get(a["severity"], a["severity"]),
        "deadline": deadline_text(a["deadline"], today, language),
        "evidence": evidence_lines(evidence, a["dataset"], language, directory),
        "mine": None,
        "role": None,
        "assignee": assignee.display_name if assignee else (a["assignee"] or "-"),
        "department": a["department"] or NO_DEPARTMENT.get(language, "-"),
        "members": case_members(evidence, a["dataset"], language, directory),
        "severity_key": a["severity"],
        "link": alert_link(base_url, a["id"]),
    }
