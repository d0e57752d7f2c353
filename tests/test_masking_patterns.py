"""The masking patterns mask exactly what their plain reading says.

:mod:`naebu.core.masking` writes its patterns so that ``re`` can skip to the next digit (the
start boundary is tested after a number's first digit). Here the patterns are written the
plain way, with the boundary in front, and both are run on many generated texts full of
near-misses: hyphens, dashes, dots, spaces, newlines, letters, Korean labels. They must
agree on every text.
"""

from __future__ import annotations

import random
import re

import pytest

from naebu.core import masking
from naebu.core.masking import mask_text

_B = r"(?<![\w-])"
_E = r"(?![\w-])"

PLAIN_RRN = re.compile(
    _B
    + r"(?P<birth>\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01]))"
    + r"(?P<sep>\s?[-–]\s?|)"
    + r"(?P<g>[1-8])\d{6}"
    + _E
)
PLAIN_PHONE = re.compile(
    _B
    + r"(?P<a>01[016789])(?P<s1>[-. ]?)(?P<b>\d{3,4})(?P<s2>[-. ]?)(?P<c>\d{4})"
    + _E
    + "|"
    + _B
    + r"(?P<la>02|0[3-6][1-5]|070|050\d|080)(?P<ls1>[-. )])(?P<lb>\d{3,4})(?P<ls2>[-. ])(?P<lc>\d{4})"
    + _E
)
PLAIN_GROUPS = re.compile(_B + r"\d+(?:-\d+){1,4}" + _E)


def _plain_phone(m: re.Match[str]) -> str:
    stars = masking.MASK
    if m.group("a") is not None:
        return m.group("a") + m.group("s1") + stars * len(m.group("b")) + m.group("s2") + m["c"]
    return m.group("la") + m.group("ls1") + stars * len(m.group("lb")) + m.group("ls2") + m["lc"]


def plain_mask_text(text: str) -> str:
    """:func:`naebu.core.masking.mask_text` with the patterns written the plain way."""
    if not text or sum(map(str.isdigit, text)) < 9:
        return text
    text = masking._LABELLED_ACCOUNT.sub(masking._mask_labelled, text)
    text = PLAIN_RRN.sub(masking._mask_rrn, text)
    text = PLAIN_PHONE.sub(_plain_phone, text)
    return PLAIN_GROUPS.sub(masking._mask_groups, text)


# Pieces texts are made of: digits most of all, and every character a boundary looks at.
PIECES = [
    *"0123456789" * 6,
    *"0101020310700500800",
    "-",
    "-",
    "–",
    " ",
    " ",
    "\n",
    ".",
    ")",
    "(",
    ":",
    "：",
    "_",
    "a",
    "Z",
    "가",
    "*",
    "계좌",
    "계좌번호",
    "account no.",
    "Account number: ",
    "900101",
    "-1",
    "010",
    "02-",
    "110-123-",
    "123-45-67890",
    "٣",  # an Arabic-Indic digit: \d in str patterns
    "²",  # a superscript: isdigit() but not \d
]


def _texts(seed: int, count: int) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choices(PIECES, k=rng.randint(0, 40))) for _ in range(count)]


@pytest.mark.parametrize("seed", range(8))
def test_patterns_agree_with_their_plain_reading(seed: int) -> None:
    for text in _texts(seed, 5_000):
        assert mask_text(text) == plain_mask_text(text), repr(text)


def test_known_numbers_agree() -> None:
    samples = [
        "주민번호 900101-1234567, 연락처 010-1234-5678, 계좌 110-123-456789",
        "0101234567801012345678 010-1234-5678-9 x010 1234 5678 (02)123-4567 02)123-4567",
        "-010-1234-5678 _02-123-4567 a031-123-4567 0505-123-4567 070.1234.5678 080-123-4567",
        "C-2025-0001 2025-01-28 123-45-67890 352-1234-5678-93 1002-123-456789 1-2-3-4-5-6",
        "9001011234567 900101 - 1234567 900101–2234567 991332-1234567 000101-9234567",
        "계좌번호: 1234567890123 account no. 12345678901 ACCOUNT：1234567890",
    ]
    for text in samples:
        assert mask_text(text) == plain_mask_text(text), text
        assert mask_text(text) != text


