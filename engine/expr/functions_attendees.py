"""``attendee_count(text)``: the number of people an attendee text (대상인원) names.

Registered in :data:`naebu.engine.expr.functions.FUNCTIONS` on import. Officials write attendees in
words, and the per-person rule (CARD-PERPERSON) divides the amount by the count; the first
number followed by 명 is wrong for the commonest shapes (``과장 외 2명`` is three people).
The rules below were read off the real disclosures (36,452 attendee texts of Seoul city,
2017-2018, and the five Seoul districts' 사용자/사용목적 texts, ../shared/data/real):

1. A text that names a 경조사 (경조사비, 부의금, 조의금, 축의금, 결혼, 화환, 근조, 부고) lists the
   recipients of a congratulatory or condolence payment, not people served: not a count.
2. A stated total wins: ``총 8명``, ``계 5명``, ``합계 12명``, or a count that opens the text
   (``6명 평생교육과장, ... 외 3명``).
3. Otherwise the text is cut into parts at ``,`` ``、`` ``/`` ``;`` ``·`` and ``및``, and at
   each count inside a part; a parenthesized remark without a count (``(10시 회의)``) is
   dropped. Each count is a number followed by 명, 인 (not 인가구) or 여 명, or a bare number
   at the end of a part or written onto a word (``과장외7``, ``중앙회관계자3, 실무자2``):

   - ``X 외 N명`` is N others besides X: N + 1 (``과장 외 2명`` -> 3);
   - ``X, Y 등 N명`` is N in all, X and Y among them (``감사위원장, 감사총괄팀장 등 8명`` -> 8);
   - a plain count adds N (``직원 9명, 민원인 3명`` -> 12);
   - a part without a number (a title or a name) next to counts is one person
     (``동장 및 동주민센터 직원 9명`` -> 10), unless a following ``등 N명`` takes it in.
4. A text with no count at all is not a count (``비상기획관, 김ㅇㅇ주무관``, ``사업관계자 및
   직원``): a list of names is read as people only when a number says how many, because the
   same shape names groups of unknown size.

=========================================================  =======
text                                                       count
=========================================================  =======
``행정팀장 등 3명``                                          3
``과장 외 2명 (10시 회의)``                                  3
``가족담당관외 15명``                                        16
``가공식품팀장, 외식업 중앙회관계자3, 실무자2``               6
``과장외7``                                                 8
``직원 9명, 민원인 3명``                                     12
``등 5명``                                                  5
``감사위원장, 감사총괄팀장 등 8명``                          8
``기획담당관 외 29명, 조직담당관 외 26명``                   57
``동장 및 동주민센터 직원 9명``                              10
``직능단체장 5명, 동장``                                     6
``총8명(자활정책팀장외7명)``                                 8
``6명 평생교육과장, 평생교육기획팀장, 박용성 주무관 외 3명``   6
``인권담당관 외 6인``                                        7
``사회적경제담당관 등 10여 명``                              10
``경조사비 지급(김OO 외6명)``                                none
``1인가구 지원사업 간담회``                                  none
``상수도사업본부 직원격려``                                  none
``재무과 직원 4먕`` (a typo)                                 none
=========================================================  =======
"""

from __future__ import annotations

import re
import unicodedata

import pandas as pd

from .functions import TEXT, per_distinct, register

#: Words of a 경조사 payment: the names in the text are its recipients, not people served.
#: Whole words only: 환경조정 holds 경조, 협조의 holds 조의, 정부의 holds 부의.
NOT_A_COUNT = re.compile(r"경조사|경조비|경조금|부의금|조의금|축의금|결혼|화환|근조|부고")
_N = r"(\d[\d,]*)\s*(?:여\s*)?"
#: The counter: 명 (not 명단, 명절...), or 인 not followed by a word (1인가구, 1인 창조기업).
_PEOPLE = r"(?:명(?![단절칭함예])|인(?!\s*[가-힣]))"
#: A stated total: 총 8명, 계 5명, 합계 12명.
_TOTAL = re.compile(r"(?:총|합계|[^가-힣]계|^계|=)\s*:?\s*" + _N + _PEOPLE)
#: A count opening the text: "6명 평생교육과장, ...".
_LEADING = re.compile(r"^\s*" + _N + _PEOPLE)
#: A count inside a part: a number followed by 명 (not 명단, 명절...) or by 인 (not 인가구),
#: or a bare number ending the part or written onto a word (관계자3 실무자1; not 외1, 제2).
_COUNT = re.compile(_N + _PEOPLE + r"|(?<=[가-힣])(?<![외제])(\d+)(?=\s)|(\d+)\s*$")
_PARTS = re.compile(r"(?<!\d),|,(?!\d)|[、/;·]|및")  # not the comma of 1,200
#: 외 and 등 as words: followed by a space, a digit or nothing (외식업, 등록 are not).
_BESIDES = re.compile(r"(?<![해내])외(?=[\s\d]|$)")
_AMONG = re.compile(r"등(?=[\s\d]|$)")


def _remark(match: re.Match[str]) -> str:
    """A parenthesized part: kept (as plain text) when it holds a count, else dropped."""
    inner = match.group(0)[1:-1]
    return f" {inner} " if _COUNT.search(inner) else " "


def count_attendees(text: str | None) -> int | None:
    """How many people the attendee text names, or None when it is not a count (see the
    module's rules and table)."""
    if text is None:
        return None
    t = unicodedata.normalize("NFKC", str(text)).strip()
    if not t or NOT_A_COUNT.search(t):
        return None
    for stated in (_TOTAL.search(t), _LEADING.match(t)):
        if stated:
            return int(stated.group(1).replace(",", ""))
    t = re.sub(r"\([^()]*\)", _remark, t).replace("(", " ").replace(")", " ")
    total = 0
    pending = 0  # parts without a number: one person each, unless an 등 N명 takes them in
    counted = False
    for part in _PARTS.split(t):
        part = part.strip()
        start = 0
        found = False
        for m in _COUNT.finditer(part):
            number = int(next(g for g in m.groups() if g).replace(",", ""))
            lead = part[start : m.start()]
            start = m.end()
            found = counted = True
            besides = list(_BESIDES.finditer(lead))
            if besides:
                named = lead[: besides[-1].start()].strip()
                total += number + (1 if named else 0)
            elif _AMONG.search(lead):
                total += number
                pending = 0
            else:
                total += number
        if not found and part:
            pending += 1
    return total + pending if counted else None


@register("attendee_count", [TEXT], "int")
@per_distinct
def _attendee_count(text: pd.Series) -> pd.Series:
    """How many people an attendee text (대상인원) names, or null when it is not a count:
    "과장 외 2명" is 3 (외: besides the one named), "팀장 등 5명" is 5 (등: in all),
    "직원 9명, 민원인 3명" is 12, "동장 및 직원 9명" is 10; a stated total wins ("총 8명");
    a text naming a 경조사 (부의금, 축의금, 결혼, 화환...) lists recipients, not a count; a text with
    no number of people is not a count. The full rules: docs/rules.md, "Counting attendees".
    """
    values = [count_attendees(v) if isinstance(v, str) else None for v in text.tolist()]
    return pd.Series(values, index=text.index, dtype="float64")
