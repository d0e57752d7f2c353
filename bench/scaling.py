"""How a whole run grows with the city: ``naebu run --once`` at two sizes (issue 21,
Done-when 4: from scale 100 to 300, a time exponent of at most 1.05 and at most 3 GB).

Each size gets a city of its own (``naebu demo --scale``, in a folder of the work folder) and
``pairs`` fresh first runs; the median wall time counts. The exponent is the slope of log time
over log size between the two: 1.0 is linear, above it the run grows faster than its data.
The size is the rows the run read, not the scale: the demo's organisation grows in whole local
governments and attendance follows the officials, so rows do not grow exactly with the scale;
the exponent over the scale factor is reported too.
"""

from __future__ import annotations

import math
import shutil
import statistics
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import fullrun
from bench.city import generate


def exponent(small: float, large: float, t_small: float, t_large: float) -> float | None:
    """The slope of log time over log size between two runs; None when it is undefined."""
    if small <= 0 or large <= small or t_small <= 0 or t_large <= 0:
        return None
    return math.log(t_large / t_small) / math.log(large / small)


def run(
    workdir: Path, scales: tuple[float, float], pairs: int, seed: int, log: Callable[[str], None]
) -> dict[str, Any]:
    """Generate a city at each of ``scales``, run it ``pairs`` times (interleaved: small,
    large, small, large...) and work out the exponents."""
    cities = {}
    for scale in scales:
        log(f"[bench]   generating the demo city at scale {scale:g}")
        cities[scale] = generate(workdir / f"scale-{scale:g}", scale=scale, seed=seed)
    runs: dict[float, list[fullrun.RunResult]] = {scale: [] for scale in scales}
    for i in range(max(1, pairs)):
        for scale in scales:
            log(f"[bench]   scale {scale:g}, run {i + 1}/{max(1, pairs)}")
            city = cities[scale] if i == 0 else cities[scale].with_store(f"var-{i}")
            result = fullrun.run_once(city)
            if result.exit_code != 0:
                raise RuntimeError(f"naebu run --once at scale {scale:g} failed:\n"
                                   f"{result.output_tail}")  # fmt: skip
            runs[scale].append(result)
            shutil.rmtree(city.workdir / city.var, ignore_errors=True)
    sizes = []
    for scale in scales:
        walls = [r.wall_seconds for r in runs[scale]]
        sizes.append({
            "scale": scale,
            "rows_read": runs[scale][0].rows_read,
            "wall_seconds": [round(w, 3) for w in walls],
            "median_seconds": statistics.median(walls),
            "peak_rss_mb": max(r.peak_rss_mb for r in runs[scale]),
            "timings": runs[scale][0].as_json()["timings"],
        })  # fmt: skip
    for scale in scales:
        shutil.rmtree(workdir / f"scale-{scale:g}", ignore_errors=True)
    a, b = sizes
    return {
        "sizes": sizes,
        "exponent_rows": exponent(
            a["rows_read"], b["rows_read"], a["median_seconds"], b["median_seconds"]
        ),  # fmt: skip
        "exponent_scale": exponent(
            a["scale"], b["scale"], a["median_seconds"], b["median_seconds"]
        ),  # fmt: skip
        "peak_rss_mb_largest": b["peak_rss_mb"],
    }
