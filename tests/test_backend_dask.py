"""The Dask backend gives exactly the pandas backend's findings (issue 8, target 5).

The whole standard pack runs over the demo city twice, once with pandas and once on a
dask.distributed LocalCluster of two worker processes on 127.0.0.1; the alerts must be the
same, rule by rule, and every rule must have been split into parts (so the cluster, not the
local fallback, produced them). Unit tests then build the cases a split could get wrong:
groups and windows that span parts, expression keys, a time split with its overlap, sequences
whose key columns differ in dtype between the two datasets, rows sharing a record key.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, run_cli

from naebu.core.problems import ProblemsError
from naebu.engine.backends import PandasBackend, backend_for, close_all
from naebu.engine.backends.dask import DaskBackend
from naebu.engine.backends.partition import evaluate_part, merge, plan
from naebu.engine.findings import Finding
from naebu.engine.loader import load_rules
from naebu.engine.registry import EvalContext, RuleType
from naebu.engine.settings import EngineConfig
from naebu.pipeline import run_once
from naebu.settings.config import load_config

try:
    import distributed
except ImportError:  # a test dependency: missing under CI is a failure, not a skip
    if os.environ.get("CI"):
        raise
    pytest.skip("dask.distributed is not installed", allow_module_level=True)

SCALE = "0.2"  # the smallest demo city that plants every rule of the pack
NOW = datetime(2026, 3, 1, 9, 0)
CTX = EvalContext(now=datetime(2100, 1, 1))


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    """A LocalCluster of two worker processes (durable_rules is C and not thread safe) on
    this machine's loopback; its scheduler address."""
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as local,
    ):
        yield local.scheduler_address
        close_all()  # the backends' clients, before their scheduler goes


@pytest.fixture(scope="module")
def backend(cluster: str) -> DaskBackend:
    # parts of any size: the cases below are small on purpose
    config = EngineConfig(backend="dask", scheduler=cluster, partitions=4, min_part_rows=1)
    made = backend_for(config)
    assert isinstance(made, DaskBackend)
    return made


# -- the whole pack on the demo city ---------------------------------------------------------


def _workdir(folder: Path, demo: Path, engine: str) -> Path:
    folder.mkdir()
    shutil.copy(ROOT / "config.toml", folder / "config.toml")
    shutil.copytree(ROOT / "rules", folder / "rules")
    shutil.copytree(demo, folder / "demo-city")
    with (folder / "config.toml").open("a", encoding="utf-8") as f:
        f.write("\n" + engine)
    return folder


def _alerts(folder: Path) -> list[tuple[str, str, str, str, str]]:
    with sqlite3.connect(folder / "var" / "naebu.sqlite") as db:
        return sorted(
            db.execute(
                "select rule_id, record_key, message, severity, coalesce(department, '') "
                "from alerts"
            ).fetchall()
        )


