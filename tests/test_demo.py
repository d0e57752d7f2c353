"""The demo city: deterministic, readable through config.toml, and its labels are exact.

The rule conditions are evaluated here directly with pandas on the data as delivered (SQLite
tables and the card CSV drop), mapped with ``config.toml``'s own columns and formats, so the
check does not depend on the rule engine or the connectors.
"""

from __future__ import annotations

import sqlite3
import tomllib
from pathlib import Path

import demo_oracle
import holidays
import numpy as np
import pandas as pd
import pytest
from conftest import run_cli

from naebu.core import datasets
from naebu.demo import DemoSummary, generate, volumes
from naebu.demo.cards import build_cards, merchants, separate_same_day
from naebu.demo.people import build_city
from naebu.demo.property import revenue_account, virtual_band

ROOT = Path(__file__).resolve().parents[1]
SCALE = 0.2
RULES = (
    "PROP-BELOW-APPRAISAL", "PROP-STALE-APPRAISAL", "CONTRACT-NEAR-LIMIT", "PAY-SELF-APPROVAL",
    "CARD-NIGHT", "CARD-HOLIDAY", "CARD-SPLIT", "CARD-PERPERSON", "CARD-MERCHANT",
    "ATT-OVERTIME-ON-LEAVE", "PERMIT-LATE", "LEVY-REDUCTION-NO-CODE",
)  # fmt: skip


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoSummary:
    return generate(tmp_path_factory.mktemp("a") / "demo-city", seed=42, scale=SCALE)


@pytest.fixture(scope="module")
def sources() -> dict[str, dict]:
    raw = tomllib.loads((ROOT / "config.toml").read_text(encoding="utf-8"))
    return raw["sources"]


def _read_card_file(path: Path) -> tuple[pd.DataFrame, str]:
    data = path.read_bytes()
    if data.startswith(b"\xef\xbb\xbf"):
        enc = "utf-8-sig"
    else:
        data.decode("cp949")  # raises if it is neither
        enc = "cp949"
    return pd.read_csv(path, encoding=enc, dtype=str, keep_default_na=False), enc


def _coerce(raw: pd.DataFrame, spec: dict) -> tuple[pd.DataFrame, int]:
    """Map source columns to canonical ones and coerce types; drop (and count) bad rows."""
    ds = datasets.get(spec["dataset"])
    formats = spec.get("formats", {})
    out = pd.DataFrame(index=raw.index)
    bad = pd.Series(False, index=raw.index)
    for canon, src in spec["columns"].items():
        s = raw[src]
        blank = s.isna() | (s.astype(str).str.strip() == "")
        typ = ds.by_name[canon].type
        if typ in ("date", "datetime"):
            v = pd.to_datetime(s.where(~blank), format=formats.get(canon), errors="coerce")
        elif typ == "time":
            v = pd.to_timedelta(s.where(~blank), errors="coerce")
        elif typ in ("number", "int"):
            text = s.where(~blank).astype(str).str.replace(",", "", regex=False)
            v = pd.to_numeric(text.where(~blank), errors="coerce")
        elif typ == "bool":
            v = s.map({"Y": True, "N": False})
        else:
            v = s.where(~blank).astype(object)
        bad |= v.isna() & ~blank
        out[canon] = v
    return out[~bad].reset_index(drop=True), int(bad.sum())


@pytest.fixture(scope="module")
def canonical(demo: DemoSummary, sources: dict[str, dict]) -> dict[str, pd.DataFrame]:
    return load_canonical(demo.out, sources)


def load_canonical(out: Path, sources: dict[str, dict]) -> dict[str, pd.DataFrame]:
    """Every dataset as delivered, mapped through config.toml; ``_quarantined`` counts bad rows."""
    frames: dict[str, pd.DataFrame] = {}
    bad = 0
    con = sqlite3.connect(out / "city.sqlite")
    try:
        for spec in sources.values():
            if spec["kind"] == "sql":
                raw = pd.read_sql_query(f"SELECT * FROM {spec['table']}", con, dtype=object)
            else:
                files = sorted((out / "card-drop").glob(spec["pattern"]))
                raw = pd.concat([_read_card_file(f)[0] for f in files], ignore_index=True)
            frames[spec["dataset"]], n_bad = _coerce(raw, spec)
            bad += n_bad
    finally:
        con.close()
    frames["_quarantined"] = pd.DataFrame({"n": [bad]})
    return frames


