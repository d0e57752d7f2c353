"""``python -m bench``: the engine benchmark and its baselines (see docs/benchmark.md).

    python -m bench [--scale 10 | --profile province] [--volumes N=C,...] [--out bench]
                    [--work DIR] [--keep] [--durable-records 50000] [--repeat 5] [--pairs 3]
                    [--alerts 10000] [--recipients 200]
                    [--slices 50] [--scaling 100,300]

Writes ``results.json`` and ``results.md`` into ``--out`` (default: this folder).
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from bench.runner import HERE, Options, run


def parse(argv: list[str], prog: str = "python -m bench") -> Options:
    """Options from the command line (``prog``: how the benchmark was started)."""
    p = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n")[0])
    size = p.add_mutually_exclusive_group()
    size.add_argument(
        "--scale",
        type=float,
        default=10.0,
        help="demo city scale (naebu demo --scale) [default: 10]",
    )
    size.add_argument("--profile", help="a named volume profile of naebu demo (e.g. province)")
    p.add_argument(
        "--volumes",
        metavar="NAME=COUNT,...",
        help="exact record counts, passed to naebu demo --volumes",
    )
    p.add_argument("--seed", type=int, default=42, help="demo seed [default: 42]")
    p.add_argument(
        "--out",
        type=Path,
        default=HERE,
        help="folder for results.json and results.md [default: bench/]",
    )
    p.add_argument(
        "--work",
        type=Path,
        help="work folder for the city and the store [default: a temporary one]",
    )
    p.add_argument("--keep", action="store_true", help="keep the temporary work folder")
    p.add_argument(
        "--durable-records",
        type=int,
        default=50_000,
        help="records posted to durable_rules per match rule; the rest is "
        "extrapolated [default: 50000]",
    )
    p.add_argument(
        "--repeat",
        type=int,
        default=5,
        help="interleaved rounds (naebu, DuckDB, Polars, ...) per rule in memory; the median "
        "counts [default: 5]",
    )
    p.add_argument(
        "--pairs",
        type=int,
        default=3,
        help="interleaved pairs of naebu run --once and the DuckDB script end to end; the "
        "median counts [default: 3]",
    )
    p.add_argument(
        "--alerts",
        type=int,
        default=10_000,
        help="alerts of the notification benchmark [default: 10000]",
    )
    p.add_argument("--recipients", type=int, default=200,
                   help="officials they go to [default: 200]")  # fmt: skip
    p.add_argument("--slices", type=int, default=50,
                   help="deliver the city in this many slices, a run after each, and compare "
                        "with one full run; 0 skips it [default: 50]")  # fmt: skip
    p.add_argument("--scaling", metavar="A,B",
                   help="also run naebu run --once at two demo scales (e.g. 100,300) and report "
                        "how time grows with size")  # fmt: skip
    a = p.parse_args(argv)
    for name in ("durable_records", "repeat", "pairs", "alerts", "recipients"):
        if getattr(a, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be at least 1")
    if a.slices < 0:
        p.error("--slices must be 0 or more")
    scaling = None
    if a.scaling:
        try:
            small, large = (float(x) for x in a.scaling.split(","))
        except ValueError:
            p.error("--scaling takes two scales, e.g. 100,300")
        if not 0 < small < large:
            p.error("--scaling takes two positive scales, the smaller first, e.g. 100,300")
        scaling = (small, large)
    if a.scale <= 0:
        p.error("--scale must be positive")
    return Options(scale=a.scale, profile=a.profile, volumes=a.volumes, seed=a.seed, workdir=a.work, keep=a.keep,
                   out=a.out, durable_records=a.durable_records, repeat=a.repeat, pairs=a.pairs,
                   alerts=a.alerts, recipients=a.recipients, slices=a.slices, scaling=scaling,
                   command=shlex.join([*prog.split(), *argv]))  # fmt: skip


def main(argv: list[str] | None = None, prog: str = "python -m bench") -> int:
    """Run the benchmark; 1 with a one-line message when a step fails."""
    opts = parse(sys.argv[1:] if argv is None else argv, prog)
    try:
        results = run(opts)
    except RuntimeError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 1
    for t in results["targets"]:
        verdict = "met" if t["met"] else "NOT met"
        value = "-" if t["value"] is None else f"{t['value']:,.2f}"
        print(f"  {t['id']:<3} {t['what']}: {value} {t['unit']} (target {t['target']}): {verdict}")
    print(f"results: {opts.out / 'results.json'}, {opts.out / 'results.md'}")
    wrong = list(results["baselines"]["disagreements"])
    wrong += [f"{rid} (DuckDB script): flagged other records than naebu"
              for rid in results["end_to_end"]["disagreements"]]  # fmt: skip
    if wrong:
        # A baseline that flags other records than naebu is a wrong translation or a wrong
        # engine: its ratio means nothing, so the run fails.
        print("bench: a baseline flagged other records than naebu:", file=sys.stderr)
        for line in wrong:
            print(f"  {line}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
