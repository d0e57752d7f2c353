"""Public-property sales (공유재산 매각) and the proceeds received for them."""

from __future__ import annotations

import numpy as np
import pandas as pd

from naebu.demo import days, names
from naebu.demo.frames import table
from naebu.demo.people import City, city_code

#: The city's revenue account (세입 계좌) all proceeds and levies are received into.
CITY_ACCOUNT = "317-0001-3990-11"


def revenue_account(city: int) -> str:
    """The revenue account of local government ``city`` (한빛시: :data:`CITY_ACCOUNT`)."""
    if city == 0:
        return CITY_ACCOUNT
    return f"317-{city * 100 + 1:04d}-{int(city_code(city)) // 10}-11"


def revenue_accounts(city: City, departments: object) -> np.ndarray:
    """The revenue account each receipt of ``departments`` is received into (its city's)."""
    accounts = np.array([revenue_account(c) for c in range(city.cities)], dtype=object)
    return accounts[city.cities_of(departments)]


def virtual_band(city: int) -> str:
    """The leading digits of the per-payer virtual accounts that settle into the revenue
    account of local government ``city`` (written as the account list has it)."""
    return f"7909-{city:02d}"


def virtual_accounts(rng: np.random.Generator, city: City, departments: object) -> np.ndarray:
    """A per-payer virtual account of each receipt's city (in :func:`virtual_band`)."""
    town = np.asarray(city.cities_of(departments))
    digits = rng.integers(0, 10**8, len(town))
    return np.array(
        [
            f"7909{t:02d}-{d // 10**4:04d}-{d % 10**4:04d}"
            for t, d in zip(town, digits, strict=True)
        ],
        dtype=object,
    )


GROUNDS = ("38-1-3", "38-1-14", "38-1-16", "38-1-29")
#: Sales are contracted by mid-October, so every sale's 60 days to pay end within the year.
LAST_SALE_DAY = np.datetime64("2025-10-15")


def build_sales(rng: np.random.Generator, city: City, n: int) -> pd.DataFrame:
    """``n`` sales at or above the appraisal mean, appraised a few months before contract.

    Sole-source sales always carry an allowed §38 ground, nothing is priced below its first
    planned price, and contracts end by ``LAST_SALE_DAY`` so the proceeds arrive within the year.
    """
    staff = pd.concat([city.staff_of("재무과")] * 4 + [city.staff_of("토지정보과")])
    who = rng.integers(0, len(staff), n)
    parcel = names.parcels(rng, n)
    split = rng.random(n) < 0.15
    parent = names.where_or_none(split, pd.Series(parcel).str.rsplit("-", n=1).str[0])
    buyer = np.where(rng.random(n) < 0.7, names.person_names(rng, n), names.firm_names(rng, n))
    sole = rng.random(n) < 0.25
    mean = np.round(np.exp(rng.uniform(np.log(8e6), np.log(3e9), n)), -3)
    count = np.where((mean < 3e7) & (rng.random(n) < 0.3), 1, 2)
    season = days.BUSINESS_DAYS[days.BUSINESS_DAYS <= LAST_SALE_DAY]
    signed = np.sort(days.random_days(rng, n, season))
    appraised = days.roll_backward(signed - rng.integers(30, 200, n).astype("timedelta64[D]"))
    rounds = np.where(sole, 1, np.where(rng.random(n) < 0.3, 2, 1))
    price = np.where(sole, mean, np.ceil(mean * (1 + rng.uniform(0, 0.3, n)) / 1000) * 1000)
    return table(
        {
            "sale_id": names.serial("PS2025-", n, 5),
            "department": staff["department"].to_numpy()[who],
            "official_id": staff["employee_id"].to_numpy()[who],
            "parcel_id": parcel,
            "parent_parcel_id": parent,
            "buyer_name": buyer,
            "method": np.where(sole, "수의", "일반입찰"),
            "ground_code": names.where_or_none(sole, names.pick(rng, GROUNDS, n)),
            "appraisal_count": pd.array(count, dtype="Int64"),
            "appraisal_mean": mean.astype("float64"),
            "appraisal_date": days.to_timestamps(appraised),
            "planned_price": mean.astype("float64"),
            # Round 2 re-tenders at the first price; cuts start at round 3 (시행령 §40).
            "initial_planned_price": mean.astype("float64"),
            "previous_planned_price": np.where(rounds >= 2, mean, np.nan),
            "tender_round": pd.array(rounds, dtype="Int64"),
            "sale_price": price.astype("float64"),
            "contract_date": days.to_timestamps(signed),
            "due_date": days.to_timestamps(signed + np.timedelta64(60, "D")),
            "title_transfer_date": days.to_timestamps(np.full(n, np.datetime64("NaT"), "M8[D]")),
            "updated_at": days.stamps(rng, signed),
        }
    )


def settle_sales(rng: np.random.Generator, sales: pd.DataFrame, city: City) -> pd.DataFrame:
    """Receipts for the sales (deposit and balance, or one payment) before the due date.

    Sets ``title_transfer_date`` (a few days after full payment) and ``updated_at`` on
    ``sales`` in place; payments that would fall after the year's end are not yet received.
    """
    n = len(sales)
    signed = sales["contract_date"].to_numpy().astype("datetime64[D]")
    price = sales["sale_price"].to_numpy()
    two = rng.random(n) < 0.4
    deposit = np.round(price * 0.1, -3)
    full_on = days.roll_forward(signed + rng.integers(5, 50, n).astype("timedelta64[D]"))
    full_on = days.clamp_to_year(full_on)
    transfer = days.clamp_to_year(
        days.roll_forward(full_on + rng.integers(3, 20, n).astype("timedelta64[D]"))
    )
    sales["title_transfer_date"] = days.to_timestamps(transfer).to_numpy()
    last = np.where(np.isnat(transfer), np.where(np.isnat(full_on), signed, full_on), transfer)
    sales["updated_at"] = days.stamps(rng, last).to_numpy()
    base = table(
        {
            "department": sales["department"].to_numpy(),
            "official_id": sales["official_id"].to_numpy(),
            "ref_type": "property_sale",
            "ref_id": sales["sale_id"].to_numpy(),
            "payer_name": sales["buyer_name"].to_numpy(),
        }
    )
    dep = base[two].assign(amount=deposit[two], received_on=signed[two])
    bal = base.assign(amount=np.where(two, price - deposit, price), received_on=full_on)
    out = pd.concat([dep, bal], ignore_index=True)
    out = out[out["received_on"].notna()].reset_index(drop=True)
    out["received_on"] = days.to_timestamps(out["received_on"].to_numpy()).to_numpy()
    out["account_no"] = revenue_accounts(city, out["department"].to_numpy())
    return out
