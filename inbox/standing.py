"""What an alert page shows above everything else: the answer that stands and why it was sent
back.

The timeline lists every step oldest first, so the official's 소명 and the reason a manager
returned it or the audit office rejected it sit at the bottom of a long history. The page
shows them on top instead, read from the same audit-trail entries.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

#: The official's answers.
ANSWERS = ("correct", "explain", "false_positive")
#: Steps that send an answer back to the official, with a reason.
SENT_BACK = ("return", "reject")


@dataclass(frozen=True)
class Standing:
    """The last answer (its trail entry), the last approval of it, and - when the alert is
    back with the official - the step that sent it back."""

    answer: Mapping[str, Any] | None
    approval: Mapping[str, Any] | None
    sent_back: Mapping[str, Any] | None

    def __bool__(self) -> bool:
        return any((self.answer, self.approval, self.sent_back))


def standing(trail: Sequence[Mapping[str, Any]], status: str) -> Standing:
    """The :class:`Standing` of an alert from its trail entries (oldest first) and status."""
    answer = approval = sent_back = None
    for e in trail:
        action = e.get("action")
        if action in ANSWERS:
            answer, approval, sent_back = e, None, None
        elif action == "approve":
            approval = e
        elif action in SENT_BACK:
            approval, sent_back = None, e
    # A returned or rejected answer is shown with the reason while the official works on it.
    if status != "rejected":
        sent_back = None
    return Standing(answer, approval, sent_back)