def _documents(seed: int, count: int) -> list[str]:
    """Texts of blocks parted by blank lines (and runs of them), built from the same pieces,
    often with a label just before a blank line and digits just after."""
    rng = random.Random(seed)
    edges = ["계좌", "계좌번호:", "account", "Account No.", "number ：", "no", ":", " ", "\n", ""]
    docs = []
    for _ in range(count):
        blocks = []
        for _ in range(rng.randint(1, 6)):
            block = "".join(rng.choices(PIECES, k=rng.randint(0, 25)))
            blocks.append(block + rng.choice(edges) + " " * rng.randint(0, 2))
        docs.append(rng.choice(["\n\n", "\n\n\n", "\n \n"]).join(blocks))
    return docs


@pytest.mark.parametrize("seed", range(4))
def test_a_document_masked_block_by_block_is_masked_whole(seed: int) -> None:
    for text in _documents(seed, 5_000):
        assert masking.mask_document(text) == mask_text(text), repr(text)


def _lined_documents(seed: int, count: int) -> list[str]:
    """Texts of lines, often with a label, a number's head or a dash at a line's end and a
    number's tail at the next line's start: what :func:`masking.mask_document` must not cut."""
    rng = random.Random(seed)
    ends = ["계좌", "계좌번호:", "account", "Account No.", "number ：", "no", ":", " ", "", "\t"]
    ends += ["900101", "900101-", "900101 -", "900101–", "010-1234", "110-123", "٣", "5", "-"]
    starts = ["", "-1234567", "–2234567", " -1234567", "1234567", "- 1234567", "-5678", "12"]
    starts += ["1234567890123", " 1234567890", "٣٣٣٣٣٣٣", "\n", "\n1234567890"]
    docs = []
    for _ in range(count):
        lines = []
        for _ in range(rng.randint(1, 8)):
            line = "".join(rng.choices(PIECES, k=rng.randint(0, 12)))
            lines.append(rng.choice(starts) + line + rng.choice(ends))
        docs.append("\n".join(lines))
    return docs


@pytest.mark.parametrize("seed", range(4))
def test_a_document_masked_line_by_line_is_masked_whole(seed: int) -> None:
    cache: dict[str, str] = {}
    for text in _lined_documents(seed, 5_000):
        expected = mask_text(text)
        assert masking.mask_document(text) == expected, repr(text)
        assert masking.mask_document(text, cache) == expected, repr(text)


def test_a_document_masks_each_distinct_piece_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Lines repeated across documents (an alert told to several officials) are masked once."""
    seen: list[str] = []
    real = masking.mask_text

    def counting(text: str) -> str:
        seen.append(text)
        return real(text)

    monkeypatch.setattr(masking, "mask_text", counting)
    rows = [f"<li>계좌: 110-123-{n:06d}</li>" for n in range(5)]
    cache: dict[str, str] = {}
    docs = ["\n".join(["<p>안녕하십니까</p>", *rows[:k], "<p>끝</p>"]) for k in range(1, 6)]
    masked = [masking.mask_document(doc, cache) for doc in docs]
    assert masked == [real(doc) for doc in docs]
    assert "110-123-000004" not in masked[-1]
    assert sorted(seen) == sorted({"<p>안녕하십니까</p>", *rows, "<p>끝</p>"})


def test_a_labelled_number_across_a_blank_line_is_masked() -> None:
    for label in ("계좌번호:", "account no.", "ACCOUNT", "계좌 ：", "account number"):
        text = f"첫 블록\n\n{label}\n\n1234567890123\n\n다음 블록 010-1234-5678"
        masked = masking.mask_document(text)
        assert masked == mask_text(text)
        assert "1234567890123" not in masked and "1234-5678" not in masked
