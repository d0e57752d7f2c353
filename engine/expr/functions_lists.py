"""Functions that take a list: phrases to look for, bands of account numbers.

A list argument is a reference list (``lists.NAME``: data the city extends without touching the
rule), a list parameter, a list written in the condition, or every value of another dataset's
column (``accounts.virtual_accounts``, like ``x in DATASET.COLUMN``). The implementation gets
the values as a sequence, not a Series.

- ``contains_any(text, parts)``: whether the text holds one of the phrases, spacing ignored
  (the statutory reduction reasons of ``LEVY-REDUCTION-REPEATED``);
- ``in_account_bands(account, bands)``: whether an account number lies in one of the bands of
  account numbers, written as leading digits or as a range (the per-payer virtual accounts
  that settle into a collection account, ``REV-RECEIPT-OTHER-ACCOUNT``);
- ``in_accounts(account, accounts)`` and ``digits(text)``: account numbers compared by their
  digits, so ``110-123-456789`` and ``110123456789`` are one account whichever way a source
  writes them (a list and a ledger from two systems rarely agree on hyphens).

Registered in :data:`naebu.engine.expr.functions.FUNCTIONS` on import.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .arrow_strings import digits_only, nfkc
from .functions import TEXT, per_distinct, register
from .values import boolean, nulls

#: A list argument of text (an empty list is accepted too, see the checker's list_arg_fits).
TEXT_LIST = frozenset({"list[str]"})

_SPACES = re.compile(r"\s+")
_NOT_DIGIT = re.compile(r"\D")
_BAND_SEPARATORS = re.compile(r"[,;/\n]")


def _squeezed(value: str) -> str:
    """NFKC form without any whitespace: 자진 납부 and 자진납부 read alike."""
    return _SPACES.sub("", unicodedata.normalize("NFKC", value))


def _texts(values: Iterable[Any]) -> list[str]:
    return [v for v in values if isinstance(v, str) and v.strip()]


@register("contains_any", [TEXT, TEXT_LIST], "bool", lists=[1])
def _contains_any(text: pd.Series, parts: Sequence[Any]) -> pd.Series:
    """Whether the text contains one of the phrases of the list, ignoring spaces (자진 납부 and
    자진납부 match) and full-width forms: contains_any(reduction_reason,
    lists.statutory_reduction_reasons). The list is a reference list, a list parameter, a list
    ["...", "..."] or every value of another dataset's column; false for an empty text."""
    wanted = sorted({_squeezed(p) for p in _texts(parts)} - {""})
    if not wanted:
        return boolean(np.zeros(len(text), dtype=bool), text.index)
    return _contains_squeezed(text, re.compile("|".join(re.escape(p) for p in wanted)))


@per_distinct
def _contains_squeezed(text: pd.Series, pattern: re.Pattern[str]) -> pd.Series:
    squeezed = nfkc(text).str.replace(r"\s+", "", regex=True)
    found = squeezed.str.contains(pattern, regex=True)
    return boolean(found.to_numpy(dtype=bool, na_value=False) & ~nulls(text), text.index)


def parse_bands(values: Iterable[Any]) -> tuple[dict[int, set[str]], list[tuple[str, str]]]:
    """Leading digits (by length) and ranges ``(from, to)`` of equal length, read from texts
    such as ``"7901234"``, ``"790-1234-5000-00~790-1234-5999-99"`` or several bands separated
    by commas. Only digits count; a band without digits, or a range whose ends differ in
    length, is left out (it says nothing usable)."""
    prefixes: dict[int, set[str]] = {}
    ranges: list[tuple[str, str]] = []
    for value in _texts(values):
        for band in _BAND_SEPARATORS.split(value):
            low, tilde, high = band.partition("~")
            low, high = _NOT_DIGIT.sub("", low), _NOT_DIGIT.sub("", high)
            if tilde:
                if low and len(low) == len(high):
                    ranges.append((min(low, high), max(low, high)))
            elif low:
                prefixes.setdefault(len(low), set()).add(low)
    return prefixes, ranges


@register("in_account_bands", [TEXT, TEXT_LIST], "bool", lists=[1])
def _in_account_bands(account: pd.Series, bands: Sequence[Any]) -> pd.Series:
    """Whether the account number lies in one of the bands: a band is leading digits
    ("7901234": every account starting so) or a range "FROM~TO" of numbers of one length;
    only digits count, so hyphens and spaces are ignored, and one text may hold several bands
    separated by commas. in_account_bands(account_no, accounts.virtual_accounts): a per-payer
    virtual account of a listed collection account. False for an empty account."""
    prefixes, ranges = parse_bands(bands)
    digits = digits_only(account)
    if digits is None:
        digits = account.str.replace(r"\D", "", regex=True)
    length = digits.str.len().to_numpy(dtype="float64", na_value=np.nan)
    found = np.zeros(len(account), dtype=bool)
    for size, heads in prefixes.items():
        head = digits.str.slice(0, size)
        found |= head.isin(heads).to_numpy(dtype=bool, na_value=False) & (length >= size)
    for low, high in ranges:
        inside = (digits >= low) & (digits <= high)
        found |= inside.to_numpy(dtype=bool, na_value=False) & (length == len(low))
    return boolean(found & ~nulls(account), account.index)


@register("digits", [TEXT], "str")
@per_distinct
def _digits(text: pd.Series) -> pd.Series:
    """The digits of the text, everything else dropped; null when it holds none:
    digits("110-123-456789") gives "110123456789". Compare account numbers written with and
    without hyphens: digits(payee_account) != digits(vendor.account_no)."""
    normal = nfkc(text)
    found = digits_only(normal, empty_as_null=True)
    if found is None:  # not Arrow-backed: pandas' own replace
        found = normal.str.replace(r"\D", "", regex=True)
        found = found.mask(found.str.len() == 0)
    return found


@register("in_accounts", [TEXT, TEXT_LIST], "bool", lists=[1])
def _in_accounts(account: pd.Series, accounts: Sequence[Any]) -> pd.Series:
    """Whether the account number is one of the list's, comparing digits only (hyphens,
    spaces and full-width digits ignored): in_accounts(account_no, accounts.account_no) is true
    for "3170001399011" when the list holds "317-0001-3990-11". False for an empty account."""
    wanted = {_NOT_DIGIT.sub("", unicodedata.normalize("NFKC", v)) for v in _texts(accounts)}
    wanted.discard("")
    digits = _digits(account)
    found = digits.isin(wanted).to_numpy(dtype=bool, na_value=False)
    return boolean(found & ~nulls(account), account.index)
