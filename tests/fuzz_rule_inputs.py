"""Hostile rule files for tests/test_fuzz_hostile.py, generated deterministically from the
pack's ``[[rule]]`` tables: cut, keys deleted, values of another type, deep nesting, long
chains, huge numbers, odd unicode, invalid or catastrophic regexes, bad expressions and
templates, other encodings.

Run as a script (``python tests/fuzz_rule_inputs.py FOLDER``) it loads every rule case under
``FOLDER`` the way ``naebu check`` does and prints one JSON line per case: the test runs it in
a child process, so a hang or a blown memory limit fails that test, not the suite.
"""

from __future__ import annotations

import functools
import random
import re
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# -- hostile rule files ------------------------------------------------------------------------

#: Pack files the rule cases are loaded next to (they must keep loading), and the lists the
#: pack's rules name.
GOOD_RULES = ["payments/approval.toml", "cards/lists/restricted_merchant_categories.toml",
              "property/lists/sole_source_grounds.toml"]  # fmt: skip
_LINE = re.compile(r"^([A-Za-z_][\w.]*)\s*=\s*(.*)$")


@functools.lru_cache(maxsize=1)
def pack_rule_blocks() -> list[str]:
    """Every ``[[rule]]`` table of the pack, with its examples and lookalikes, as text."""
    blocks: list[str] = []
    for path in sorted((ROOT / "rules").rglob("*.toml")):
        text = path.read_text(encoding="utf-8")
        parts = re.split(r"(?m)^(?=\[\[rule\]\])", text)
        blocks.extend(p for p in parts if p.startswith("[[rule]]"))
    return blocks


_SWAPS = ["1", '"x"', "true", "[1, 2]", "{ a = 1 }", "1979-05-27", "nan", "inf", "-1", '""',
          "[]", "{}", "9223372036854775807", "-9223372036854775808", "0.0", '"\\u0000"',
          "[[[]]]", '{ when = "amount > 0" }', "1e308", "'''\n'''"]  # fmt: skip
_REGEXES = ["(", "(a+)+$", "a{99999999}", "[z-a]", "(?P<", "\\\\", "(?i", "x**", "(a|aa)*b",
            "((((((((((a*)*)*)*)*)*)*)*)*)*)", "(?=a)*", "a{1000}{1000}{1000}",
            "|".join(f"w{i}" for i in range(3000)), "\\\\p{Hangul}", "(?<=a+)b", "\\\\1",
            "(.*a){30}", "[" * 500, "(?x) # comment", "\\\\N{BOGUS}",
            # Python's re takes these, Arrow's RE2 (what pandas runs) does not:
            "a{1001}", "x\\\\Z", "(?>ab)", "a++", "b*+", "(?x) a b"]  # fmt: skip
_EXPRS = ["amount >", "== == ==", "amount > 1 and", "(((amount)", "amount)) > 1", "nope(amount)",
          "no_column > 1", "params.nope > 1", "lists.nope", "amount / 0 > 1", "1/0 > 0",
          '"a" * 9999999999 == ""', "amount ** 99999 > 1", "amount > 1e99999", "-" * 5000 + "1",
          "not " * 5000 + "true", "amount in [" + ",".join(["1"] * 20000) + "]",
          "abs(" * 300 + "amount" + ")" * 300 + " > 0", "__import__('os')", "amount.__class__",
          "lambda: 1", "amount > 1 if true else 0", "amount[0] > 1", "{amount} > 1",
          "amount >= params.limit ** params.limit", "count() > 1", "sum(sum(amount)) > 1",
          "amount > １００", "amount\u200b > 1", "amount > 0x10", "amount > 1_000", "\x00",
          "hour(approved_time) > 99999999999999999999", "amount ~= 1", "amount <> 1"]  # fmt: skip
_TEMPLATES = ["{amount:>999999999}", "{amount:,.99999f}", "{amount.__class__}", "{0}", "{",
              "}", "{amount!r}", "{amount:%Y}", "{group.nope}", "{params}", "{{{{{", "{amount[0]}",
              "{" * 2000, "{amount:" + "9" * 5000 + "}", "{a" * 1000]  # fmt: skip
_UNICODE = ["\u202e", "\u200b", "\u0301" * 50, "🙂", "\u3164", "Ａ", "\ufeff", "ｉｄ", "\u2028",
            "\\u0000", "\\ud800", "\\U0010FFFF", "\x7f", "\u00a0"]  # fmt: skip


