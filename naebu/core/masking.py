"""Masking of personal data in everything that leaves the system as a notification.

개인정보 보호법 and the 행정안전부 guidance on masking ask that notifications do not carry
resident registration numbers, full bank account numbers or full phone numbers. Alerts keep
the full evidence in the store (auditors need it); mail, messenger and webhook text is masked
here, after rendering, so no template or rule can forget it.

- 주민등록번호 / 외국인등록번호 ``900101-1234567`` -> ``900101-1******``
- 전화번호 ``010-1234-5678`` -> ``010-****-5678``, ``02-123-4567`` -> ``02-***-4567``
- 계좌번호 ``110-123-456789`` -> ``***-***-**6789`` (the last 4 digits stay visible)

Text patterns cannot know every account format, so :func:`mask_value` also masks whole
values by field name (``account_no``, ``payee_account``, ``phone``...) whatever their shape.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from itertools import islice
from typing import Any

MASK = "*"

# Boundaries: not glued to other digits, letters or hyphens, so ids such as C-2025-0001
# or 2025-01-28 are not mistaken for numbers to hide. The start is tested after the first
# digit is matched (``\d(?<![\w-]\d)``: the character before that digit is no letter, digit
# or hyphen), which is the same test as a look-behind in front, but a pattern that starts
# with a digit (or a "0") lets ``re`` skip straight to the next one instead of trying every
# position of a digest tens of thousands of characters long.
_B_DIGIT = r"\d(?<![\w-]\d)"
_B_ZERO = r"0(?<![\w-]0)"
_E = r"(?![\w-])"

# 주민등록번호: birth date YYMMDD, a gender/century digit 1-8, six more digits. Without a
# hyphen the birth date must look like a date, to spare other 13-digit numbers.
_RRN = re.compile(
    r"(?P<birth>"
    + _B_DIGIT
    + r"\d(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01]))"
    + r"(?P<sep>\s?[-–]\s?|)"
    + r"(?P<g>[1-8])\d{6}"
    + _E
)

# Mobile numbers (01x), with or without separators; land lines (02, 0[3-6][1-5]) and
# 070/050x/080 only with separators. Every one starts with the "0" before the groups.
_PHONE = re.compile(
    _B_ZERO
    + r"(?:(?P<a>1[016789])(?P<s1>[-. ]?)(?P<b>\d{3,4})(?P<s2>[-. ]?)(?P<c>\d{4})"
    + _E
    + r"|(?P<la>2|[3-6][1-5]|70|50\d|80)(?P<ls1>[-. )])(?P<lb>\d{3,4})(?P<ls2>[-. ])(?P<lc>\d{4})"
    + _E
    + ")"
)

# Hyphenated digit groups of 10 to 16 digits in total: bank accounts (110-123-456789,
# 1002-123-456789, 123456-01-234567, 352-1234-5678-93...).
_GROUPS = re.compile(_B_DIGIT + r"\d*(?:-\d+){1,4}" + _E)

# 사업자등록번호 (123-45-67890) is public business data that auditors search by: left alone.
_BUSINESS_NO = re.compile(r"\d{3}-\d{2}-\d{5}")

# An unhyphenated run of digits is only taken for an account when it is labelled as one.
_LABELLED_ACCOUNT = re.compile(
    r"(?P<label>(?:계좌(?:번호)?|account(?:\s*(?:no\.?|number))?)\s*[:：]?\s*)(?P<num>\d{10,16})"
    + _E,
    re.IGNORECASE,
)

#: Field names whose whole value is masked as an account number (keep the last 4 digits).
ACCOUNT_FIELDS = frozenset(
    {"account_no", "payee_account", "account", "bank_account", "계좌번호", "계좌"}
)
#: Field names whose whole value is masked as a phone number.
PHONE_FIELDS = frozenset({"phone", "mobile", "tel", "phone_no", "전화번호", "휴대전화"})
#: Field names whose whole value is masked as a resident registration number.
RRN_FIELDS = frozenset({"rrn", "resident_no", "resident_id", "주민등록번호"})


#: The shortest number masked here: a Seoul land line, 02-123-4567 (nine digits).
_FEWEST_DIGITS = 9


def _stars(digits: str) -> str:
    return MASK * len(digits)


def _mask_rrn(m: re.Match[str]) -> str:
    sep = m.group("sep") or "-"
    return f"{m.group('birth')}{sep}{m.group('g')}{MASK * 6}"


def _mask_phone(m: re.Match[str]) -> str:
    # The leading "0" is matched outside the groups (see _PHONE).
    if m.group("a") is not None:
        head, s1, middle, s2, tail = m.group("a", "s1", "b", "s2", "c")
    else:
        head, s1, middle, s2, tail = m.group("la", "ls1", "lb", "ls2", "lc")
    return "0" + head + s1 + _stars(middle) + s2 + tail


def mask_account(value: str) -> str:
    """Hide every digit of an account number but the last 4, keeping its separators.

    >>> mask_account("110-123-456789")
    '***-***-**6789'
    """
    total = sum(ch.isdigit() for ch in value)
    keep = 4 if total > 4 else 0
    out = []
    seen = 0
    for ch in value:
        if ch.isdigit():
            seen += 1
            out.append(ch if seen > total - keep else MASK)
        else:
            out.append(ch)
    return "".join(out)


def _mask_groups(m: re.Match[str]) -> str:
    text = m.group(0)
    digits = len(text) - text.count("-")  # the match is digits and hyphens only
    if not 10 <= digits <= 16 or _BUSINESS_NO.fullmatch(text):
        return text
    return mask_account(text)


def _mask_labelled(m: re.Match[str]) -> str:
    return m.group("label") + mask_account(m.group("num"))


def mask_text(text: str) -> str:
    """Mask resident registration, phone and account numbers anywhere in ``text``.

    >>> mask_text("주민번호 900101-1234567, 연락처 010-1234-5678, 계좌 110-123-456789")
    '주민번호 900101-1******, 연락처 010-****-5678, 계좌 ***-***-**6789'
    """
    if not text or len(list(islice(filter(str.isdigit, text), _FEWEST_DIGITS))) < _FEWEST_DIGITS:
        return text  # most evidence text (names, purposes) holds no number to hide
    # Order matters: a labelled account number goes first (its 13 digits can look like an
    # RRN); an RRN goes before the digit groups, which would mask it as an account and leave
    # its last 4 digits readable.
    text = _LABELLED_ACCOUNT.sub(_mask_labelled, text)
    text = _RRN.sub(_mask_rrn, text)
    text = _PHONE.sub(_mask_phone, text)
    return _GROUPS.sub(_mask_groups, text)


#: Where :func:`mask_document` may cut a text: at a newline that no masked number can run
#: across. Not after whitespace, a colon or a label word (a labelled account number's label
#: may stand before a line break and its digits after: the label's ``\s*``), and not between
#: two digits or dashes (a resident number's ``\s?[-–]\s?`` may be a line break). Wider than
#: needed on purpose ("no" alone, any whitespace): a line break it keeps is merely not cut at.
#: The other patterns hold no whitespace but single spaces, and their boundaries treat a line
#: break as they treat a text's edge (not a letter, digit or hyphen).
_CUT = re.compile(
    r"\n(?<![\s:：]\n)(?<!계좌\n)(?<!번호\n)"
    r"(?i:(?<!no\n)(?<!no\.\n)(?<!number\n)(?<!account\n))"
    r"(?!(?<=[\d\-–]\n)[\d\-–])"
)
#: Pieces of documents masked once each when the caller keeps no cache of its own (a
#: notice's lines repeat from one message to the next).
_PIECES = 16384


def mask_document(text: str, cache: dict[str, str] | None = None) -> str:
    """:func:`mask_text` of a long text, piece by piece, each distinct piece masked once.

    Pieces part at line breaks no masked number can run across (:data:`_CUT`): the result
    is exactly :func:`mask_text` of the whole. A digest repeats the same lines (an alert's
    evidence to its official, their manager and the auditors; the rules' explanations to
    everyone), so a caller masking many documents passes ``cache`` (piece -> masked piece,
    kept as long as the caller keeps it); without it a bounded cache of this module is used.
    """
    if "\n" not in text:
        return mask_text(text)
    if cache is None:
        return "\n".join(map(_mask_piece, _CUT.split(text)))
    out = []
    for piece in _CUT.split(text):
        masked = cache.get(piece)
        if masked is None:
            masked = cache[piece] = mask_text(piece)
        out.append(masked)
    return "\n".join(out)


@lru_cache(maxsize=_PIECES)
def _mask_piece(piece: str) -> str:
    return mask_text(piece)


def mask_value(field: str, value: Any) -> Any:
    """Mask one evidence value, by its field name first and then by its text.

    Non-text values (amounts, dates, flags) are returned unchanged unless the field is
    sensitive; a sensitive field is masked whatever its shape.
    """
    if value is None:
        return None
    key = field.strip().lower()
    if key in ACCOUNT_FIELDS:
        return mask_account(str(value))
    if key in PHONE_FIELDS:
        text = str(value)
        masked = mask_text(text)
        return masked if masked != text else mask_account(text)
    if key in RRN_FIELDS:
        text = str(value)
        masked = mask_text(text)
        return masked if masked != text else MASK * len(text)
    if isinstance(value, str):
        return mask_text(value)
    return value


def mask_mapping(values: Mapping[str, Any]) -> dict[str, Any]:
    """:func:`mask_value` applied to every item of an evidence mapping."""
    return {k: mask_value(str(k), v) for k, v in values.items()}
