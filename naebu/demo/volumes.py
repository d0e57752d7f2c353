"""How big the demo city is: records drawn per dataset, anomalies planted, and the organisation.

Three ways to ask for a size, from simplest to most exact:

- ``scale`` multiplies every base volume (scale 1: 10,000 payments, 5,000 card approvals,
  2,000 contracts, 200 property sales...), as ``naebu demo --scale`` always did;
- a named ``profile`` (``province``: the volumes of issue 8's benchmark) sets some datasets
  exactly;
- ``volumes`` (``payments=1000000,contracts=100000``) sets any drawn dataset exactly, on top of
  the profile.

A dataset given exactly gets exactly that many well-formed records; every other dataset follows
the payments: ``scale`` becomes ``payments / 10,000`` whenever payments are given. The anomalies
planted in a dataset grow with that dataset's own factor (its volume over its base volume).

The organisation grows with the scale too, in whole local governments (시·군) of the demo
city's shape (31 departments, 299 officials, 400 vendors each): one per ten times the base
volume, at most :data:`MAX_CITIES`. So a department's daily activity never exceeds what it is at
scale 10, and the officials (hence attendance and payroll) stay what a real province has.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

#: Drawn dataset -> (records at scale 1, fewest records the planting needs).
BASE: dict[str, tuple[int, int]] = {
    "payments": (10_000, 1_000),
    "card_transactions": (5_000, 800),
    "contracts": (2_000, 200),
    "property_sales": (200, 60),
    "permits": (1_500, 200),
    "fines": (900, 120),
    "subsidies": (600, 150),
}
#: Named volume sets. ``province`` is issue 8's benchmark: 1M payments, 200k card approvals,
#: 100k contracts, 20k property sales (with their receipts), the rest in proportion.
PROFILES: dict[str, dict[str, int]] = {
    "province": {
        "payments": 1_000_000,
        "card_transactions": 200_000,
        "contracts": 100_000,
        "property_sales": 20_000,
    },
}
#: One local government of the demo city's shape per this much scale.
SCALE_PER_CITY = 10
#: At most this many local governments (경기도 has 31 시·군): about 9,300 officials and 2.2M
#: attendance days, a year of a whole province.
MAX_CITIES = 31
KEYS = (*BASE, "cities")


class DemoSizeError(ValueError):
    """The asked-for volumes leave no room to plant a scenario among ordinary records."""


@dataclass(frozen=True)
class Volumes:
    """The resolved size of one demo city.

    ``scale`` is the overall factor (reported in the README; it sizes attendance planting);
    ``counts`` the records to draw per drawn dataset; ``factors`` the planting factor per drawn
    dataset; ``cities`` the number of local governments.
    """

    scale: float
    counts: dict[str, int]
    factors: dict[str, float]
    cities: int

    def describe(self) -> str:
        """A one-line account of the size, for the command's output and the README."""
        parts = [f"{k}={v:,}" for k, v in self.counts.items()]
        return f"scale {self.scale:g}, {self.cities} local government(s): " + ", ".join(parts)


def default_cities(scale: float) -> int:
    """Local governments at ``scale``: one up to scale 15, ten at 100, at most ``MAX_CITIES``."""
    return max(1, min(MAX_CITIES, int(math.floor(scale / SCALE_PER_CITY + 0.5))))


def parse(text: str) -> dict[str, int]:
    """``"payments=1000000,contracts=100000"`` as a dict; ``ValueError`` with a clear message.

    Numbers may carry ``_`` or ``,`` inside a value only as ``1_000_000``; ``k``/``m`` suffixes
    (``200k``, ``1m``) are accepted.
    """
    out: dict[str, int] = {}
    for item in (p.strip() for p in text.split(",")):
        if not item:
            continue
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep:
            raise ValueError(f"{item!r}: expected name=count, e.g. payments=1000000")
        if name not in KEYS:
            raise ValueError(f"unknown dataset {name!r}: one of " + ", ".join(KEYS))
        out[name] = _count(name, value.strip())
    return out


def _count(name: str, value: str) -> int:
    v = value.lower().replace("_", "")
    mult = {"k": 1_000, "m": 1_000_000}.get(v[-1:], 1)
    digits = v[:-1] if mult > 1 else v
    if not digits.isdigit():
        raise ValueError(f"{name}={value}: not a whole number")
    return int(digits) * mult


def resolve(
    scale: float | None = None,
    profile: str | None = None,
    volumes: dict[str, int] | None = None,
) -> Volumes:
    """The volumes for a scale, a profile and explicit counts (the later override the earlier).

    Giving both ``scale`` and a payments count is refused: the payments set the scale.
    """
    exact: dict[str, int] = {}
    if profile is not None:
        if profile not in PROFILES:
            raise ValueError(f"unknown profile {profile!r}: one of " + ", ".join(PROFILES))
        exact.update(PROFILES[profile])
    exact.update(volumes or {})
    if "payments" in exact:
        if scale is not None:
            raise ValueError("give --scale or a payments count, not both: payments set the scale")
        scale = exact["payments"] / BASE["payments"][0]
    scale = 1.0 if scale is None else float(scale)
    if not scale > 0:
        raise ValueError("scale must be positive")
    counts: dict[str, int] = {}
    factors: dict[str, float] = {}
    for name, (base, floor) in BASE.items():
        if name in exact:
            if exact[name] < floor:
                raise ValueError(
                    f"{name}={exact[name]:,} is too small: the demo needs at least {floor:,} "
                    "to plant its scenarios among ordinary records"
                )
            counts[name] = exact[name]
            factors[name] = exact[name] / base
        else:
            counts[name] = max(floor, int(round(base * scale)))
            factors[name] = scale
    cities = exact.get("cities", default_cities(scale))
    if not 1 <= cities <= MAX_CITIES:
        raise ValueError(f"cities={cities}: between 1 and {MAX_CITIES}")
    return Volumes(scale=scale, counts=counts, factors=factors, cities=cities)
