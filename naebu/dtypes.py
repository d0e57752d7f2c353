"""Building canonical text columns fast.

Canonical text columns use pandas' ``string`` dtype. With pyarrow installed (a dependency)
that dtype is Arrow-backed, and ``pd.array(objects, dtype="string")`` validates every value in
Python before handing the list to Arrow; Arrow validates it anyway, five times faster. Record
history loads and source coercion build millions of such values per run.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

try:
    import pyarrow as pa
except ImportError:  # pragma: no cover - pyarrow is a dependency; keep working without it
    pa = None


def text_array(values: Sequence[Any] | np.ndarray) -> pd.api.extensions.ExtensionArray:
    """``values`` (str or None/NaN/NA, nothing else) as an array of the ``string`` dtype."""
    if pa is not None and pd.StringDtype().storage == "pyarrow":
        objects = np.asarray(values, dtype=object) if len(values) else np.array([], dtype=object)
        # from_pandas: NaN and pd.NA count as null, like pandas' own constructor.
        return pd.arrays.ArrowStringArray(
            pa.array(objects, type=pa.large_string(), from_pandas=True)
        )
    return pd.array(np.asarray(values, dtype=object) if len(values) else [], dtype="string")