def _swap_line(block: str, rng: random.Random, value: Callable[[str], str]) -> str:
    """``block`` with the value of one ``key = value`` line replaced by ``value(key)``."""
    lines = block.split("\n")
    keyed = [i for i, line in enumerate(lines) if _LINE.match(line)]
    if not keyed:
        return block + "\nx = " + value("x")
    i = rng.choice(keyed)
    key = _LINE.match(lines[i]).group(1)  # type: ignore[union-attr]
    lines[i] = f"{key} = {value(key)}"
    return "\n".join(lines)


def set_key(block: str, key: str, value: str) -> str:
    """``block`` with the rule's ``key`` (first table) set to ``value`` (TOML text)."""
    head, sep, tail = block.partition("\n[[rule.")
    lines = [line for line in head.split("\n") if not re.match(rf"^{re.escape(key)}\s*=", line)]
    lines.insert(1, f"{key} = {value}")
    return "\n".join(lines) + sep + tail


def _quoted(text: str) -> str:
    return "'''" + text.replace("'''", "") + "'''" if "\n" not in text else '"""' + text + '"""'


def _rule_case(block: str, rng: random.Random) -> tuple[str, bytes]:
    kind = rng.randrange(15)
    if kind == 0:
        return "cut", block[: rng.randrange(len(block))].encode()
    if kind == 1:  # lines deleted (keys, table headers)
        lines = block.split("\n")
        for _ in range(rng.randint(1, 4)):
            if len(lines) > 1:
                del lines[rng.randrange(len(lines))]
        return "dropkey", "\n".join(lines).encode()
    if kind == 2:
        return "swap", _swap_line(block, rng, lambda _k: rng.choice(_SWAPS)).encode()
    if kind == 3:  # deep nesting, of lists or inline tables
        depth = rng.choice([33, 100, 500, 1000, 5000])
        nest = rng.choice(["[" * depth + "]" * depth, "{ a = " * depth + "1" + " }" * depth])
        return "deep", _swap_line(block, rng, lambda _k: nest).encode()
    if kind == 4:  # long chains in the condition
        n = rng.choice([400, 1000, 3000])
        term = rng.choice(['merchant_name == "가맹점{i}"', "amount != {i}", "amount > {i}"])
        op = rng.choice([" or ", " and ", " + "])
        chain = op.join(term.format(i=i) for i in range(n))
        if rng.random() < 0.3:
            chain = "(" * n + "amount" + ")" * n + " > 0"
        return "chain", set_key(block, "when", _quoted(chain)).encode()
    if kind == 5:  # huge numbers
        digits = "9" * rng.choice([400, 5000, 100_000])
        where = rng.choice(["when", "deadline_days", "params", "swap"])
        if where == "when":
            return "bignum", set_key(block, "when", _quoted("amount > " + digits)).encode()
        if where == "params":
            return "bignum", set_key(block, "params", f"{{ limit = {digits} }}").encode()
        if where == "deadline_days":
            value = rng.choice([digits, "10_000_000", "-1", "0", "3651", "1.5", '"10"'])
            return "bignum", set_key(block, "deadline_days", value).encode()
        return "bignum", _swap_line(block, rng, lambda _k: digits).encode()
    if kind == 6:  # odd unicode spliced in anywhere
        text = block
        for _ in range(rng.randint(1, 5)):
            at = rng.randrange(len(text))
            text = text[:at] + rng.choice(_UNICODE) + text[at:]
        return "unicode", text.encode("utf-8", errors="surrogatepass")
    if kind == 7:  # invalid or catastrophic regexes, in a card rule (merchant_name exists)
        pattern = rng.choice(_REGEXES)
        block = rng.choice(
            [b for b in pack_rule_blocks() if 'type = "match"' in b and "CARD-" in b]
        )
        if "params.name_keywords" in block and rng.random() < 0.5:
            return "regex", set_key(block, "params", f'{{ name_keywords = "{pattern}" }}').encode()
        when = f'matches(merchant_name, "{pattern}")'
        return "regex", set_key(block, "when", _quoted(when)).encode()
    if kind == 8:  # bad expressions
        key = rng.choice(["when", "having", "value", "distinct", "within", "window", "by"])
        return "expr", set_key(block, key, _quoted(rng.choice(_EXPRS))).encode()
    if kind == 9:  # hostile message templates
        return "template", set_key(block, "message", _quoted(rng.choice(_TEMPLATES))).encode()
    if kind == 10:  # other encodings
        enc = rng.choice(["utf-16", "utf-16-le", "cp949", "latin-1", "utf-8-sig", "utf-32"])
        data = block.encode(enc, errors="replace")
        return "encoding", (b"\xef\xbb\xbf" + data) if rng.random() < 0.2 else data
    if kind == 11:  # nothing, or nearly
        return "empty", rng.choice(
            [b"", b"\xef\xbb\xbf", b"   \n\t\n", b"# only a comment\n", b"\x00", b"[[rule]]\n",
             b"[[rule.example]]\n", b"rule = 3\n", b"[list]\n", b"\xef\xbb\xbf\xef\xbb\xbf"]
        )  # fmt: skip
    if kind == 12:  # examples and lookalikes with odd records
        record = rng.choice(["{ amount = " + "9" * 400 + " }", "{ amount = nan }", "3",
                             '{ approved_date = "2025-02-30" }', "{ amount = { a = 1 } }",
                             '{ "" = 1 }', "[]", '{ amount = "1" }', "{ amount = inf }",
                             "{ approved_date = 1979-05-27T07:32:00Z }"])  # fmt: skip
        extra = rng.choice([f"\n[[rule.example]]\nfires = true\nrecord = {record}\n",
                            f'\n[[rule.example]]\nfires = "yes"\nrecord = {record}\n',
                            '\n[[rule.lookalike]]\npractice = 1\nexamples = ["nope"]\n',
                            "\n[[rule.lookalike]]\n", "\n[rule.fallback]\nwhen = 3\n"])  # fmt: skip
        return "example", (block + extra).encode()
    if kind == 13:  # windows and durations
        value = rng.choice(['"99999999999d"', '"P1000000Y"', '"-1d"', '"0d"', '"1e9d"', '"day"',
                            '"9' + "9" * 400 + 'd"', '"month month"', "30"])  # fmt: skip
        key = rng.choice(["window", "within", "lookback", "window_days"])
        return "window", set_key(block, key, value).encode()
    # Several mutations at once, and the same id as a good rule (a duplicate).
    text = set_key(block, "id", rng.choice(['"PAY-SELF-APPROVAL"', '"bad id"', "1", '"X"']))
    text = _swap_line(text, rng, lambda _k: rng.choice(_SWAPS))
    return "mixed", text.encode()


