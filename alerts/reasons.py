"""Reason codes (사유 코드): why an alert was a false positive or a finding was excluded.

A short closed list, so the rule-quality statistics (:mod:`naebu.alerts.quality`) can count the
reasons a rule misfires: a data error points at the source system, normal business at a
look-alike the rule should learn, an unfit criterion at the rule itself. The command line
and the inbox accept a code or its Korean label; the store keeps the code.
"""

from __future__ import annotations

#: Code -> (Korean label, English label), in the order forms list them.
REASONS: dict[str, tuple[str, str]] = {
    "data_error": ("자료 오류", "data error in the source"),
    "normal_business": ("정상 업무", "normal business"),
    "rule_unfit": ("규칙 기준 부적합", "the rule's criterion does not fit"),
    "duplicate": ("중복 경보", "duplicate of another alert"),
    "other": ("기타", "other"),
}
#: The code of an answer or exclusion given without one.
DEFAULT = "other"
#: How a missing code (answers given before codes existed) reads.
UNKNOWN = {"ko": "사유 미기재", "en": "no reason code"}


class ReasonError(ValueError):
    """A reason code not in the list; Korean and English in one line."""

    def __init__(self, given: str) -> None:
        choices = ", ".join(f"{code} ({ko})" for code, (ko, _) in REASONS.items())
        self.ko = f"알 수 없는 사유 코드 {given!r}: {choices} 중 하나를 쓰십시오"
        self.en = f"unknown reason code {given!r}; one of {choices}"
        super().__init__(f"{self.ko} ({self.en})")


def parse(text: str | None) -> str:
    """The code for ``text`` (a code, or a Korean label, spaces ignored); :data:`DEFAULT`
    for an empty one. Raises :class:`ReasonError` for anything else."""
    if text is None or not text.strip():
        return DEFAULT
    given = text.strip()
    squeezed = given.replace(" ", "").replace("-", "_").lower()
    for code, (ko, en) in REASONS.items():
        if squeezed in (code, ko.replace(" ", "")) or given.lower() == en:
            return code
    raise ReasonError(given)


def label(code: str | None, lang: str = "ko") -> str:
    """What officials read for ``code``: its label, or "사유 미기재" when there is none."""
    if code is None or code not in REASONS:
        return UNKNOWN[lang]
    ko, en = REASONS[code]
    return en if lang == "en" else ko
