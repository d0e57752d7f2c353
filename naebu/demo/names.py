"""Korean names for people, firms, shops and places, drawn vectorised from fixed pools.

The pools are ordered tuples (never sets) so a seed always yields the same names.
"""

from __future__ import annotations

import numpy as np

CITY = "한빛시"

# Surnames with their approximate share of the population (통계청 인구주택총조사).
SURNAMES: tuple[tuple[str, float], ...] = (
    ("김", 21.5), ("이", 14.7), ("박", 8.4), ("최", 4.7), ("정", 4.3), ("강", 2.3),
    ("조", 2.1), ("윤", 2.1), ("장", 2.0), ("임", 1.7), ("한", 1.5), ("오", 1.5),
    ("서", 1.5), ("신", 1.4), ("권", 1.4), ("황", 1.3), ("안", 1.3), ("송", 1.3),
    ("류", 1.2), ("전", 1.1), ("홍", 1.1), ("고", 0.9), ("문", 0.9), ("양", 0.9),
    ("손", 0.9), ("배", 0.8), ("백", 0.8), ("허", 0.6), ("유", 0.6), ("남", 0.5),
    ("심", 0.5), ("노", 0.5), ("하", 0.5), ("곽", 0.4), ("성", 0.4), ("차", 0.4),
    ("주", 0.4), ("우", 0.4), ("구", 0.4), ("민", 0.3),
)  # fmt: skip

GIVEN_NAMES: tuple[str, ...] = (
    "민준", "서준", "도윤", "예준", "시우", "하준", "지호", "주원", "지후", "준우",
    "준서", "건우", "현우", "우진", "선우", "서진", "민재", "현준", "연우", "유준",
    "정우", "승우", "승현", "시윤", "준혁", "은우", "지환", "승민", "유찬", "윤우",
    "민성", "준영", "시후", "진우", "지훈", "성민", "영수", "영호", "영철", "정호",
    "성호", "상훈", "동현", "재훈", "성훈", "정훈", "상현", "준호", "민수", "경수",
    "광수", "종민", "진호", "태호", "대현", "재원", "병철", "기현", "용준", "형준",
    "수빈", "서연", "서윤", "지우", "서현", "민서", "하은", "하윤", "윤서", "지민",
    "지유", "채원", "지윤", "은서", "수아", "다은", "예은", "지아", "소율", "예린",
    "수민", "은지", "지영", "미영", "정희", "혜진", "은영", "현주", "수정", "민정",
    "지은", "유진", "미경", "선영", "영희", "경희", "혜원", "보람", "소영", "지혜",
    "나연", "다현", "수연", "예진", "은정", "미란", "경숙", "명숙", "혜숙", "주연",
)  # fmt: skip

FIRM_STEMS: tuple[str, ...] = (
    "한빛", "대성", "동양", "미래", "새한", "푸른", "청솔", "한결", "우리", "세종",
    "태평", "금강", "백두", "한라", "삼정", "일신", "신우", "동원", "서광", "대한",
    "진흥", "다온", "하나", "두리", "가온", "누리", "온누리", "새솔", "아름", "늘푸른",
    "태양", "성원", "제일", "명성", "대명", "영진", "국제", "중앙", "한솔", "보광",
)  # fmt: skip

FIRM_TRADES: tuple[str, ...] = (
    "건설", "토건", "종합건설", "전기", "통신", "조경", "산업", "상사", "기술",
    "엔지니어링", "컨설팅", "디자인", "인쇄", "사무기기", "환경", "시스템", "정보기술",
    "기획", "문화", "렌탈", "식품", "안전",
)  # fmt: skip

DONG: tuple[str, ...] = (
    "중앙동", "신흥동", "남산동", "북문동", "동명동", "서원동", "금호동", "대림동",
    "성내동", "월곡동", "송정동", "운암동", "백운동", "청학동", "봉선동", "화정동",
)  # fmt: skip

ROADS: tuple[str, ...] = (
    "시청로", "중앙로", "한빛대로", "문화로", "금남로", "신흥로", "남산길", "서원로",
    "동명로", "월곡로", "송정로", "백운로", "청학길", "봉선로", "화정로", "대림로",
)  # fmt: skip

DISTRICTS: tuple[str, ...] = ("중앙구", "동구", "서구", "남구", "북구")


def pick(rng: np.random.Generator, pool: tuple[str, ...], n: int) -> np.ndarray:
    """``n`` items of ``pool`` drawn uniformly, as a numpy string array."""
    return np.asarray(pool, dtype=object)[rng.integers(0, len(pool), n)]


def person_names(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` Korean full names: a weighted surname and a two-syllable given name."""
    surnames = np.asarray([s for s, _ in SURNAMES], dtype=object)
    weights = np.asarray([w for _, w in SURNAMES], dtype=float)
    sur = surnames[rng.choice(len(surnames), size=n, p=weights / weights.sum())]
    return sur + pick(rng, GIVEN_NAMES, n)


def firm_names(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` trade names such as ``(주)한빛건설`` or ``대성산업``; repeats are possible."""
    base = pick(rng, FIRM_STEMS, n) + pick(rng, FIRM_TRADES, n)
    form = rng.random(n)
    return np.where(form < 0.4, "(주)" + base, np.where(form < 0.6, base + "(주)", base))


def addresses(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` road-name addresses in the demo city."""
    num = rng.integers(1, 300, n).astype(str).astype(object)
    return (f"{CITY} " + pick(rng, DISTRICTS, n) + " " + pick(rng, ROADS, n) + " " + num).astype(
        object
    )


def parcels(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` lot numbers (지번) such as ``신흥동 123-4``."""
    main = rng.integers(1, 900, n).astype(str).astype(object)
    sub = rng.integers(1, 40, n).astype(str).astype(object)
    return pick(rng, DONG, n) + " " + main + "-" + sub


def digits(rng: np.random.Generator, n: int, width: int) -> np.ndarray:
    """``n`` zero-padded random digit strings of ``width``."""
    values = rng.integers(0, 10**width, n)
    return np.char.zfill(values.astype(str), width).astype(object)


def where_or_none(mask: np.ndarray, values: object) -> np.ndarray:
    """``values`` where ``mask`` is set, ``None`` elsewhere (an object array)."""
    out = np.array(values, dtype=object)
    out[~np.asarray(mask, dtype=bool)] = None
    return out


def serial(prefix: str, n: int, width: int) -> np.ndarray:
    """``prefix`` + 1..``n`` zero-padded to ``width`` (``P2025-0000001``), as an object array."""
    return np.array([f"{prefix}{i:0{width}d}" for i in range(1, n + 1)], dtype=object)
