"""Functions taking a list: contains_any (phrases) and in_account_bands (account numbers)."""

from __future__ import annotations

import pandas as pd
import pytest

from naebu.engine.expr import ExprError, compile_expression

REASONS = pd.DataFrame(
    {
        "reason": [
            "의견제출기한 내 자진 납부 감경(20%)",
            "도로법 제68조 점용료 감면",
            None,
            "  ",
            "ＱＶ１８ 자진납부",
        ]
    },
    dtype="str",
)
RECEIPTS = pd.DataFrame(
    {
        "account_no": [
            "790-1234-5678-01",  # band 7901234 (leading digits)
            "79012355000001",  # inside the range 79012355000000~79012355099999
            "79012355100000",  # just above the range
            "7901235500000",  # one digit short of the range's length
            "110-555-000111",  # a personal account
            None,
        ]
    },
    dtype="str",
)
ACCOUNTS = pd.DataFrame(
    {
        "account_no": ["317-0001-3990-11", "317-0001-3990-12", "317-0001-3990-13"],
        "virtual_accounts": ["790-1234", "79012355000000 ~ 79012355099999, 555", None],
    },
    dtype="str",
)
LISTS = {"statutory": ["자진납부", "사전납부 감경"], "bands": ["7901234"], "none": []}


def _compile(text: str, columns: dict[str, str], **kw: object):
    return compile_expression(
        text,
        columns,
        lists=LISTS,
        lookups={"accounts": {"account_no": "str", "virtual_accounts": "str"}},
        **kw,  # type: ignore[arg-type]
    )


def _reasons(text: str) -> list[bool]:
    return list(_compile(text, {"reason": "str"}).evaluate(REASONS))


def _bands(text: str) -> list[bool]:
    expr = _compile(text, {"account_no": "str"})
    return list(expr.evaluate(RECEIPTS, {"accounts": ACCOUNTS}))


def test_contains_any_ignores_spaces_and_full_width_forms() -> None:
    assert _reasons("contains_any(reason, lists.statutory)") == [True, False, False, False, True]
    assert _reasons('contains_any(reason, ["점용료 감면"])') == [False, True, False, False, False]


def test_contains_any_of_an_empty_list_is_false_and_not_negated_for_an_empty_text() -> None:
    assert _reasons("contains_any(reason, lists.none)") == [False] * 5
    # not (...) is true for an empty reason: exclusions need not_null(...) first
    assert _reasons("not_null(reason) and not contains_any(reason, lists.statutory)") == [
        False,
        True,
        False,
        False,
        False,
    ]


def test_in_account_bands_reads_prefixes_and_ranges_of_another_dataset() -> None:
    assert _bands("in_account_bands(account_no, accounts.virtual_accounts)") == [
        True,
        True,
        False,
        False,
        False,
        False,
    ]
    expr = _compile(
        "in_account_bands(account_no, accounts.virtual_accounts)", {"account_no": "str"}
    )
    # the rule reads the accounts' column, as with x in accounts.account_no (coverage, inputs)
    assert expr.lookups_used == frozenset({("accounts", "virtual_accounts")})


def test_in_account_bands_with_a_reference_list_and_with_no_accounts() -> None:
    assert _bands("in_account_bands(account_no, lists.bands)") == [True] + [False] * 5
    expr = _compile(
        "in_account_bands(account_no, accounts.virtual_accounts)", {"account_no": "str"}
    )
    assert not any(expr.evaluate(RECEIPTS, {}))  # no accounts: nothing is in a band


@pytest.mark.parametrize(
    "text, message",
    [
        ("contains_any(reason, reason)", "argument 2 of contains_any() must be"),
        ("contains_any(reason, lists.nope)", "unknown list 'lists.nope'"),
        ("contains_any(reason, accounts.nope)", "unknown column 'nope' of dataset 'accounts'"),
        ("contains_any(reason, [1, 2])", "argument 2 of contains_any() must be"),
        ("contains_any(lists.statutory, reason)", "argument 1 of contains_any() must be text"),
    ],
)
def test_a_wrong_list_argument_is_a_located_problem(text: str, message: str) -> None:
    with pytest.raises(ExprError) as caught:
        _compile(text, {"reason": "str"})
    assert message in str(caught.value)


def test_account_numbers_compare_by_their_digits() -> None:
    frame = pd.DataFrame(
        {"a": ["110-123-456789", "110123456789", "１１０１２３４５６７８９", "미상", None]},
        dtype="str",
    )
    digits = compile_expression("digits(a)", {"a": "str"}, expect=None).evaluate(frame)
    assert [None if pd.isna(v) else v for v in digits] == ["110123456789"] * 3 + [None, None]
    listed = _compile(
        'in_accounts(a, ["110123456789", "317-0001-3990-11"])', {"a": "str"}
    ).evaluate(frame)
    assert list(listed) == [True, True, True, False, False]
    other = _compile("in_accounts(a, accounts.account_no)", {"a": "str"})
    assert not any(other.evaluate(frame, {"accounts": ACCOUNTS}))
    assert list(other.evaluate(pd.DataFrame({"a": ["3170001399011"]}, dtype="str"),
                               {"accounts": ACCOUNTS})) == [True]  # fmt: skip
