"""Why an alert matters: a rule's basis and its paragraph on why the pattern is a red flag.

Officials are more willing to answer an alert when they see the law behind it and the fraud
the pattern has revealed elsewhere (공유재산 매각대금 횡령, 쪼개기 수의계약, ...). The rule files
say it once (``basis``, ``why``, ``why_en``); the digest, ``naebu alerts show``, the export
and the inbox show it. A rule that says nothing is shown with nothing: never an empty
heading, never ``None``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from naebu.engine.rule import RuleMeta


def why_of(meta: RuleMeta, language: str = "ko") -> str:
    """The rule's why in ``language``: ``why_en`` in English, the Korean when it has none."""
    if language == "en":
        return meta.why_en or meta.why
    return meta.why


def explain_rules(
    rule_ids: Iterable[str], rules: Mapping[str, RuleMeta] | None, language: str = "ko"
) -> list[dict[str, str]]:
    """Each rule of ``rule_ids`` once, in the order it first appears: its title, basis and
    why (see :func:`why_of`). A rule ``rules`` does not know (retired from the pack), or one
    that has neither basis nor why, is left out."""
    if not rules:
        return []
    out = []
    for rule_id in dict.fromkeys(rule_ids):  # first appearance, in C
        meta = rules.get(rule_id)
        if meta is None:
            continue
        why = why_of(meta, language)
        if not (meta.basis or why):
            continue
        title = meta.title_en if language == "en" and meta.title_en else meta.title
        out.append({"rule_id": rule_id, "title": title, "basis": meta.basis, "why": why})
    return out
