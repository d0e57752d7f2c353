"""Checking a suppression as typed (예외 등록 검사): one set of rules for ``naebu suppress add``
and the inbox's form.

Both take what the person typed - a rule, a record key or a column and its value, a reason,
a reason code and an expiry date, all as text - and hand it to :func:`check`, which gives a
:class:`SuppressionRequest` ready to preview (:mod:`naebu.alerts.suppression_preview`) and save,
or raises :class:`FieldError` for the first field that is wrong. The message names the field
in Korean and English and ends with a hint (``규칙: 알 수 없는 규칙 'R-PAY-DPU' - 비슷한 이름:
'R-PAY-DUP'``), so the command line prints and the inbox shows the same words.

The order of the checks is the order of the form: rule, target (record key, or column and
value), column of the rule's dataset, reason, reason code, expiry, author.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, time

from naebu.alerts import reasons
from naebu.alerts.directory import Directory
from naebu.alerts.suppressions import FINDING_FIELDS, Suppression, SuppressionError, check_author
from naebu.core import datasets
from naebu.engine.rule import RuleMeta

#: The fields of a suppression as people call them: name -> (Korean, English).
FIELDS: dict[str, tuple[str, str]] = {
    "rule": ("규칙", "rule"),
    "target": ("대상", "target"),
    "column": ("컬럼", "column"),
    "value": ("값", "value"),
    "reason": ("사유", "reason"),
    "reason_code": ("사유 코드", "reason code"),
    "until": ("만료일", "expiry"),
    "author": ("등록자", "author"),
}
_RULES_HINT = (
    "점검 규칙 목록(경보함의 점검 규칙, naebu check)에서 고르십시오",
    "naebu check lists the rules",
)
_DATE_HINT = (
    "YYYY-MM-DD로 입력하십시오 (예: 2025-12-31)",
    "give it as YYYY-MM-DD, e.g. 2025-12-31",
)


class FieldError(SuppressionError):
    """A field of a suppression that is wrong: ``field`` (a key of :data:`FIELDS`), and the
    message in Korean and English, each ``필드: 문제 - 힌트``."""

    def __init__(self, field: str, problem: tuple[str, str], hint: tuple[str, str]) -> None:
        self.field = field
        ko_label, en_label = FIELDS[field]
        super().__init__(
            f"{ko_label}: {problem[0]} - {hint[0]}", f"{en_label}: {problem[1]} - {hint[1]}"
        )


@dataclass(frozen=True)
class SuppressionForm:
    """A suppression as typed: every field text, ``""`` where nothing was typed."""

    rule: str = ""
    record_key: str = ""
    column: str = ""
    value: str = ""
    reason: str = ""
    reason_code: str = ""
    until: str = ""

    @classmethod
    def from_where(cls, where: str | None, **fields: str) -> SuppressionForm:
        """The command line's form: ``--where COLUMN=VALUE`` split at the first ``=``; text
        without one is a column without its value (the check says so)."""
        column, _, value = (where or "").partition("=")
        return cls(column=column, value=value, **fields)


@dataclass(frozen=True)
class SuppressionRequest:
    """A suppression that passed :func:`check`: what to store."""

    rule_id: str
    record_key: str | None
    column: str | None
    value: str | None
    reason: str
    reason_code: str
    expires_at: datetime
    author: str

    @property
    def target(self) -> str:
        """What is suppressed: ``record P-1`` or ``vendor_id = V-77``."""
        return self.as_suppression().target

    def as_suppression(self, suppression_id: int = 0) -> Suppression:
        """As a stored suppression would be (to match findings and alerts before saving)."""
        return Suppression(
            id=suppression_id,
            rule_id=self.rule_id,
            record_key=self.record_key,
            column=self.column,
            value=self.value,
            reason=self.reason,
            author=self.author,
            created_at=self.expires_at,
            expires_at=self.expires_at,
            reason_code=self.reason_code,
        )


def check(
    form: SuppressionForm,
    *,
    rules: Mapping[str, RuleMeta],
    author: str,
    now: datetime,
    directory: Directory | None,
) -> SuppressionRequest:
    """``form`` checked against ``rules`` (the rule set in force), ``now`` and ``directory``
    (the author must be an active 감사자 or 부서관리자 in it); raises :class:`FieldError` for
    the first wrong field."""
    rule_id = form.rule.strip()
    meta = _rule(rule_id, rules)
    record_key = form.record_key.strip() or None
    column = form.column.strip() or None
    value = form.value.strip() or None
    _target(record_key, column, value)
    if column is not None:
        _column(column, meta)
    reason = form.reason.strip()
    if not reason:
        raise FieldError(
            "reason",
            ("예외 처리에는 사유가 필요합니다", "a suppression needs a reason"),
            (
                "감사실이 읽을 이유를 적으십시오 (예: 연간 단가계약)",
                "write why, for the audit office",
            ),
        )
    try:
        code = reasons.parse(form.reason_code)
    except reasons.ReasonError as exc:
        raise FieldError("reason_code", (exc.ko, exc.en), _codes_hint()) from None
    expires_at = _until(form.until, now)
    try:
        check_author(directory, author)
    except SuppressionError as exc:
        hint = ("감사자 또는 부서관리자가 등록하십시오", "ask an auditor or a department manager")
        raise FieldError("author", (exc.ko, exc.en), hint) from None
    return SuppressionRequest(rule_id, record_key, column, value, reason, code, expires_at, author)


def until_time(text: str) -> datetime:
    """The expiry typed (``2025-06-30``, or a date-time): a date alone means the end of that
    day. Raises ``ValueError`` for text that is not one."""
    expires = datetime.fromisoformat(text.strip())
    if expires.time() == time(0):
        expires = datetime.combine(expires.date(), time(23, 59, 59))
    return expires


def _rule(rule_id: str, rules: Mapping[str, RuleMeta]) -> RuleMeta:
    if not rule_id:
        raise FieldError("rule", ("규칙을 지정하지 않았습니다", "no rule given"), _RULES_HINT)
    meta = rules.get(rule_id)
    if meta is None:
        close = _closest(rule_id, rules)
        hint = (f"비슷한 이름: {close!r}", f"did you mean {close!r}?") if close else _RULES_HINT
        raise FieldError(
            "rule", (f"알 수 없는 규칙 {rule_id!r}", f"unknown rule {rule_id!r}"), hint
        )
    return meta


def _target(record_key: str | None, column: str | None, value: str | None) -> None:
    example = (
        "예: 기록 키 P-1001, 또는 컬럼 vendor_id 와 값 V10023",
        "e.g. record P-1001, or column vendor_id and value V10023",
    )
    if record_key is not None and (column is not None or value is not None):
        raise FieldError(
            "target",
            (
                "기록 키와 컬럼·값을 함께 지정할 수 없습니다",
                "give a record key or a column and its value, not both",
            ),
            ("둘 중 하나만 남기십시오", "keep one of them"),
        )
    if record_key is None and column is None and value is None:
        raise FieldError(
            "target",
            (
                "기록 키 하나, 또는 컬럼과 값을 지정하십시오",
                "give either a record key or a column and its value",
            ),
            example,
        )
    if column is None and record_key is None:
        raise FieldError(
            "column",
            (f"값 {value!r}을(를) 비교할 컬럼이 없습니다", f"no column for the value {value!r}"),
            (f"예: vendor_id = {value}", f"e.g. vendor_id = {value}"),
        )
    if value is None and column is not None:
        raise FieldError(
            "value",
            (f"컬럼 {column!r}의 값이 없습니다", f"no value for the column {column!r}"),
            (f"예: {column} = V10023", f"e.g. {column}=V10023"),
        )


def _column(column: str, meta: RuleMeta) -> None:
    """The column must be one of the finding's own (:data:`FINDING_FIELDS`) or of the rule's
    dataset."""
    if column in FINDING_FIELDS:
        return
    names = list(datasets.get(meta.dataset).column_names)
    if column in names:
        return
    close = _closest(column, names)
    if close:
        hint = (f"비슷한 이름: {close!r}", f"did you mean {close!r}?")
    else:
        hint = ("컬럼: " + ", ".join(names), "columns: " + ", ".join(names))
    title = datasets.get(meta.dataset).title.split(" (")[0]
    raise FieldError(
        "column",
        (
            f"{column!r}은(는) {title}({meta.dataset}) 자료의 컬럼이 아닙니다 (규칙 {meta.id})",
            f"{column!r} is not a column of {meta.dataset} (rule {meta.id})",
        ),
        hint,
    )


def _until(text: str, now: datetime) -> datetime:
    if not text.strip():
        raise FieldError("until", ("만료일이 없습니다", "no expiry given"), _DATE_HINT)
    try:
        expires = until_time(text)
    except ValueError:
        raise FieldError(
            "until",
            (f"{text.strip()!r}은(는) 날짜가 아닙니다", f"{text.strip()!r} is not a date"),
            _DATE_HINT,
        ) from None
    if expires <= now:
        raise FieldError(
            "until",
            ("만료일은 현재 시각 이후여야 합니다", "the expiry must be in the future"),
            (f"{now:%Y-%m-%d} 이후의 날짜를 입력하십시오", f"give a day after {now:%Y-%m-%d}"),
        )
    return expires


def _codes_hint() -> tuple[str, str]:
    return (
        "목록의 사유 코드 하나를 고르십시오 (비워 두면 기타)",
        "pick one of the codes (none: other)",
    )


def _closest(word: str, choices: Iterable[str]) -> str | None:
    """The choice closest to a misspelt ``word`` (as :func:`naebu.core.problems.did_you_mean`)."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return close[0] if close else None