def hostile_rules(seed: int, count: int) -> list[tuple[str, bytes]]:
    """``count`` distinct hostile rule files: (file name, content)."""
    rng = random.Random(seed)
    blocks = pack_rule_blocks()
    out: list[tuple[str, bytes]] = []
    seen: set[bytes] = set()
    while len(out) < count:
        kind, data = _rule_case(rng.choice(blocks), rng)
        if data in seen:
            continue
        seen.add(data)
        out.append((f"r{len(out):03d}_{kind}.toml", data))
    return out


def check_rule_cases(folder: Path) -> None:
    """Load each case folder under ``folder`` as ``naebu check`` does; one JSON line each
    (ASCII: a problem may quote a line separator such as U+2028 from the file).

    A case folder holds the good pack files (:data:`GOOD_RULES`) and one hostile file. The
    line says how long the case took, the problems, which rules loaded, and whether the good
    files' rules all loaded; an exception escaping the loader is reported (then re-raised).
    """
    import json
    import time

    from naebu.engine.examples import run_examples
    from naebu.engine.loader import load_rules

    good_ids = set(good_rule_ids())
    for case in sorted(p for p in folder.iterdir() if p.is_dir()):
        print(json.dumps({"start": case.name}), flush=True)
        started = time.monotonic()
        ruleset = load_rules([case], root=case)
        hostile = next(p.name for p in case.glob("r*.toml"))
        from_hostile = [r for r in ruleset.rules if r.meta.id not in good_ids]
        problems = [*ruleset.problems, *run_examples(from_hostile)]
        print(
            json.dumps(
                {
                    "case": case.name,
                    "file": hostile,
                    "seconds": round(time.monotonic() - started, 3),
                    "problems": [[p.file, str(p)] for p in problems],
                    "loaded": sorted(r.meta.id for r in ruleset.rules),
                    "good_loaded": sorted(good_ids & set(ruleset.by_id())),
                    "good_ids": sorted(good_ids),
                },
            ),
            flush=True,
        )


def good_rule_ids() -> list[str]:
    """The ids of the rules in :data:`GOOD_RULES`."""
    import tomllib

    ids: list[str] = []
    for name in GOOD_RULES:
        doc = tomllib.loads((ROOT / "rules" / name).read_text(encoding="utf-8"))
        ids.extend(r["id"] for r in doc.get("rule", []))
    return ids


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    check_rule_cases(Path(sys.argv[1]))
