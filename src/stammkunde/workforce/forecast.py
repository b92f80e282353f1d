"""Contact-volume and handling-time forecast per 15/30/60-minute interval.

Model: a Poisson GLM (scikit-learn ``PoissonRegressor``) of contacts per
interval on

* one-hot weekday × slot-of-day (the intraday pattern differs by weekday:
  Monday mornings are busy, Sunday is nearly closed),
* a public-holiday flag from the ``holidays`` package (same data as the SLA
  calendars; the German state is configurable),
* a linear trend in years (log link, so a constant growth rate).

Poisson because contacts are counts: the log link keeps every forecast
positive and the variance grows with the mean, as it does in call data.
Known events (a campaign send, a product recall) are not learnt: intervals
inside past events are left out of the fit, and future events are applied
as what-if uplift factors.  Handling time is a volume-weighted mean per
weekday × slot, shrunk towards the overall mean where a cell has little data.

Timestamps are local wall-clock time (Europe/Berlin); tz-aware input is
converted and made naive, because staffing is planned in local slots.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Self

import holidays
import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.linear_model import PoissonRegressor

from stammkunde.workforce.erlang import StaffingInputError, validate_interval

LOCAL_TZ = "Europe/Berlin"
SUPPORTED_INTERVALS = (15, 30, 60)
# Pseudo-observations of the overall mean AHT added to each weekday × slot cell.
_AHT_CREDIBILITY = 5.0

Event = tuple[Any, Any, float]


@dataclass(frozen=True)
class Uplift:
    """A known event: contacts in [start, end) are multiplied by ``factor``."""

    start: pd.Timestamp
    end: pd.Timestamp
    factor: float


def _uplifts(events: Iterable[Event | Uplift]) -> list[Uplift]:
    result = []
    for event in events:
        start, end, factor = (
            (event.start, event.end, event.factor) if isinstance(event, Uplift) else event
        )
        start, end = _local(pd.Timestamp(start)), _local(pd.Timestamp(end))
        if not end > start:
            raise StaffingInputError("events", "an event must end after it starts")
        if not float(factor) >= 0:
            raise StaffingInputError("events", "an uplift factor must not be negative")
        result.append(Uplift(start, end, float(factor)))
    return result


def _local(ts: pd.Timestamp) -> pd.Timestamp:
    return ts.tz_convert(LOCAL_TZ).tz_localize(None) if ts.tzinfo is not None else ts


def _local_index(index: pd.DatetimeIndex) -> pd.DatetimeIndex:
    if index.tz is not None:
        return index.tz_convert(LOCAL_TZ).tz_localize(None)
    return index


def _validate_interval_minutes(interval_minutes: int) -> int:
    if interval_minutes not in SUPPORTED_INTERVALS:
        raise StaffingInputError("interval_minutes", "must be 15, 30 or 60")
    validate_interval(interval_minutes * 60)
    return int(interval_minutes)


def to_interval_counts(timestamps: Iterable[Any], *, interval_minutes: int = 15) -> pd.Series:
    """Turn contact timestamps (tickets, calls, chats) into counts per interval.

    Empty intervals are kept as zeros: a quiet slot is information, not a gap.
    """
    minutes = _validate_interval_minutes(interval_minutes)
    index = _local_index(pd.DatetimeIndex(pd.to_datetime(list(timestamps))))
    if index.empty:
        raise StaffingInputError("history", "needs at least one contact")
    slots = index.floor(f"{minutes}min")
    counts = pd.Series(1, index=slots).groupby(level=0).sum()
    full = pd.date_range(
        slots.min().normalize(),
        slots.max().normalize() + pd.Timedelta(days=1),
        freq=f"{minutes}min",
        inclusive="left",
    )
    return counts.reindex(full, fill_value=0).rename("contacts").astype(np.float64)


def _infer_interval_minutes(index: pd.DatetimeIndex) -> int:
    if len(index) < 2:
        raise StaffingInputError("history", "needs at least two intervals")
    step = pd.Series(index).diff().dropna().min()
    return _validate_interval_minutes(int(step / pd.Timedelta(minutes=1)))


def _holiday_dates(years: Iterable[int], state: str | None) -> set[date]:
    return set(holidays.country_holidays("DE", subdiv=state, years=sorted(set(years))))


def _history_frame(history: pd.Series | pd.DataFrame) -> pd.DataFrame:
    if isinstance(history, pd.Series):
        frame = history.rename("contacts").to_frame()
    else:
        if "contacts" not in history:
            raise StaffingInputError("history", "needs a 'contacts' column")
        frame = history.copy()
    if not isinstance(frame.index, pd.DatetimeIndex):
        raise StaffingInputError("history", "must be indexed by interval start timestamps")
    frame.index = _local_index(frame.index)
    frame = frame.sort_index()
    contacts = frame["contacts"].to_numpy(dtype=np.float64)
    if np.any(~np.isfinite(contacts)) or np.any(contacts < 0):
        raise StaffingInputError("history", "contacts must be finite and not negative")
    return frame


class ContactForecaster:
    """Forecast contacts (and AHT) per interval; scikit-learn style ``fit``/``predict``.

    After ``fit``: ``model_`` (the fitted GLM), ``origin_`` (trend zero),
    ``interval_minutes_``, ``holiday_effect_`` (multiplier on holidays),
    ``trend_per_year_`` (growth multiplier per year) and, when handling time
    was given, ``aht_by_cell_`` and ``aht_mean_``.
    """

    def __init__(
        self,
        *,
        state: str | None = "BY",
        trend: bool = True,
        alpha: float = 1e-4,
        max_iter: int = 2000,
    ) -> None:
        self.state = state
        self.trend = trend
        self.alpha = alpha
        self.max_iter = max_iter

    # -- design matrix

    def _design(self, index: pd.DatetimeIndex) -> sparse.csr_matrix:
        slots_per_day = 24 * 60 // self.interval_minutes_
        slot = (index.hour * 60 + index.minute) // self.interval_minutes_
        cell = np.asarray(index.day_of_week * slots_per_day + slot, dtype=np.int64)
        rows = np.arange(len(index))
        n_cells = 7 * slots_per_day
        onehot = sparse.csr_matrix((np.ones(len(index)), (rows, cell)), shape=(len(index), n_cells))
        days = index.normalize()
        holiday_dates = _holiday_dates(days.year.unique(), self.state)
        is_holiday = np.fromiter((d.date() in holiday_dates for d in days), bool, len(days))
        extra = [is_holiday.astype(np.float64)]
        if self.trend:
            extra.append(np.asarray((index - self.origin_) / pd.Timedelta(days=365.25)))
        return sparse.hstack([onehot, sparse.csr_matrix(np.column_stack(extra))], format="csr")

    # -- fit / predict

    def fit(
        self, history: pd.Series | pd.DataFrame, *, events: Sequence[Event | Uplift] = ()
    ) -> Self:
        """Learn the pattern from interval counts (Series, or DataFrame with ``contacts``).

        An optional ``handle_s`` column (total handling seconds per interval)
        enables the AHT forecast.  Intervals inside ``events`` are left out so
        that last month's recall does not inflate next month's forecast.
        """
        frame = _history_frame(history)
        self.interval_minutes_ = _infer_interval_minutes(frame.index)
        self.origin_ = frame.index[0].normalize()
        keep = np.ones(len(frame), dtype=bool)
        for event in _uplifts(events):
            keep &= ~((frame.index >= event.start) & (frame.index < event.end))
        frame = frame[keep]
        self.model_ = PoissonRegressor(alpha=self.alpha, max_iter=self.max_iter)
        self.model_.fit(self._design(frame.index), frame["contacts"].to_numpy(np.float64))
        slots_per_day = 24 * 60 // self.interval_minutes_
        coef = self.model_.coef_
        self.holiday_effect_ = float(np.exp(coef[7 * slots_per_day]))
        self.trend_per_year_ = float(np.exp(coef[-1])) if self.trend else 1.0
        if "handle_s" in frame:
            self._fit_aht(frame)
        return self

    def _fit_aht(self, frame: pd.DataFrame) -> None:
        cells = pd.MultiIndex.from_arrays(
            [frame.index.day_of_week, frame.index.hour * 60 + frame.index.minute]
        )
        sums = frame[["contacts", "handle_s"]].set_axis(cells).groupby(level=[0, 1]).sum()
        total = sums.sum()
        if total["contacts"] <= 0:
            raise StaffingInputError("history", "handling time needs at least one contact")
        self.aht_mean_ = float(total["handle_s"] / total["contacts"])
        self.aht_by_cell_ = (sums["handle_s"] + _AHT_CREDIBILITY * self.aht_mean_) / (
            sums["contacts"] + _AHT_CREDIBILITY
        )

    def predict(
        self, start: Any, *, days: int, events: Sequence[Event | Uplift] = ()
    ) -> pd.DataFrame:
        """Forecast ``days`` whole days from ``start`` (a date); column ``contacts``.

        ``events`` are what-if uplifts, e.g. ``[("2026-03-02", "2026-03-05", 1.4)]``
        for +40 % during a recall.  Adds ``aht_s`` when AHT was fitted.
        """
        if days <= 0:
            raise StaffingInputError("days", "must be greater than zero")
        first = _local(pd.Timestamp(start)).normalize()
        index = pd.date_range(
            first,
            first + pd.Timedelta(days=days),
            freq=f"{self.interval_minutes_}min",
            inclusive="left",
        )
        contacts = self.model_.predict(self._design(index))
        for event in _uplifts(events):
            contacts = np.where(
                (index >= event.start) & (index < event.end), contacts * event.factor, contacts
            )
        frame = pd.DataFrame({"contacts": contacts}, index=index)
        if hasattr(self, "aht_by_cell_"):
            cells = pd.MultiIndex.from_arrays([index.day_of_week, index.hour * 60 + index.minute])
            aht = self.aht_by_cell_.reindex(cells).to_numpy(np.float64)
            frame["aht_s"] = np.where(np.isnan(aht), self.aht_mean_, aht)
        return frame


# --------------------------------------------------------------------------- backtest


def wape(actual: np.ndarray, forecast: np.ndarray) -> float:
    """Weighted absolute percentage error Σ|y − ŷ| / Σy.

    Preferred over MAPE because night and Sunday slots have zero contacts,
    where a percentage error is undefined.
    """
    total = float(np.sum(actual))
    return float(np.sum(np.abs(actual - forecast)) / total) if total > 0 else float("nan")


def backtest(
    history: pd.Series | pd.DataFrame,
    *,
    horizon_days: int = 7,
    folds: int = 4,
    state: str | None = "BY",
) -> dict[str, Any]:
    """Rolling-origin backtest: the model against seasonal naive in the same run.

    Each fold trains on everything before its cut-off and forecasts the next
    ``horizon_days``.  Seasonal naive repeats the same slot one week earlier
    (several weeks earlier for horizons over 7 days, so it never peeks past
    the cut-off) — the baseline any forecast must beat to be worth having.
    """
    frame = _history_frame(history)
    y = frame["contacts"]
    if horizon_days <= 0 or folds <= 0:
        raise StaffingInputError("folds", "horizon_days and folds must be positive")
    lag_days = 7 * int(np.ceil(horizon_days / 7))
    last_day = y.index[-1].normalize() + pd.Timedelta(days=1)
    first_cut = last_day - pd.Timedelta(days=horizon_days * folds)
    if first_cut - y.index[0].normalize() < pd.Timedelta(days=max(lag_days, 14)):
        raise StaffingInputError("history", "too short for this many folds and this horizon")
    results = []
    actual_all, model_all, naive_all = [], [], []
    for fold in range(folds):
        cut = first_cut + pd.Timedelta(days=fold * horizon_days)
        end = cut + pd.Timedelta(days=horizon_days)
        train = frame[frame.index < cut]
        test = y[(y.index >= cut) & (y.index < end)]
        model = ContactForecaster(state=state).fit(train)
        predicted = model.predict(cut, days=horizon_days)["contacts"].reindex(test.index)
        naive = y.reindex(test.index - pd.Timedelta(days=lag_days)).to_numpy(np.float64)
        actual = test.to_numpy(np.float64)
        results.append(
            {
                "cutoff": cut.isoformat(),
                "wape_model": wape(actual, predicted.to_numpy()),
                "wape_seasonal_naive": wape(actual, np.nan_to_num(naive)),
            }
        )
        actual_all.append(actual)
        model_all.append(predicted.to_numpy())
        naive_all.append(np.nan_to_num(naive))
    actual_cat = np.concatenate(actual_all)
    return {
        "wape_model": wape(actual_cat, np.concatenate(model_all)),
        "wape_seasonal_naive": wape(actual_cat, np.concatenate(naive_all)),
        "horizon_days": horizon_days,
        "folds": results,
    }


# --------------------------------------------------------------------------- demo data

_WEEKDAY_FACTOR = np.array([1.35, 1.1, 1.0, 0.95, 0.9, 0.35, 0.03])
_HOLIDAY_FACTOR = 0.08


def _intraday_profile(hours: np.ndarray, weekday: np.ndarray) -> np.ndarray:
    morning = np.exp(-0.5 * ((hours - 10.0) / 1.3) ** 2)
    afternoon = 0.75 * np.exp(-0.5 * ((hours - 14.0) / 1.5) ** 2)
    weekday_open = (hours >= 7.0) & (hours < 20.0)
    saturday_open = (hours >= 9.0) & (hours < 16.0)
    is_open = np.where(weekday == 5, saturday_open, weekday_open)
    # A trickle outside opening hours: web forms and mails still arrive.
    return np.where(is_open, 0.1 + morning + afternoon, 0.01)


def synthetic_contacts(
    start: Any,
    days: int,
    *,
    seed: int,
    interval_minutes: int = 15,
    daily_volume: float = 1200.0,
    trend_per_year: float = 0.15,
    state: str | None = "BY",
) -> pd.Series:
    """Demo and test data with a realistic shape, Poisson-drawn per interval.

    Morning peak around 10:00 and a smaller one around 14:00, Monday the
    busiest day, Saturday short, Sunday nearly closed, public holidays low,
    and ``trend_per_year`` growth — the features the forecast must recover.
    """
    minutes = _validate_interval_minutes(interval_minutes)
    first = _local(pd.Timestamp(start)).normalize()
    index = pd.date_range(
        first, first + pd.Timedelta(days=days), freq=f"{minutes}min", inclusive="left"
    )
    hours = np.asarray(index.hour + index.minute / 60.0, dtype=np.float64)
    weekday = np.asarray(index.day_of_week)
    profile = _intraday_profile(hours, weekday)
    slots_per_day = 24 * 60 // minutes
    day_sum = _intraday_profile(
        np.arange(slots_per_day) * minutes / 60.0, np.zeros(slots_per_day, dtype=int)
    ).sum()
    holiday_dates = _holiday_dates(index.year.unique(), state)
    is_holiday = np.fromiter((t.date() in holiday_dates for t in index), bool, len(index))
    years = np.asarray((index - first) / pd.Timedelta(days=365.25), dtype=np.float64)
    mean = (
        daily_volume
        * profile
        / day_sum
        * _WEEKDAY_FACTOR[weekday]
        * np.where(is_holiday, _HOLIDAY_FACTOR, 1.0)
        * (1.0 + trend_per_year) ** years
    )
    counts = np.random.default_rng(seed).poisson(mean)
    return pd.Series(counts.astype(np.float64), index=index, name="contacts")
