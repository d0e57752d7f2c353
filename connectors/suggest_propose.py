"""What ``naebu sources suggest`` proposes besides the column mapping.

``formats`` for dates not in ISO form (:func:`date_format`), value maps for coded columns
(:func:`value_map`), and derived columns (:func:`derive_proposals`) for what an export spreads
over numbered columns (감정평가액1, 감정평가액2...) or writes with a unit (``14일``).
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from naebu.connectors.synonyms import normalise

#: Date layouts proposed as ``formats`` (ISO ``2025-03-12`` needs none).
_DATE_FORMATS = (
    (r"\d{4}-\d{1,2}", "%Y-%m"),  # a month: read as its first day
    (r"\d{4}\.\d{1,2}", "%Y.%m"),
    (r"\d{4}년 \d{1,2}월", "%Y년 %m월"),
    (r"\d{4}년\d{1,2}월", "%Y년%m월"),
    (r"\d{8}", "%Y%m%d"),
    (r"\d{4}\.\d{1,2}\.\d{1,2}", "%Y.%m.%d"),
    (r"\d{4}\. \d{1,2}\. \d{1,2}\.?", None),  # read as is: the dots vary
    (r"\d{4}/\d{1,2}/\d{1,2}", "%Y/%m/%d"),
    (r"\d{2}\.\d{2}\.\d{2}", "%y.%m.%d"),
    (r"\d{2}-\d{2}-\d{2}", "%y-%m-%d"),
    (r"\d{1,2}/\d{1,2}/\d{4}", "%m/%d/%Y"),
    (r"\d{4}년 ?\d{1,2}월 ?\d{1,2}일", None),  # read as is
)


def date_format(values: Sequence[str]) -> str | None:
    """The strptime format every sample value of a date column is in, when not ISO."""
    if not values:
        return None
    for pattern, fmt in _DATE_FORMATS:
        if fmt and all(re.fullmatch(pattern, v) for v in values):
            parsed = pd.to_datetime(pd.Series(list(values)), format=fmt, errors="coerce")
            if parsed.notna().all():
                return fmt
    return None


@dataclass
class ValueGuess:
    """One distinct source value of a coded column and the canonical code it may stand for."""

    value: str
    rows: int
    code: str | None
    score: float
    why: str


_VALUE_NOISE = re.compile(r"[\s_·\-./:~*※#()\[\]{}（）]+")
_BRACKETS = re.compile(r"^(.*?)\s*[(\[（]([^)\]）]*)[)\]）]\s*$")


def value_key(text: str) -> str:
    """A value as compared: NFKC, no spaces or punctuation, bracketed words kept
    (``처리완료(불허)`` -> ``처리완료불허``: the words in brackets often decide the code)."""
    return _VALUE_NOISE.sub("", unicodedata.normalize("NFKC", text)).casefold()


def value_map(
    values: Sequence[str], vocabulary: Sequence[str], variants: dict[str, list[str]]
) -> list[ValueGuess]:
    """Guesses for the distinct ``values`` not already canonical codes (most frequent first).

    A value equal to a code's synonym is sure (0.9); ``X(Y)`` whose Y, else X, is a code or a
    synonym less (``처리완료(불허)`` -> 불허, ``연가(전일)`` -> 연가); then a value containing a
    synonym, then a near spelling; else no guess.
    """
    counts = Counter(unicodedata.normalize("NFKC", v).strip() for v in values)
    lookup = {value_key(code): code for code in vocabulary}
    for code, names in variants.items():
        if code in vocabulary:
            lookup.update({value_key(n): code for n in names})
    out: list[ValueGuess] = []
    for value, rows in counts.most_common():
        if value in vocabulary:
            continue
        out.append(_value_guess(value, rows, lookup))
    return out


def _value_guess(value: str, rows: int, lookup: dict[str, str]) -> ValueGuess:
    key = value_key(value)
    if key in lookup:
        return ValueGuess(value, rows, lookup[key], 0.9, "synonym")
    bracketed = _BRACKETS.match(value)
    if bracketed:
        outer, inner = (value_key(p) for p in bracketed.groups())
        if inner in lookup:
            return ValueGuess(value, rows, lookup[inner], 0.85, f"({bracketed.group(2)})")
        if outer in lookup:
            return ValueGuess(value, rows, lookup[outer], 0.8, f"{bracketed.group(1)}(...)")
    contained = [(len(k), code, k) for k, code in lookup.items() if len(k) >= 2 and k in key]
    if contained:
        _, code, part = max(contained)
        return ValueGuess(value, rows, code, 0.7, f"contains {part}")
    close = difflib.get_close_matches(key, list(lookup), n=1, cutoff=0.6)
    if close:
        return ValueGuess(value, rows, lookup[close[0]], 0.6, f"similar to {close[0]}")
    return ValueGuess(value, rows, None, 0.0, "no guess")


_NUMBERED = re.compile(r"^(.*?\D)\s*\(?(\d{1,2})\)?$")


def numbered_groups(headers: Sequence[str]) -> dict[str, list[str]]:
    """Headers that number one thing several times (감정평가액1, 감정평가액2...), by stem."""
    groups: dict[str, list[str]] = {}
    for header in headers:
        m = _NUMBERED.match(header.strip())
        if m:
            groups.setdefault(m.group(1).strip(), []).append(header)
    return {stem: members for stem, members in groups.items() if len(members) >= 2}


@dataclass
class Derivation:
    """A derived column proposed: ``column = expression`` over ``headers``."""

    column: str
    expression: str
    headers: tuple[str, ...]
    why: str


def name_in_expression(header: str) -> str:
    """A source column as the expression language names it (``column("...")`` when the
    header is not a plain name)."""
    return header if header.isidentifier() else f'column("{header}")'


def derive_proposals(
    headers: Sequence[str],
    dataset: Any,
    templates: Mapping[str, tuple[list[str], str]],
    mapped: set[str],
    values_of: Callable[[str], list[str]],
) -> list[Derivation]:
    """Derived columns for the canonical columns of ``dataset`` no header gave: from a group of
    numbered headers whose stem is one of the template's, or one header whose values are
    numbers written with a unit (``{column}`` in the template)."""
    groups = {normalise(stem): members for stem, members in numbered_groups(headers).items()}
    by_name = {normalise(h): h for h in headers}
    out: list[Derivation] = []
    for key, (stems, template) in templates.items():
        ds_name, _, column = key.partition(".")
        if ds_name != dataset.name or column in mapped or not template:
            continue
        for stem in stems:
            members = groups.get(normalise(stem))
            if members and ("{columns}" in template or "{dates}" in template):
                names = [name_in_expression(h) for h in members]
                expression = template.replace("{columns}", ", ".join(names)).replace(
                    "{dates}", ", ".join(f"to_date({n})" for n in names)
                )
                out.append(
                    Derivation(
                        column,
                        expression,
                        tuple(members),
                        f"{len(members)} numbered columns {stem}N",
                    )
                )
                break
            header = by_name.get(normalise(stem))
            if header and "{column}" in template and values_of(header):
                out.append(
                    Derivation(
                        column,
                        template.replace("{column}", name_in_expression(header)),
                        (header,),
                        f"e.g. {values_of(header)[0]}",
                    )
                )
                break
    return out