def fired(f: dict[str, pd.DataFrame]) -> set[tuple[str, str, str]]:
    """Each shipped rule's condition, evaluated directly."""
    kr = holidays.KR(years=2025)
    out: set[tuple[str, str, str]] = set()

    def add(rule: str, dataset: str, mask: pd.Series) -> None:
        key = datasets.get(dataset).key
        out.update((rule, dataset, str(k)) for k in f[dataset].loc[mask.fillna(False), key])

    p = f["property_sales"]
    # The lowest lawful price of the round (시행령 §40): the mean before round 3, then 10% of
    # it less a round, never under 80%; an empty round leaves the 80% floor alone.
    factor = (1 - 0.1 * (p["tender_round"] - 2)).clip(lower=0.8, upper=1.0).fillna(0.8)
    add(
        "PROP-BELOW-APPRAISAL",
        "property_sales",
        (p["appraisal_count"] >= 2) & (p["sale_price"] < (p["appraisal_mean"] * factor).round()),
    )
    age = (p["contract_date"] - p["appraisal_date"]).dt.days
    add("PROP-STALE-APPRAISAL", "property_sales", p["appraisal_date"].notna() & (age > 365))
    c = f["contracts"]
    add(
        "CONTRACT-NEAR-LIMIT",
        "contracts",
        (c["method"] == "수의")
        & (c["category"] != "공사")
        & c["amount"].between(19_000_000, 20_000_000),
    )
    pay = f["payments"]
    add("PAY-SELF-APPROVAL", "payments", pay["official_id"] == pay["approver_id"])
    k = f["card_transactions"]
    any_card = k["payment_method"] == "카드"  # CARD-MERCHANT: restricted on every card
    card = any_card & (k["card_kind"] == "업무추진비")  # the others: business cards only
    hour = k["approved_time"].dt.total_seconds() // 3600
    add(
        "CARD-NIGHT",
        "card_transactions",
        card & k["approved_time"].notna() & ((hour >= 23) | (hour < 6)),
    )
    holiday = k["approved_date"].dt.date.map(lambda d: d in kr)
    add(
        "CARD-HOLIDAY",
        "card_transactions",
        card & ((k["approved_date"].dt.day_of_week >= 5) | holiday),
    )
    restricted = [
        "유흥주점",
        "단란주점",
        "노래연습장",
        "골프장",
        "사우나",
        "안마시술소",
        "카지노",
        "성인용품점",
    ]
    keywords = "유흥주점|단란주점|룸살롱|룸싸롱|노래방|노래연습장|노래주점|가라오케|골프|컨트리클럽|사우나|안마|마사지|카지노|나이트클럽|성인용품"
    name = k["merchant_name"].astype(str).str.normalize("NFKC").str.strip()
    add(
        "CARD-MERCHANT",
        "card_transactions",
        any_card & (k["merchant_category"].isin(restricted) | name.str.contains(keywords)),
    )
    heads = pd.to_numeric(k["attendees_text"].str.extract(r"(\d+)\s*명", expand=False))
    add("CARD-PERPERSON", "card_transactions", card & (heads > 0) & (k["amount"] / heads > 40_000))
    day = k.assign(name=name)[card].groupby(["department", "name", "approved_date"])
    same_day = day["approval_id"].transform("size").reindex(k.index, fill_value=0)
    add("CARD-SPLIT", "card_transactions", card & (same_day >= 2))
    a = f["attendance"]
    add(
        "ATT-OVERTIME-ON-LEAVE",
        "attendance",
        (a["overtime_hours"] > 0)
        & (
            (a["leave_type"].isin(["연가", "병가", "공가", "특별휴가"]) & (a["leave_hours"] >= 8))
            | ((a["trip_type"] == "관외출장") & (a["trip_hours"] >= 8))
        ),
    )
    pm = f["permits"]
    add(
        "PERMIT-LATE",
        "permits",
        # due_on is the 처리기한 as 새올 exports it: working days and hours (민원처리법 제19조)
        pm["decided_on"].notna() & (pm["decided_on"] > pm["due_on"]),
    )
    lv = f["levies"]
    add(
        "LEVY-REDUCTION-NO-CODE",
        "levies",
        (lv["reduction_amount"] > 0) & lv["reduction_code"].isna(),
    )
    return out


