"""The demo city: a deterministic synthetic 한빛시 for trying naebu end to end.

``generate(out, seed, scale)`` writes what a city would hand over (an e-호조/새올-style
SQLite database and the card company's monthly CSV drop), the answer key ``labels.csv`` (every
planted anomaly, by rule) and a README. The same seed and size always give byte-identical files.

``scale`` multiplies the transaction volumes (contracts, payments, property sales, card
approvals, permits, levies, receipts); ``size`` (a :class:`~naebu.demo.volumes.Volumes` from
:func:`naebu.demo.volumes.resolve`) sets them exactly instead, by dataset or by a named profile.
Up to scale 15 the organisation is the demo city's (31 departments, 299 officials, 400 vendors,
about 72,000 attendance days); a larger demo is a province of several such local governments
(:mod:`naebu.demo.volumes` says how many, and why).
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from naebu.core import text_tables as tables
from naebu.core.text_tables import Column
from naebu.demo import (
    anomalies,
    plant_finance,
    plant_people,
    plant_property,
    plant_revenue,
    volumes,
    writers,
)
from naebu.demo.anomalies import Label
from naebu.demo.attendance import build_attendance
from naebu.demo.cards import build_cards
from naebu.demo.finance import build_contracts, build_payments
from naebu.demo.frames import plain
from naebu.demo.ledgers import build_accounts, build_subsidies
from naebu.demo.payroll import build_payroll, transfers_of
from naebu.demo.people import build_city
from naebu.demo.permits import (
    build_levies,
    build_permits,
    build_receipts,
    decision_times,
    levy_receipts,
    reduction_reasons,
)
from naebu.demo.property import build_sales, settle_sales
from naebu.demo.readme import readme_text
from naebu.demo.volumes import Volumes

__all__ = ["DemoSummary", "Volumes", "generate", "build_frames"]


@dataclass
class DemoSummary:
    """What :func:`generate` wrote.

    ``counts`` are the well-formed records per canonical dataset; ``expected_quarantine`` the
    malformed rows a connector must set aside (``quarantine`` per source, as named in
    ``config.toml``); ``planted`` the labelled anomalies per rule; ``cities`` the local
    governments of the organisation.
    """

    out: Path
    seed: int
    scale: float
    cities: int
    counts: dict[str, int]
    planted: dict[str, int]
    expected_quarantine: int
    quarantine: dict[str, int] = field(default_factory=dict)
    paths: list[Path] = field(default_factory=list)

    def lines(self) -> list[str]:
        """A short human-readable report (what ``naebu demo`` prints)."""
        columns = (Column("dataset", 18), Column("rows", 10, ">"))
        out = tables.render(columns, self.counts.items(), header=False)
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


def build_frames(
    seed: int = 42, scale: float = 1.0, size: Volumes | None = None
) -> tuple[dict[str, pd.DataFrame], list[Label]]:
    """Every canonical dataset of the demo city, with the planted anomalies and their labels.

    ``size`` (see :func:`naebu.demo.volumes.resolve`) overrides ``scale`` when given.
    """
    size = size or volumes.resolve(scale)
    n, f = size.counts, size.factors
    city = build_city(seed, size.cities)

    def rng(stream: int) -> np.random.Generator:
        return np.random.default_rng([seed, stream])

    labels: list[Label] = []
    contracts = plain(build_contracts(rng(2), city, n["contracts"]))
    pick = anomalies.Picker(rng(52), len(contracts))
    labels += anomalies.plant_contracts(rng(12), contracts, f["contracts"], pick)
    labels += plant_finance.plant_contracts(rng(42), contracts, f["contracts"], pick, city.vendors)
    payments = plain(build_payments(rng(3), city, contracts, n["payments"]))
    pick = anomalies.Picker(rng(53), len(payments))
    labels += anomalies.plant_payments(rng(13), payments, f["payments"], pick)
    labels += plant_finance.plant_payments(
        rng(43), payments, f["payments"], pick, contracts, city.vendors, city.employees
    )

    sales = plain(build_sales(rng(4), city, n["property_sales"]))
    pick = anomalies.Picker(rng(54), len(sales))
    labels += anomalies.plant_sales(rng(14), sales, f["property_sales"], pick)
    labels += plant_property.plant_sales(rng(44), sales, f["property_sales"], pick)
    sale_receipts, planted = plant_property.plant_proceeds(
        rng(64), sales, settle_sales(rng(24), sales, city), f["property_sales"], pick,
        city.employees,
    )  # fmt: skip
    labels += planted

    permits = plain(build_permits(rng(5), city, n["permits"]))
    pick = anomalies.Picker(rng(55), len(permits))
    labels += anomalies.plant_permits(rng(15), permits, f["permits"], pick)
    labels += plant_revenue.plant_open_permits(rng(45), permits, f["permits"], pick)
    decision_times(permits)
    levies = plain(build_levies(rng(6), city, permits, n["fines"]))
    pick = anomalies.Picker(rng(56), len(levies))
    labels += anomalies.plant_levies(rng(16), levies, f["fines"], pick)
    repeated, _ = plant_revenue.plant_repeated_reductions(
        rng(46), levies, f["fines"], pick, city.staff()
    )
    levies, planted = plant_revenue.plant_missing_levies(
        rng(66), levies, permits, f["permits"], pick
    )
    plant_revenue.cap_reductions(levies, repeated, pick)
    levies.insert(
        levies.columns.get_loc("reduction_code") + 1,
        "reduction_reason",
        reduction_reasons(levies["reduction_code"]),
    )
    labels += planted + plant_revenue.repeated_labels(levies, repeated)
    receipts = plain(build_receipts(rng(26), sale_receipts, levy_receipts(rng(36), levies, city)))
    accounts = build_accounts(rng(9), city)
    labels += plant_revenue.plant_dormant_accounts(rng(49), accounts)
    labels += plant_revenue.plant_receipt_accounts(rng(76), receipts, accounts)

    subsidies = plain(build_subsidies(rng(10), city, n["subsidies"]))
    labels += plant_revenue.plant_subsidies(rng(40), subsidies, f["subsidies"])

    cards = plain(build_cards(rng(7), city, seed, n["card_transactions"]))
    labels += anomalies.plant_cards(rng(17), cards, f["card_transactions"])

    attendance = plain(build_attendance(rng(8), city))
    pick = anomalies.Picker(rng(58), len(attendance))
    labels += anomalies.plant_attendance(rng(18), attendance, size.scale, pick)
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


def generate(
    out: Path, seed: int = 42, scale: float = 1.0, size: Volumes | None = None
) -> DemoSummary:
    """Write the demo city to ``out`` (created if needed) and return what was written.

    ``size`` (see :func:`naebu.demo.volumes.resolve`) overrides ``scale`` when given.
    """
    out = Path(out)
    size = size or volumes.resolve(scale)
    frames, labels = build_frames(seed, size=size)
    out.mkdir(parents=True, exist_ok=True)

    db = out / "city.sqlite"
    bad_payments = writers.bad_payment_rows(frames["payments"])
    writers.write_sqlite(db, frames, {"payments": bad_payments})
    cards = writers.bad_card_rows(
        writers.card_frame(frames["card_transactions"], frames["employees"])
    )
    card_files = writers.write_card_drop(out / "card-drop", cards)

    labels_path = out / "labels.csv"
    planted = write_labels(labels_path, labels)
    counts = {name: len(df) for name, df in frames.items()}
    quarantine = {"payments": len(bad_payments), "cards": 2}
    readme = out / "README.md"
    readme.write_text(readme_text(seed, size, counts, planted, quarantine), encoding="utf-8")
    return DemoSummary(
        out=out,
        seed=seed,
        scale=size.scale,
        cities=size.cities,
        counts=counts,
        planted=planted,
        expected_quarantine=sum(quarantine.values()),
        quarantine=quarantine,
        paths=[db, *card_files, labels_path, readme],
    )


def write_labels(path: Path, labels: Sequence[Label]) -> dict[str, int]:
    """Write ``labels.csv`` (``rule_id,dataset,record_key``); the planted records per rule."""
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["rule_id", "dataset", "record_key"])
        w.writerows(labels)
    planted: dict[str, int] = dict.fromkeys(PLANTED_RULES, 0)
    for rule, _, _ in labels:
        planted[rule] += 1
    return planted