def test_the_pack_on_a_cluster_raises_exactly_the_pandas_alerts(
    tmp_path: Path, cluster: str
) -> None:
    made = run_cli("demo", "--out", str(tmp_path / "demo-city"), "--scale", SCALE, cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    demo = tmp_path / "demo-city"
    plain = _workdir(tmp_path / "pandas", demo, "")
    spread = _workdir(
        tmp_path / "dask",
        demo,
        # two parts for two workers; the demo is small, so parts of any size
        f'[engine]\nbackend = "dask"\nscheduler = "{cluster}"\npartitions = 2\nmin_part_rows = 1\n',
    )

    summaries = {}
    for folder in (plain, spread):
        config = load_config(folder / "config.toml")
        summaries[folder.name] = run_once(config, now=NOW)
    backend = backend_for(load_config(spread / "config.toml").engine)
    assert isinstance(backend, DaskBackend) and backend.partitions == 2

    by_pandas, by_dask = _alerts(plain), _alerts(spread)
    assert by_dask == by_pandas
    rules = {r.meta.id for r in load_rules([ROOT / "rules"], root=ROOT).rules}
    assert {a[0] for a in by_pandas} == rules  # every rule of the pack raised something
    assert summaries["dask"].findings == summaries["pandas"].findings
    assert not summaries["dask"].rule_errors

    # The cluster did the work: the run above used the same backend (one per setting and
    # process), and every rule was split, none fell back to one piece.
    assert backend.plans.keys() >= rules
    whole = {rule: how for rule, how in backend.plans.items() if how.startswith("whole")}
    assert whole == {}


# -- cases a split could get wrong ----------------------------------------------------------

HEAD = """
[[rule]]
id = "R-1"
title = "t"
title_en = "t"
severity = "high"
message = "%s"
"""


def _rule(tmp_path: Path, body: str, field: str) -> RuleType:
    (tmp_path / "r.toml").write_text(HEAD % field + body, encoding="utf-8")
    loaded = load_rules([tmp_path], root=tmp_path)
    assert [str(p) for p in loaded.problems] == []
    return loaded.rules[0]


def _serial(rule: RuleType, frames: dict[str, pd.DataFrame], n: int) -> list[Finding] | None:
    """The backend's split, evaluated part by part in this process."""
    chosen = plan(rule, frames, n)
    assert not chosen.whole, chosen.how
    return merge(
        [
            evaluate_part(rule, {**chosen.broadcast, **p.frames}, CTX, p.positions, p.owned)
            for p in chosen.parts
        ]
    )


def _contracts(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    days = rng.integers(0, 365, n)
    return pd.DataFrame(
        {
            "contract_id": [f"C{i:05d}" for i in range(n)],
            "department": pd.Series(rng.choice(["총무과", "회계과", "건설과"], n), dtype="str"),
            "vendor_id": pd.Series(rng.choice([f"V{i}" for i in range(12)], n), dtype="str"),
            "method": pd.Series(rng.choice(["수의", "경쟁"], n, p=[0.8, 0.2]), dtype="str"),
            "amount": rng.choice([5e6, 9e6, 1.2e7, 1.9e7], n),
            "contract_date": pd.Timestamp("2025-01-01") + pd.to_timedelta(days, unit="D"),
        }
    )


SPLIT = """type = "aggregate"
dataset = "contracts"
when = "method == \\"수의\\""
group_by = %s
window = "%s"
having = "count() >= 3 and sum(amount) > 30_000_000"
"""


@pytest.mark.parametrize(
    ("group_by", "window", "how"),
    [
        ('["department", "vendor_id"]', "30d", "key (department, vendor_id)"),
        ('["vendor_id"]', "month", "key (vendor_id)"),
        # no key column can split these: parts are spans of time with the window on each side
        ("[]", "30d", "time"),
        ('["normalize(vendor_id)"]', "week", "time"),
    ],
)
def test_aggregate_windows_spanning_parts_give_the_same_findings(
    tmp_path: Path, backend: DaskBackend, group_by: str, window: str, how: str
) -> None:
    rule = _rule(tmp_path, SPLIT % (group_by, window), "{group.records}")
    frames = {"contracts": _contracts(400, seed=len(group_by) + len(window))}
    want = rule.evaluate(frames, CTX)
    assert want, "the case must raise findings to prove anything"
    chosen = plan(rule, frames, 4)
    assert chosen.how.startswith(how) and len(chosen.parts) > 1
    if how.startswith("key"):
        # every group lies whole in one part
        columns = [c for c in ("department", "vendor_id") if c in group_by]
        seen = [set(p.frames["contracts"][columns].itertuples(index=False)) for p in chosen.parts]
        assert sum(len(s) for s in seen) == len(set().union(*seen))
    else:
        # time parts overlap by the window, and each record is owned by exactly one
        owned = np.concatenate([p.positions[p.owned] for p in chosen.parts])
        assert sorted(owned.tolist()) == list(range(400))
        assert sum(len(p.positions) for p in chosen.parts) > 400
    assert _serial(rule, frames, 4) == want
    assert backend.evaluate(rule, frames, CTX) == want
    assert backend.plans["R-1"].startswith(how)


def test_expression_keys_merge_raw_values_across_what_a_raw_split_would_separate(
    tmp_path: Path, backend: DaskBackend
) -> None:
    body = """type = "aggregate"
dataset = "card_transactions"
group_by = ["department", "normalize(merchant_name)"]
window = "day"
having = "count() >= 3"
"""
    rule = _rule(tmp_path, body, "{group.count}")
    names = ["한빛식당", " 한빛식당", "한빛식당 ", "ＡＢＣ마트", "ABC마트", "abc마트"] * 20
    n = len(names)
    frame = pd.DataFrame(
        {
            "approval_id": [f"A{i}" for i in range(n)],
            "department": pd.Series(["총무과", "회계과"] * (n // 2), dtype="str"),
            "merchant_name": pd.Series(names, dtype="str"),
            "amount": np.full(n, 10_000.0),
            "approved_date": pd.Timestamp("2025-03-03")
            + pd.to_timedelta(np.arange(n) // 12, unit="D"),
        }
    )
    frames = {"card_transactions": frame}
    want = rule.evaluate(frames, CTX)
    assert want
    assert plan(rule, frames, 4).how == "key (department)"
    assert backend.evaluate(rule, frames, CTX) == want


def test_duplicates_and_outliers_keep_their_groups(tmp_path: Path, backend: DaskBackend) -> None:
    rng = np.random.default_rng(7)
    n = 600
    payments = pd.DataFrame(
        {
            "payment_id": [f"P{i:05d}" for i in range(n)],
            "department": pd.Series(rng.choice(["총무과", "회계과", "건설과"], n), dtype="str"),
            "vendor_id": pd.Series(rng.choice([f"V{i}" for i in range(30)], n), dtype="str"),
            "amount": rng.choice([1e6, 2e6, 3e6], n) * np.where(rng.random(n) < 0.02, 40, 1),
            "invoice_no": pd.Series(rng.choice([f"I{i}" for i in range(40)], n), dtype="str"),
            "paid_on": pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.integers(0, 365, n), "D"),
        }
    )
    frames = {"payments": payments}
    duplicate = _rule(
        tmp_path,
        'type = "duplicate"\ndataset = "payments"\nkeys = ["vendor_id", "amount", "invoice_no"]\n'
        'window = "30d"\n',
        "{group.siblings}",
    )
    outlier = _rule(
        tmp_path,
        'type = "outlier"\ndataset = "payments"\nvalue = "amount"\n'
        'peer_group = ["department"]\nmin_group_size = 8\n',
        "{peer.upper}",
    )
    for rule, how in ((duplicate, "key (vendor_id, amount, invoice_no)"), (outlier, "key")):
        want = rule.evaluate(frames, CTX)
        assert want
        assert backend.evaluate(rule, frames, CTX) == want
        assert backend.plans["R-1"].startswith(how)
    # an outlier with no peer group judges against the whole history: never split
    whole = _rule(
        tmp_path, 'type = "outlier"\ndataset = "payments"\nvalue = "amount"\n', "{peer.upper}"
    )
    assert plan(whole, frames, 4).whole
    assert backend.evaluate(whole, frames, CTX) == whole.evaluate(frames, CTX)


@pytest.mark.parametrize("unmatched", ["fire", "skip"])
def test_a_sequence_splits_both_datasets_on_the_key_whatever_their_dtypes(
    tmp_path: Path, backend: DaskBackend, unmatched: str
) -> None:
    """Receipts hold the sale id as text read from a file, sales as another string dtype:
    co-partitioning must hash them alike, or a sale would lose its receipts. A tenth of the
    sales have no receipt at all: whether they fire (``unmatched``) is decided in their part."""
    body = (
        f'unmatched = "{unmatched}"\n'
        + """type = "sequence"
dataset = "property_sales"
first = { dataset = "property_sales", time = "contract_date" }
then = { dataset = "receipts", time = "received_on" }
match = { sale_id = "ref_id" }
within = "60d"
expect = "absent"
complete = { sum = "amount", at_least = "sale_price" }
"""
    )
    rule = _rule(tmp_path, body, "{sale_id}")
    rng = np.random.default_rng(3)
    n = 300
    sales = pd.DataFrame(
        {
            "sale_id": pd.Series([f"S{i}" for i in range(n)], dtype="str"),
            "department": pd.Series(["재산관리과"] * n, dtype="str"),
            "sale_price": np.full(n, 1_000_000.0),
            "contract_date": pd.Timestamp("2025-01-01")
            + pd.to_timedelta(rng.integers(0, 200, n), "D"),
        }
    )
    paid = rng.random(n) < 0.7
    receipts = pd.DataFrame(
        {
            "receipt_id": [f"R{i}" for i in range(2 * n)],
            "ref_id": pd.Series([f"S{i % n}" for i in range(2 * n)], dtype=object),
            "amount": np.where(np.tile(paid, 2), 500_000.0, 100_000.0),
            "received_on": np.tile(sales["contract_date"].to_numpy(), 2)
            + pd.to_timedelta(rng.integers(0, 90, 2 * n), "D").to_numpy(),
        }
    )
    receipts = receipts[[i % n % 10 != 0 for i in range(2 * n)]].reset_index(drop=True)
    frames = {"property_sales": sales, "receipts": receipts}
    want = rule.evaluate(frames, CTX)
    assert 0 < len(want) < n
    never_paid = {f"S{i}" for i in range(0, n, 10)}
    fired = never_paid & {f.record_key for f in want}
    assert fired == (never_paid if unmatched == "fire" else set())
    chosen = plan(rule, frames, 4)
    assert chosen.how == "key (sale_id)"
    for part in chosen.parts:  # each part holds exactly its sales' receipts
        ids = set(part.frames["property_sales"]["sale_id"])
        assert set(part.frames["receipts"]["ref_id"]) == ids - never_paid
    assert backend.evaluate(rule, frames, CTX) == want


def test_rows_sharing_a_record_key_stay_in_one_part(tmp_path: Path, backend: DaskBackend) -> None:
    """The alert store keeps the first finding of a record key: both rows of a re-delivered
    record must be judged in one part, in their order."""
    rule = _rule(
        tmp_path,
        'type = "match"\ndataset = "payments"\nwhen = "amount > 0"\n',
        "{payment_id} {department} {amount}",
    )
    n = 200
    payments = pd.DataFrame(
        {
            "payment_id": [f"P{i % 150}" for i in range(n)],  # 50 keys delivered twice
            "department": pd.Series([f"과{i % 7}" for i in range(n)], dtype="str"),
            "amount": np.arange(1, n + 1, dtype=float),
            "paid_on": pd.Timestamp("2025-01-01") + pd.to_timedelta(np.arange(n) * 3, "D"),
        }
    )
    frames = {"payments": payments}
    want = rule.evaluate(frames, CTX)
    chosen = plan(rule, frames, 4)
    assert chosen.how == "organization and month" and len(chosen.parts) > 1
    owner = {}
    for i, part in enumerate(chosen.parts):
        for key in part.frames["payments"]["payment_id"]:
            assert owner.setdefault(key, i) == i
    got = backend.evaluate(rule, frames, CTX)
    # the same findings, and the same first one per record key (the one the store keeps);
    # the two rows of a key come out together, not 150 rows apart as in the frame
    assert sorted(got, key=lambda f: f.message) == sorted(want, key=lambda f: f.message)
    assert _first_of(got) == _first_of(want)


def _first_of(findings: list[Finding]) -> dict[str, str]:
    first: dict[str, str] = {}
    for f in findings:
        first.setdefault(f.record_key, f.message)
    return first


def test_a_rule_error_on_a_worker_reaches_the_run_as_the_rule_failing(
    tmp_path: Path, backend: DaskBackend
) -> None:
    rule = _rule(
        tmp_path, 'type = "match"\ndataset = "payments"\nwhen = "amount > 0"\n', "{payment_id}"
    )
    frame = pd.DataFrame(
        {
            "payment_id": ["P1", "P2"],
            "department": ["총무과", "회계과"],
            "paid_on": pd.to_datetime(["2025-01-01", "2025-02-01"]),
        }
    )
    broken = {"payments": frame}
    with pytest.raises(Exception) as direct:  # no amount column
        rule.evaluate(broken, CTX)
    with pytest.raises(type(direct.value)):
        backend.evaluate(rule, broken, CTX)
    assert not backend.plans["R-1"].startswith("whole")


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        ('backend = "dusk"', "engine.backend: unknown backend 'dusk' - did you mean 'dask'?"),
        ('backend = "dask"', 'engine.backend: backend "dask" needs a cluster'),
        (
            'backend = "dask"\nscheduler = "tcp://127.0.0.1:8786"\nlocal_workers = 2',
            "engine.local_workers: give either scheduler",
        ),
        ('backend = "dask"\nscheduler = "127.0.0.1:8786"', "engine.scheduler: not a scheduler"),
        ('backend = "dask"\nlocal_workers = 0', "engine.local_workers: must be a whole number"),
        ("partitions = 4", "engine.partitions: partitions applies only to the dask backend"),
        ('backend = "dask"\nlocal_workers = 2\npartitons = 4', "did you mean 'partitions'?"),
    ],
)
def test_engine_section_mistakes_are_located(tmp_path: Path, section: str, expected: str) -> None:
    (tmp_path / "config.toml").write_text(f"[engine]\n{section}\n", encoding="utf-8")
    with pytest.raises(ProblemsError) as raised:
        load_config(tmp_path / "config.toml")
    assert expected in "\n".join(str(p) for p in raised.value.problems)


def test_the_default_engine_is_pandas_in_this_process(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text("", encoding="utf-8")
    config = load_config(tmp_path / "config.toml")
    assert config.engine == EngineConfig()
    assert isinstance(backend_for(config.engine), PandasBackend)