def _labels(demo: DemoSummary) -> pd.DataFrame:
    return pd.read_csv(demo.out / "labels.csv", dtype=str)


def test_labels_are_exactly_what_the_rules_find(demo: DemoSummary, canonical: dict) -> None:
    labels = _labels(demo)
    planted = set(labels.itertuples(index=False, name=None))
    assert len(planted) == len(labels), "duplicate labels"
    assert fired(canonical) | demo_oracle.fired(canonical) == planted


def test_every_rule_is_planted_several_times(demo: DemoSummary) -> None:
    counts = _labels(demo)["rule_id"].value_counts()
    for rule in RULES + demo_oracle.RULES:
        assert counts.get(rule, 0) >= 2, rule
    assert demo.planted == {r: int(counts[r]) for r in demo.planted}
    assert any("planted anomalies: " in line for line in demo.lines())


def test_near_misses_are_present(canonical: dict) -> None:
    k = canonical["card_transactions"]
    assert k["approved_time"].isna().sum() >= 2
    assert (k["approved_time"] == pd.Timedelta("06:00:00")).any()
    heads = pd.to_numeric(k["attendees_text"].str.extract(r"(\d+)\s*명", expand=False))
    assert (k["amount"] == heads * 40_000).any()
    assert (heads.isna() & (k["amount"] > 100_000)).any()  # a big bill with no head count
    assert (k["approved_time"] == pd.Timedelta("22:59:59")).any()
    assert (k["payment_method"] == "현금").any()
    assert k["merchant_name"].isin(["프레스클럽", "노래하는 닭갈비"]).sum() == 2
    general = k["card_kind"] == "일반구매"  # a general-purchase card at night, on a holiday
    assert (general & (k["approved_time"] == pd.Timedelta("23:40:00"))).sum() == 1
    assert (general & (k["approved_date"] == pd.Timestamp("2025-01-29"))).sum() == 1
    a = canonical["attendance"]
    worked_after = a["overtime_hours"] > 0
    assert (worked_after & (a["leave_type"] == "연가") & (a["leave_hours"] == 4)).any()
    assert (worked_after & (a["trip_type"] == "관내출장") & (a["trip_hours"] <= 2)).any()
    p = canonical["property_sales"]
    assert (p["sale_price"] == p["appraisal_mean"]).any()
    assert ((p["contract_date"] - p["appraisal_date"]).dt.days == 365).any()
    c = canonical["contracts"]
    assert ((c["amount"] == 18_990_000) & (c["method"] == "수의")).any()
    assert ((c["amount"] == 19_500_000) & (c["method"] == "일반경쟁")).any()
    assert canonical["payments"]["approver_id"].isna().any()
    pm = canonical["permits"]
    assert ((pm["decided_on"] - pm["received_on"]).dt.days == pm["legal_days"]).any()
    lv = canonical["levies"]
    assert ((lv["reduction_amount"] > 0) & lv["reduction_code"].notna()).any()


def test_pack_near_misses_are_present(canonical: dict) -> None:
    """The rule pack's near-misses: each sits exactly on the edge its rule does not cross."""
    p = canonical["property_sales"]
    assert ((p["appraisal_count"] == 0) & (p["sale_price"] == 9_990_000)).any()
    assert ((p["method"] == "수의") & (p["ground_code"] == "38-1-5")).any()
    assert (
        (p["tender_round"] == 5) & (p["planned_price"] == p["initial_planned_price"] * 0.8)
    ).any()
    lots = p[p["parent_parcel_id"].str.startswith("중앙동 9", na=False)]
    assert (lots.groupby("parent_parcel_id")["sale_price"].sum() == 30_000_000).any()
    c = canonical["contracts"]
    assert (
        (c["method"] == "수의") & c["sole_source_ground"].isna() & (c["amount"] == 15_000_000)
    ).any()
    pay = canonical["payments"]
    # travel paid to an official under her own payee code (개인 채주), into her salary account
    travel = pay[pay["purpose"] == "관외출장 여비 지급"]
    staff = canonical["employees"].set_index("account_no")["name"]
    assert travel["vendor_id"].str.startswith("C-").all() and len(travel)
    assert (travel["payee_name"] == staff.reindex(travel["payee_account"]).to_numpy()).all()
    assert pay["invoice_no"].str.endswith("-2").any()  # same vendor and amount, another invoice
    v = canonical["vendors"].set_index("vendor_id")
    lag = pay["paid_on"].to_numpy() - v["account_changed_on"].reindex(pay["vendor_id"]).to_numpy()
    assert (lag == pd.Timedelta(days=8)).any()
    a = canonical["attendance"]
    month = a.groupby([a["employee_id"], a["work_date"].dt.to_period("M")])["overtime_hours"].sum()
    assert (month == 57).any()
    acc = canonical["accounts"]
    assert ((acc["as_of"] - acc["last_activity_on"]).dt.days == 364).any()
    lv, pm = canonical["levies"], canonical["permits"].set_index("permit_id")
    lag = lv["levied_on"].to_numpy() - pm["decided_on"].reindex(lv["permit_id"]).to_numpy()
    assert (lag == pd.Timedelta(days=30)).any()


