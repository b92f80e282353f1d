"""Input coercion shared by the statistical models."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

FloatArray = npt.NDArray[np.float64]
ArrayLike = npt.ArrayLike


def as_float(values: ArrayLike) -> FloatArray:
    """Return ``values`` as a float64 array (Series/lists/scalars accepted)."""
    if isinstance(values, pd.Series):
        return values.to_numpy(dtype=np.float64)
    return np.asarray(values, dtype=np.float64)


def deduplicate(*columns: FloatArray, weights: ArrayLike | None = None) -> tuple[FloatArray, ...]:
    """Collapse identical rows and sum their weights.

    Why: the likelihoods depend on a customer only through their row, and real
    data has many identical rows (every one-off buyer of the same week), so the
    optimiser evaluates far fewer special functions per step.
    """
    frame = pd.DataFrame({f"c{i}": col for i, col in enumerate(columns)})
    frame["w"] = 1.0 if weights is None else as_float(weights)
    grouped = frame.groupby([f"c{i}" for i in range(len(columns))], sort=False)["w"].sum()
    keys = grouped.index
    out = [keys.get_level_values(i).to_numpy(dtype=np.float64) for i in range(len(columns))]
    if len(columns) == 1:
        out = [keys.to_numpy(dtype=np.float64)]
    return (*out, grouped.to_numpy(dtype=np.float64))
