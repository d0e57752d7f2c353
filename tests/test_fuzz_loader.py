"""Fuzzing the rule loader: any text or TOML either compiles or yields located problems.

Rule files are written by compliance staff - and could be written by an insider who wants the
engine to crash or to run code. Whatever a rule file holds, :func:`naebu.engine.loader.load_rules`
must return a :class:`~naebu.engine.loader.RuleSet`: rules that compiled and problems that name the
file. It must never raise, and nothing in the file may ever be executed (a sentinel file that
an executed payload would create must never appear).

The pass is bounded (a few seconds) and derandomized, so CI sees the same cases every time;
cases found by fuzzing are kept below as explicit regression tests.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from naebu.core import datasets
from naebu.engine.examples import run_examples
from naebu.engine.loader import COMMON_KEYS, load_rules
from naebu.engine.registry import rule_types

ROOT = Path(__file__).resolve().parent.parent
SENTINEL = Path(tempfile.gettempdir()) / "naebu-fuzz-sentinel"

#: Bounded and reproducible: the same examples in every CI run, no example database needed.
FUZZ = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Payloads an attacker might try: Python, shell, Jinja and format-string injection. Each one,
# if it were ever executed or rendered unsafely, would create SENTINEL.
_PAYLOADS = [
    f"__import__('pathlib').Path('{SENTINEL}').touch()",
    f"open('{SENTINEL}', 'w')",
    f"$(touch {SENTINEL})",
    f"`touch {SENTINEL}`",
    "{{ cycler.__init__.__globals__.os.system('touch " + str(SENTINEL) + "') }}",
    "{0.__class__.__mro__[1].__subclasses__}",
    "{amount.__class__}",
    "{__import__}",
    "lambda: 1",
    "eval('1')",
]

_COLUMNS = sorted({c.name for d in datasets.DATASETS.values() for c in d.columns})
_EXPR_PIECES = st.sampled_from(
    [*_COLUMNS[:40], "params.x", "lists.restricted_merchant_categories", "hour(", "sum(",
     "count()", "(", ")", "[", "]", ",", " and ", " or ", " not ", " in ", "==", ">", "+", "*",
     "/", "1", "0.5", '"카드"', "null", "true", *_PAYLOADS]
)  # fmt: skip
_EXPR = st.lists(_EXPR_PIECES, max_size=8).map("".join)

_KEYS = sorted(set(COMMON_KEYS) | {k for t in rule_types().values() for k in t.keys})
_SCALAR = st.one_of(
    st.sampled_from(list(rule_types())),
    st.sampled_from(list(datasets.DATASETS)),
    st.sampled_from(["low", "medium", "high", "critical", "P30D", "30d", "7 days", "zscore"]),
    st.sampled_from(_PAYLOADS),
    _EXPR,
    st.text(max_size=20),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.dates(),
)


def _toml_value(value: Any) -> str:
    """A TOML literal for ``value`` (JSON strings are valid TOML basic strings)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        # TOML integers are 64-bit; a larger one is a TOML error, which is fine to fuzz too.
        return str(value)
    if isinstance(value, float):
        if value != value:
            return "nan"
        if value in (float("inf"), float("-inf")):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        items = ", ".join(
            f"{json.dumps(k, ensure_ascii=False)} = {_toml_value(v)}" for k, v in value.items()
        )
        return "{" + items + "}"
    return str(value)  # dates: TOML local dates


_VALUE = st.recursive(
    _SCALAR,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from([*_KEYS, *_COLUMNS[:20], "fires", "record", "x"]), inner, max_size=3),
    ),
    max_leaves=6,
)  # fmt: skip


@st.composite
def rule_tables(draw: st.DrawFn) -> str:
    """A rule file of one to three ``[[rule]]`` tables: mostly plausible, partly nonsense."""
    parts: list[str] = []
    for _ in range(draw(st.integers(1, 3))):
        parts.append("[[rule]]")
        base = {
            "id": draw(st.sampled_from(["FUZZ-A", "FUZZ-B", "bad id", "X"])),
            "title": "퍼즈",
            "title_en": "fuzz",
            "type": draw(st.sampled_from(list(rule_types()))),
            "dataset": draw(st.sampled_from(list(datasets.DATASETS))),
            "severity": "low",
        }
        for key in draw(st.lists(st.sampled_from(list(base)), max_size=3)):
            base.pop(key, None)  # drop some required keys
        base.update(draw(st.dictionaries(st.sampled_from(_KEYS), _VALUE, max_size=6)))
        parts.extend(f"{k} = {_toml_value(v)}" for k, v in base.items())
    if draw(st.booleans()):
        parts.append("[[rule.example]]")
        parts.append(f"fires = {_toml_value(draw(_VALUE))}")
        parts.append(f"record = {_toml_value(draw(_VALUE))}")
    return "\n".join(parts) + "\n"