def test_planted_records_belong_to_real_officials(demo: DemoSummary, canonical: dict) -> None:
    employees = canonical["employees"]
    ids = set(employees["employee_id"])
    departments = set(canonical["departments"]["department"])
    assert set(employees["department"]) <= departments
    for dataset, keys in _labels(demo).groupby("dataset")["record_key"]:
        ds = datasets.get(dataset)
        rows = canonical[dataset].set_index(ds.key).loc[list(keys)]
        assert set(rows[ds.department]) <= departments, dataset
        assert set(rows[ds.official]) <= ids, dataset


def test_bad_rows_are_there_to_be_quarantined(demo: DemoSummary, canonical: dict) -> None:
    assert demo.expected_quarantine == 4
    assert int(canonical["_quarantined"]["n"].iloc[0]) == demo.expected_quarantine
    con = sqlite3.connect(demo.out / "city.sqlite")
    try:
        assert (
            con.execute("SELECT count(*) FROM expd_rsltn WHERE pay_ymd = '20251301'").fetchone()[0]
            == 1
        )
        assert (
            con.execute("SELECT count(*) FROM expd_rsltn WHERE pay_amt = '미정'").fetchone()[0] == 1
        )
    finally:
        con.close()
    cards = pd.concat(
        [_read_card_file(f)[0] for f in sorted((demo.out / "card-drop").glob("*.csv"))]
    )
    assert (cards["승인일자"] == "2025-02-30").sum() == 1
    assert (cards["승인금액"] == "1만2천원?").sum() == 1
    assert demo.counts["card_transactions"] == len(cards) - 2
    assert demo.counts["payments"] == len(canonical["payments"])


def test_card_drop_mixes_encodings(demo: DemoSummary) -> None:
    encodings = {_read_card_file(f)[1] for f in (demo.out / "card-drop").glob("*.csv")}
    assert encodings == {"cp949", "utf-8-sig"}


def test_config_maps_every_canonical_column(demo: DemoSummary, sources: dict) -> None:
    con = sqlite3.connect(demo.out / "city.sqlite")
    try:
        for name, spec in sources.items():
            ds = datasets.get(spec["dataset"])
            assert set(spec["columns"]) == set(ds.column_names), name
            if spec["kind"] == "sql":
                cols = {r[1] for r in con.execute(f"PRAGMA table_info({spec['table']})")}
                assert set(spec["columns"].values()) <= cols, name
                assert "upd_dt" in cols
                assert spec.get("watermark", "upd_dt") == "upd_dt"
    finally:
        con.close()
    assert {s["dataset"] for s in sources.values()} == set(demo.counts)


def test_same_seed_same_bytes_other_seed_other_data(demo: DemoSummary, tmp_path: Path) -> None:
    again = generate(tmp_path / "again", seed=42, scale=SCALE)
    rel = sorted(p.relative_to(demo.out) for p in demo.paths)
    assert rel == sorted(p.relative_to(again.out) for p in again.paths)
    for r in rel:
        assert (demo.out / r).read_bytes() == (again.out / r).read_bytes(), r
    other = generate(tmp_path / "other", seed=7, scale=SCALE)
    assert (other.out / "city.sqlite").read_bytes() != (demo.out / "city.sqlite").read_bytes()
    assert (other.out / "labels.csv").read_bytes() != (demo.out / "labels.csv").read_bytes()


def test_config_loads() -> None:
    from naebu.settings.config import load_config

    cfg = load_config(ROOT / "config.toml")
    assert cfg.sources["cards"].dataset == "card_transactions"
    assert cfg.sources["payments"].options["table"] == "expd_rsltn"


