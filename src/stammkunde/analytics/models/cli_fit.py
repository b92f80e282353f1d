"""Fit BG/NBD (and Gamma-Gamma) from a CSV file, for ``stammkunde clv fit``.

The Django management command only parses arguments and prints JSON; all
validation lives here so analysts get the same messages from any caller.
Errors name the file and the first offending line (1-based, header = line 1)
and column, because analysts fix CSVs in spreadsheets.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .bgnbd import BetaGeoModel
from .gamma_gamma import GammaGammaModel
from .rfm import Freq, rfm_summary


class InputError(ValueError):
    """Raised for unreadable or invalid input files, with file, line and column."""

    def __init__(
        self, path: str | Path, message: str, *, line: int | None = None, column: str | None = None
    ):
        where = str(path)
        if line is not None:
            where += f", line {line}"
        if column is not None:
            where += f", column {column!r}"
        super().__init__(f"{where}: {message}")
        self.path, self.line, self.column = str(path), line, column


def _read_csv(path: str | Path) -> pd.DataFrame:
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except FileNotFoundError as exc:
        raise InputError(path, "file not found") from exc
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(path, f"not a readable CSV file ({exc})") from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def _line_of(mask: np.ndarray) -> int:
    # Data row i (0-based) is on line i + 2: line 1 is the header.
    return int(np.flatnonzero(mask)[0]) + 2


def _require_columns(path: str | Path, frame: pd.DataFrame, columns: list[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        found = ", ".join(frame.columns) or "none"
        raise InputError(path, f"missing column(s) {', '.join(missing)} (found: {found})")


def _numeric(path: str | Path, frame: pd.DataFrame, column: str) -> np.ndarray:
    values = pd.to_numeric(frame[column].str.strip(), errors="coerce").to_numpy(dtype=np.float64)
    bad = ~np.isfinite(values)
    if bad.any():
        line = _line_of(bad)
        raise InputError(
            path, f"{frame[column].iloc[line - 2]!r} is not a number", line=line, column=column
        )
    if (values < 0).any():
        raise InputError(
            path, "value must not be negative", line=_line_of(values < 0), column=column
        )
    return values


def clv_fit_from_summary(path: str | Path) -> dict[str, Any]:
    """Fit on a summary CSV (``frequency,recency,T[,monetary_value]``) and return the parameters."""
    frame = _read_csv(path)
    _require_columns(path, frame, ["frequency", "recency", "T"])
    if frame.empty:
        raise InputError(path, "no data rows")
    x = _numeric(path, frame, "frequency")
    tx = _numeric(path, frame, "recency")
    t_age = _numeric(path, frame, "T")
    if (x != np.round(x)).any():
        raise InputError(
            path,
            "frequency must be a whole number",
            line=_line_of(x != np.round(x)),
            column="frequency",
        )
    if (tx > t_age).any():
        raise InputError(
            path, "recency is greater than T", line=_line_of(tx > t_age), column="recency"
        )
    result = _fit_bgnbd(x, tx, t_age)
    if "monetary_value" in frame.columns:
        result.update(_fit_gamma_gamma(path, x, _numeric(path, frame, "monetary_value")))
    return result


def clv_fit_from_transactions(
    path: str | Path,
    *,
    customer_col: str,
    date_col: str,
    amount_col: str | None = None,
    calibration_end: str | None = None,
    freq: Freq = "D",
) -> dict[str, Any]:
    """Summarise a transactions CSV (optionally up to ``calibration_end``) and fit the models.

    Times are in days (``freq="D"``) or weeks (``"W"``); alpha is per that unit.
    """
    frame = _read_csv(path)
    columns = [customer_col, date_col] + ([amount_col] if amount_col else [])
    _require_columns(path, frame, columns)
    if frame.empty:
        raise InputError(path, "no data rows")
    empty_id = frame[customer_col].str.strip() == ""
    if empty_id.any():
        raise InputError(
            path, "customer id is empty", line=_line_of(empty_id.to_numpy()), column=customer_col
        )
    dates = pd.to_datetime(frame[date_col].str.strip(), errors="coerce", format="mixed")
    bad_dates = dates.isna().to_numpy()
    if bad_dates.any():
        line = _line_of(bad_dates)
        raise InputError(
            path, f"{frame[date_col].iloc[line - 2]!r} is not a date", line=line, column=date_col
        )
    data = pd.DataFrame({"customer": frame[customer_col], "date": dates})
    if amount_col:
        data["amount"] = _numeric(path, frame, amount_col)
    end = None
    if calibration_end is not None:
        end = pd.to_datetime(calibration_end, errors="coerce")
        if pd.isna(end):
            raise InputError(path, f"calibration end {calibration_end!r} is not a date")
        if not (data["date"] <= end).any():
            raise InputError(
                path, f"no transactions on or before calibration end {calibration_end}"
            )
    summary = rfm_summary(
        data,
        customer_col="customer",
        date_col="date",
        amount_col="amount" if amount_col else None,
        observation_end=end,
        freq=freq,
    )
    result = _fit_bgnbd(*(summary[c].to_numpy() for c in ("frequency", "recency", "T")))
    if amount_col:
        result.update(
            _fit_gamma_gamma(
                path, summary["frequency"].to_numpy(), summary["monetary_value"].to_numpy()
            )
        )
    return result


def _fit_bgnbd(x: np.ndarray, tx: np.ndarray, t_age: np.ndarray) -> dict[str, Any]:
    model = BetaGeoModel().fit(x, tx, t_age)
    return {
        "r": model.r_,
        "alpha": model.alpha_,
        "a": model.a_,
        "b": model.b_,
        "log_likelihood": model.log_likelihood_,
    }


def _fit_gamma_gamma(path: str | Path, x: np.ndarray, m: np.ndarray) -> dict[str, Any]:
    if not ((x > 0) & (m > 0)).any():
        raise InputError(path, "no customer with repeat purchases and a positive amount")
    model = GammaGammaModel().fit(x, m)
    return {"p": model.p_, "q": model.q_, "v": model.v_}