def _check_file_text(text: str | bytes, tmp: Path) -> None:
    """Load ``text`` as a rule file: it must give rules or located problems, nothing else."""
    folder = Path(tempfile.mkdtemp(dir=tmp))
    path = folder / "fuzz.toml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
    ruleset = load_rules([folder], root=folder)  # must not raise
    for problem in ruleset.problems:
        assert problem.file == "fuzz.toml", problem
        assert problem.message
        str(problem)  # printable, one line per problem
    for rule in ruleset.rules:
        run_examples([rule])  # a compiled rule's examples run without escaping either
    assert not SENTINEL.exists(), f"a rule file was executed: {text!r}"


@pytest.fixture(scope="module")
def tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    SENTINEL.unlink(missing_ok=True)
    yield tmp_path_factory.mktemp("fuzz")
    assert not SENTINEL.exists()


@FUZZ
@given(text=st.text(max_size=300))
@example(text="[[rule]]\nid = 1\n")
@example(text="rule = 3\n")
@example(text="[[rule]]\n[[rule.example]]\nfires = true\nrecord = 3\n")
@example(text="[list]\nname = 3\n")
@example(text="list = [1, 2]\n")
def test_any_text_gives_rules_or_problems(text: str, tmp: Path) -> None:
    _check_file_text(text, tmp)


@FUZZ
@given(data=st.binary(max_size=200))
def test_any_bytes_give_rules_or_problems(data: bytes, tmp: Path) -> None:
    _check_file_text(data, tmp)


@FUZZ
@given(text=rule_tables())
def test_structured_rule_tables_give_rules_or_problems(text: str, tmp: Path) -> None:
    _check_file_text(text, tmp)


_PACK = sorted((ROOT / "rules").rglob("*.toml"))


@FUZZ
@given(
    index=st.integers(0, max(0, len(_PACK) - 1)),
    cuts=st.lists(st.tuples(st.floats(0, 1), st.integers(0, 40), st.text(max_size=8)), max_size=4),
)
def test_mutated_rule_pack_files_give_rules_or_problems(
    index: int, cuts: list[tuple[float, int, str]], tmp: Path
) -> None:
    """The real rule pack, with characters cut out and nonsense spliced in."""
    text = _PACK[index].read_text(encoding="utf-8")
    for where, length, insert in cuts:
        at = int(where * len(text))
        text = text[:at] + insert + text[at + length :]
    _check_file_text(text, tmp)


# -- regression cases found by the fuzz pass ---------------------------------------------------


def _pack_rules() -> list[dict[str, Any]]:
    import tomllib

    found: list[dict[str, Any]] = []
    for path in _PACK:
        found.extend(tomllib.loads(path.read_text(encoding="utf-8")).get("rule", []))
    return found


_PACK_RULES = _pack_rules()


@FUZZ
@given(
    index=st.integers(0, max(0, len(_PACK_RULES) - 1)),
    changes=st.dictionaries(st.sampled_from(_KEYS), st.one_of(_VALUE, _EXPR), max_size=3),
    dropped=st.lists(st.sampled_from(_KEYS), max_size=2),
)
def test_pack_rules_with_changed_keys_give_rules_or_problems(
    index: int, changes: dict[str, Any], dropped: list[str], tmp: Path
) -> None:
    """A real, compiling rule with some keys given other values (expressions, payloads, wrong
    types) or removed: the type-specific compile code sees values it never saw in the pack."""
    spec = {k: v for k, v in _PACK_RULES[index].items() if k != "example" and k not in dropped}
    spec.update(changes)
    body = "\n".join(f"{json.dumps(k)} = {_toml_value(v)}" for k, v in spec.items())
    _check_file_text("[[rule]]\n" + body + "\n", tmp)


@FUZZ
@given(
    text=_EXPR,
    rule_type=st.sampled_from(sorted(rule_types())),
    key=st.sampled_from(["when", "having", "value", "message", "distinct", "within", "window"]),
)
def test_expressions_in_every_expression_key_give_rules_or_problems(
    text: str, rule_type: str, key: str, tmp: Path
) -> None:
    """Token soup (with injection payloads) in every key that holds an expression or template."""
    spec: dict[str, Any] = {"id": "FUZZ-A", "title": "x", "title_en": "x", "type": rule_type,
                            "dataset": "card_transactions", "severity": "low",
                            "group_by": ["department"], "keys": ["merchant_name"],
                            "window": "30d", "value": "amount", "peer_group": ["department"]}  # fmt: skip
    if rule_type == "match":
        spec = {k: v for k, v in spec.items() if k in COMMON_KEYS}
        spec["when"] = "amount > 0"
    spec[key] = text
    body = "\n".join(f"{k} = {_toml_value(v)}" for k, v in spec.items())
    _check_file_text("[[rule]]\n" + body + "\n", tmp)