# -- size: volumes, profiles, the province, the card separation at scale ----------------------


def test_volumes_are_exact_and_the_rest_follows_the_payments() -> None:
    size = volumes.resolve(volumes=volumes.parse("payments=30_000,card_transactions=2k"))
    assert size.scale == 3.0
    assert size.counts["payments"] == 30_000
    assert size.counts["card_transactions"] == 2_000
    assert size.factors["card_transactions"] == 0.4  # planting follows the card volume
    assert size.counts["contracts"] == 6_000 and size.factors["contracts"] == 3.0
    province = volumes.resolve(profile="province")
    assert province.counts["payments"] == 1_000_000
    assert province.counts["card_transactions"] == 200_000
    assert province.counts["contracts"] == 100_000
    assert province.counts["property_sales"] == 20_000
    assert province.counts["permits"] == 150_000  # in proportion to the payments
    assert province.cities == 10
    # The organisation: one local government up to scale 15, ten at 100, 31 at most.
    assert [volumes.default_cities(s) for s in (0.01, 1, 10, 14.9, 15, 100, 1e4)] == [
        1, 1, 1, 1, 2, 10, 31,
    ]  # fmt: skip
    over = volumes.resolve(profile="province", volumes={"contracts": 5_000, "cities": 3})
    assert over.counts["contracts"] == 5_000 and over.cities == 3


