"""The demo city: a deterministic synthetic 한빛시 for trying naebu end to end.

``generate(out, seed, scale)`` writes what a city would hand over (an e-호조/새올-style
SQLite database and the card company's monthly CSV drop), the answer key ``labels.csv`` (every
planted anomaly, by rule) and a README. The same seed and scale always give byte-identical files.

``scale`` multiplies the transaction volumes (contracts, payments, property sales, card
approvals, permits, levies, receipts); the organisation (31 departments, 299 officials, 400
vendors) and therefore the daily attendance table (about 72,000 rows) stay the same size.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from naebu.demo import (
    anomalies,
    plant_finance,
    plant_people,
    plant_property,
    plant_revenue,
    writers,
)
from naebu.demo.anomalies import Label
from naebu.demo.attendance import build_attendance
from naebu.demo.cards import build_cards
from naebu.demo.finance import build_contracts, build_payments
from naebu.demo.ledgers import build_accounts, build_subsidies
from naebu.demo.payroll import build_payroll, transfers_of
from naebu.demo.people import build_city
from naebu.demo.permits import build_levies, build_permits, build_receipts, levy_receipts
from naebu.demo.property import build_sales, settle_sales
from naebu.demo.readme import readme_text

__all__ = ["DemoSummary", "generate", "build_frames"]


@dataclass
class DemoSummary:
    """What :func:`generate` wrote.

    ``counts`` are the well-formed records per canonical dataset; ``expected_quarantine`` the
    malformed rows a connector must set aside (``quarantine`` per source, as named in
    ``config.toml``); ``planted`` the labelled anomalies per rule.
    """

    out: Path
    seed: int
    scale: float
    counts: dict[str, int]
    planted: dict[str, int]
    expected_quarantine: int
    quarantine: dict[str, int] = field(default_factory=dict)
    paths: list[Path] = field(default_factory=list)

    def lines(self) -> list[str]:
        """A short human-readable report (what ``naebu demo`` prints)."""
        out = [f"{name:18s} {n:>10,}" for name, n in self.counts.items()]
        out.append(f"planted anomalies: {sum(self.planted.values())} ({len(self.planted)} rules)")
        out.append(
            f"rows to quarantine: {self.expected_quarantine} "
            + "("
            + ", ".join(f"{k} {v}" for k, v in self.quarantine.items())
            + ")"
        )
        out.append(f"files: {len(self.paths)} (labels.csv lists the planted records)")
        return out


#: Every rule the demo plants, at its base count (scale 1).
PLANTED_RULES: dict[str, int] = {
    **anomalies.BASE_COUNTS,
    **plant_property.BASE_COUNTS,
    **plant_finance.BASE_COUNTS,
    **plant_people.BASE_COUNTS,
    **plant_revenue.BASE_COUNTS,
}


def _volume(base: int, scale: float, floor: int) -> int:
    return max(floor, int(round(base * scale)))


def build_frames(seed: int = 42, scale: float = 1.0) -> tuple[dict[str, pd.DataFrame], list[Label]]:
    """Every canonical dataset of the demo city, with the planted anomalies and their labels."""
    if scale <= 0:
        raise ValueError("scale must be positive")
    city = build_city(seed)

    def rng(stream: int) -> np.random.Generator:
        return np.random.default_rng([seed, stream])

    labels: list[Label] = []
    contracts = build_contracts(rng(2), city, _volume(2000, scale, 200))
    pick = anomalies.Picker(rng(52), len(contracts))
    labels += anomalies.plant_contracts(rng(12), contracts, scale, pick)
    labels += plant_finance.plant_contracts(rng(42), contracts, scale, pick, city.vendors)
    payments = build_payments(rng(3), city, contracts, _volume(10_000, scale, 1000))
    pick = anomalies.Picker(rng(53), len(payments))
    labels += anomalies.plant_payments(rng(13), payments, scale, pick)
    labels += plant_finance.plant_payments(
        rng(43), payments, scale, pick, contracts, city.vendors, city.employees
    )

    sales = build_sales(rng(4), city, _volume(200, scale, 60))
    pick = anomalies.Picker(rng(54), len(sales))
    labels += anomalies.plant_sales(rng(14), sales, scale, pick)
    labels += plant_property.plant_sales(rng(44), sales, scale, pick)
    sale_receipts, planted = plant_property.plant_proceeds(
        rng(64), sales, settle_sales(rng(24), sales), scale, pick, city.employees
    )
    labels += planted

    permits = build_permits(rng(5), city, _volume(1500, scale, 200))
    pick = anomalies.Picker(rng(55), len(permits))
    labels += anomalies.plant_permits(rng(15), permits, scale, pick)
    labels += plant_revenue.plant_open_permits(rng(45), permits, scale, pick)
    levies = build_levies(rng(6), city, permits, _volume(900, scale, 120))
    pick = anomalies.Picker(rng(56), len(levies))
    labels += anomalies.plant_levies(rng(16), levies, scale, pick)
    repeated, _ = plant_revenue.plant_repeated_reductions(
        rng(46), levies, scale, pick, city.staff()
    )
    levies, planted = plant_revenue.plant_missing_levies(rng(66), levies, permits, scale, pick)
    labels += planted + plant_revenue.repeated_labels(levies, repeated)
    receipts = build_receipts(rng(26), sale_receipts, levy_receipts(rng(36), levies))
    accounts = build_accounts(rng(9), city)
    labels += plant_revenue.plant_dormant_accounts(rng(49), accounts)
    labels += plant_revenue.plant_receipt_accounts(rng(76), receipts, accounts)

    subsidies = build_subsidies(rng(10), city, _volume(600, scale, 150))
    labels += plant_revenue.plant_subsidies(rng(40), subsidies, scale)

    cards = build_cards(rng(7), city, seed, _volume(5000, scale, 800))
    labels += anomalies.plant_cards(rng(17), cards, scale)

    attendance = build_attendance(rng(8), city)
    pick = anomalies.Picker(rng(58), len(attendance))
    labels += anomalies.plant_attendance(rng(18), attendance, scale, pick)
    labels += plant_people.plant_overtime_cap(rng(48), attendance, pick)

    pay_lines, _ = build_payroll(rng(11), city)
    pay_lines, planted = plant_people.plant_retired_pay(pay_lines, city.employees)
    labels += planted
    transfers = transfers_of(pay_lines)
    labels += plant_people.plant_transfer_excess(rng(41), transfers)

    frames = {
        "departments": city.departments,
        "employees": city.employees,
        "vendors": city.vendors,
        "contracts": contracts,
        "payments": payments,
        "property_sales": sales,
        "receipts": receipts,
        "card_transactions": cards,
        "attendance": attendance,
        "permits": permits,
        "levies": levies,
        "payroll": pay_lines,
        "payroll_transfers": transfers,
        "subsidies": subsidies,
        "accounts": accounts,
    }
    return frames, sorted(labels)


def generate(out: Path, seed: int = 42, scale: float = 1.0) -> DemoSummary:
    """Write the demo city to ``out`` (created if needed) and return what was written."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    frames, labels = build_frames(seed, scale)

    db = out / "city.sqlite"
    bad_payments = writers.bad_payment_rows(frames["payments"])
    writers.write_sqlite(db, frames, {"payments": bad_payments})
    cards = writers.bad_card_rows(
        writers.card_frame(frames["card_transactions"], frames["employees"])
    )
    card_files = writers.write_card_drop(out / "card-drop", cards)

    labels_path = out / "labels.csv"
    with labels_path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["rule_id", "dataset", "record_key"])
        w.writerows(labels)

    planted: dict[str, int] = dict.fromkeys(PLANTED_RULES, 0)
    for rule, _, _ in labels:
        planted[rule] += 1
    counts = {name: len(df) for name, df in frames.items()}
    quarantine = {"payments": len(bad_payments), "cards": 2}
    readme = out / "README.md"
    readme.write_text(readme_text(seed, scale, counts, planted, quarantine), encoding="utf-8")
    return DemoSummary(
        out=out,
        seed=seed,
        scale=scale,
        counts=counts,
        planted=planted,
        expected_quarantine=sum(quarantine.values()),
        quarantine=quarantine,
        paths=[db, *card_files, labels_path, readme],
    )