@pytest.mark.parametrize(
    ("scale", "profile", "text", "message"),
    [
        (None, None, "payment=5", "unknown dataset 'payment'"),
        (None, None, "payments", "expected name=count"),
        (None, None, "payments=lots", "not a whole number"),
        (None, None, "contracts=50", "contracts=50 is too small"),
        (2.0, None, "payments=20000", "not both"),
        (None, "county", None, "unknown profile 'county'"),
        (None, None, "cities=40", "between 1 and 31"),
    ],
)
def test_bad_sizes_are_refused_clearly(
    scale: float | None, profile: str | None, text: str | None, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        volumes.resolve(scale, profile, volumes.parse(text) if text else None)


def test_demo_command_takes_volumes_and_refuses_bad_ones(tmp_path: Path) -> None:
    out = tmp_path / "city"
    args = ("demo", "--out", str(out), "--volumes", "payments=3000,contracts=400,cities=2")
    done = run_cli(*args, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "2 local governments" in done.stdout
    con = sqlite3.connect(out / "city.sqlite")
    try:
        assert con.execute("SELECT count(*) FROM ctrt_mst").fetchone()[0] == 400
        # 3,000 well-formed vouchers and the two a connector must quarantine.
        assert con.execute("SELECT count(*) FROM expd_rsltn").fetchone()[0] == 3002
    finally:
        con.close()
    bad = run_cli("demo", "--out", str(out), "--volumes", "paymnets=5", cwd=tmp_path)
    assert bad.returncode == 2 and "unknown dataset 'paymnets'" in bad.stderr
    assert "Traceback" not in bad.stderr


def _card_frame(department: list[str], merchant: list[str]) -> pd.DataFrame:
    """Card payments of one day at ordinary merchants of the demo, then one payment of
    정보통신과 at each of them (the merchants a payment can move to are those the card company
    reports)."""
    shop = merchants(42).set_index("merchant_name")
    every = shop.index.tolist()
    names_ = merchant + every
    return pd.DataFrame(
        {
            "department": department + ["정보통신과"] * len(every),
            "approved_date": pd.Timestamp("2025-03-12"),
            "merchant_name": names_,
            "merchant_category": shop.loc[names_, "merchant_category"].to_numpy(),
            "merchant_address": shop.loc[names_, "merchant_address"].to_numpy(),
            "payment_method": "카드",
        }
    )


def test_same_day_payments_are_separated_in_rounds() -> None:
    """The code path of the scale-100 crash: a department's busy day, many payments at a few
    merchants. Each ends at a merchant of its own (its category's while one is free)."""
    names_ = ["스타벅스 시청점"] * 20 + ["한우마을"] * 15 + ["알파문구"] * 5
    df = _card_frame(["재무과"] * 40, names_)
    df.loc[len(df)] = df.iloc[0].to_dict() | {"department": "세무과"}  # another department
    others = df[df["department"] != "재무과"].copy()
    keep = np.zeros(len(df), dtype=bool)
    keep[[20, 21]] = True  # a planted split: both stay at 한우마을
    separate_same_day(np.random.default_rng(1), df, keep=keep)
    ours = df[df["department"] == "재무과"]
    assert ours["merchant_name"].is_unique is False  # the planted pair
    assert ours["merchant_name"].drop(index=[20, 21]).is_unique
    assert ours.loc[[20, 21], "merchant_name"].tolist() == ["한우마을", "한우마을"]
    assert (ours["merchant_name"] != "한우마을").sum() == 38
    # Alone in their department and day: the other departments' payments do not move.
    assert df[df["department"] != "재무과"].equals(others)
    # Five coffee shops exist: the first five coffee payments stay coffee (one unmoved).
    assert (ours["merchant_category"] == "커피전문점").sum() == 5
    shop = merchants(42).set_index("merchant_name")
    assert (
        shop.loc[df["merchant_name"], "merchant_category"].to_numpy()
        == df["merchant_category"].to_numpy()
    ).all()


def test_a_day_with_more_payments_than_merchants_is_refused_clearly() -> None:
    df = _card_frame(["재무과"] * 60, ["한우마을"] * 60)
    with pytest.raises(ValueError, match="too many card payments for 재무과 on 2025-03-12"):
        separate_same_day(np.random.default_rng(1), df)


def test_cards_at_scale_100_density_have_no_unplanned_split() -> None:
    """At scale 100 the cards of 30 departments outnumbered the merchants of a day (the crash);
    a province of ten keeps each department's day as busy as at scale 10. Two of its local
    governments with a fifth of the cards have exactly that density."""
    size = volumes.resolve(100.0)
    city = build_city(42, 2)
    cards = build_cards(np.random.default_rng(7), city, 42, size.counts["card_transactions"] // 5)
    key = cards.groupby(["department", "approved_date", "merchant_name"]).size()
    assert key.max() == 1
    assert cards["department"].str.startswith("가람시 ").any()


@pytest.fixture(scope="module")
def province(tmp_path_factory: pytest.TempPathFactory) -> DemoSummary:
    """A small province: two local governments of the demo city's shape."""
    size = volumes.resolve(0.3, volumes={"cities": 2})
    return generate(tmp_path_factory.mktemp("p") / "demo-city", seed=42, size=size)


def test_province_labels_are_exactly_what_the_rules_find(
    province: DemoSummary, sources: dict[str, dict]
) -> None:
    frames = load_canonical(province.out, sources)
    planted = set(_labels(province).itertuples(index=False, name=None))
    assert fired(frames) | demo_oracle.fired(frames) == planted
    assert province.cities == 2
    assert province.counts["employees"] == 2 * 299
    assert province.counts["vendors"] == 800
    assert province.counts["attendance"] > 2 * 70_000
    # The second local government's departments, officials and revenue account are its own.
    emp = frames["employees"]
    assert emp["department"].str.startswith("가람시 ").sum() == 299
    sup = emp.set_index("employee_id")["department"]
    led = emp.dropna(subset=["supervisor_id"])
    same_town = (
        led["department"].str.startswith("가람시")
        == sup.loc[led["supervisor_id"]].str.startswith("가람시").to_numpy()
    )
    assert same_town.all()
    pay = frames["payroll"]
    assert set(pay["department"]) == {"총무과", "가람시 총무과"}
    receipts = frames["receipts"]
    theirs = receipts[receipts["department"].str.startswith("가람시 ")]
    # into its own revenue account, or a payer's virtual account of it
    band = virtual_band(1).replace("-", "")
    digits = theirs["account_no"].str.replace("-", "")
    own = (theirs["account_no"] == revenue_account(1)) | digits.str.startswith(band)
    assert own.mean() > 0.95 and revenue_account(1) in set(frames["accounts"]["account_no"])
    assert "가람시" in (province.out / "README.md").read_text(encoding="utf-8")


def test_province_same_seed_same_bytes(province: DemoSummary, tmp_path: Path) -> None:
    again = generate(tmp_path / "again", seed=42, size=volumes.resolve(0.3, volumes={"cities": 2}))
    for p in province.paths:
        r = p.relative_to(province.out)
        assert (province.out / r).read_bytes() == (again.out / r).read_bytes(), r
