"""Erlang C, Erlang A and workload staffing, vectorised over intervals.

Planners ask one question per interval: "how many agents do we need so that
X % of contacts are answered within Y seconds?"  A year of 15-minute
intervals for several queues is about 175,000 such questions, so every
function here takes numpy arrays (one element per interval) and avoids Python
loops over intervals.  Loops run over *agent counts* only, and only for the
intervals that still miss their target.

Numerical stability: the Erlang B blocking probability is evaluated in log
space as ``pmf(n; a) / cdf(n; a)`` of a Poisson distribution (scipy's
``gammaln`` and ``gammaincc``), and stepped with the recursion
``B(n) = a·B(n-1) / (n + a·B(n-1))``.  Neither involves a factorial or a power
that overflows, so 1,000+ agents and 1,000 Erlangs are fine.

References: Cooper, *Introduction to Queueing Theory* (1981), ch. 3 (Erlang B
and C); Garnett, Mandelbaum & Reiman, "Designing a call center with impatient
customers", M&SOM 4(3), 2002, and Mandelbaum & Zeltyn, "The Palm/Erlang-A
queue, with applications to call centers" (2007) for Erlang A.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import special

ArrayLike = npt.ArrayLike
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

SECONDS_PER_DAY = 24 * 60 * 60
# Rounding before ceil() absorbs binary floating-point error such as
# 21 / (1 - 0.3) == 30.000000000000004 without hiding a genuine fraction.
_CEIL_DECIMALS = 9


class StaffingInputError(ValueError):
    """Bad staffing input; ``field`` names the offending parameter for the CLI/API."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


# --------------------------------------------------------------------------- validation


def _as_float_array(value: ArrayLike, field: str) -> FloatArray:
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise StaffingInputError(field, "must be a number") from exc
    if not np.all(np.isfinite(array)):
        raise StaffingInputError(field, "must be a finite number")
    return array


def _require_positive(value: ArrayLike, field: str) -> FloatArray:
    array = _as_float_array(value, field)
    if np.any(array <= 0):
        raise StaffingInputError(field, "must be greater than zero")
    return array


def _require_non_negative(value: ArrayLike, field: str) -> FloatArray:
    array = _as_float_array(value, field)
    if np.any(array < 0):
        raise StaffingInputError(field, "must not be negative")
    return array


def validate_interval(interval_s: float) -> float:
    """Reject interval lengths that do not tile the day (e.g. 7 minutes).

    Forecasts, rosters and heat maps are all indexed by "slot of the day"; an
    interval that does not divide 24 h would make slots drift across days.
    """
    value = float(_require_positive(interval_s, "interval_s"))
    if not value.is_integer() or SECONDS_PER_DAY % int(value) != 0:
        raise StaffingInputError("interval_s", "must divide 24 hours into whole intervals")
    return value


def validate_target_sl(target_sl: float) -> float:
    """A service-level target of 0 or 1 is meaningless (0) or unreachable (1)."""
    value = float(_as_float_array(target_sl, "target_sl"))
    if not 0.0 < value < 1.0:
        raise StaffingInputError("target_sl", "must lie strictly between 0 and 1")
    return value


def validate_shrinkage(shrinkage: float) -> float:
    """Shrinkage is a share of paid time lost; 100 % would need infinite staff."""
    value = float(_as_float_array(shrinkage, "shrinkage"))
    if not 0.0 <= value < 1.0:
        raise StaffingInputError("shrinkage", "must lie in [0, 1)")
    return value


def validate_max_occupancy(max_occupancy: float | None) -> float | None:
    """Maximum occupancy is a share of logged-in time spent on contacts."""
    if max_occupancy is None:
        return None
    value = float(_as_float_array(max_occupancy, "max_occupancy"))
    if not 0.0 < value <= 1.0:
        raise StaffingInputError("max_occupancy", "must lie in (0, 1]")
    return value


# --------------------------------------------------------------------------- load and Erlang B/C


def offered_load(*, calls: ArrayLike, aht_s: ArrayLike, interval_s: float) -> FloatArray:
    """Offered traffic in Erlangs, ``a = calls × AHT / interval length``.

    Zero calls are allowed here (a quiet night slot needs no agents); the
    single-interval CLI rejects them because a staffing question about no
    traffic is almost always a typo.
    """
    interval = validate_interval(interval_s)
    calls_array = _require_non_negative(calls, "calls")
    aht_array = _require_positive(aht_s, "aht_s")
    return np.asarray(calls_array * aht_array / interval, dtype=np.float64)


def _log_erlang_b_closed_form(n: FloatArray, a: FloatArray) -> FloatArray:
    # B(n, a) = Poisson pmf(n; a) / Poisson cdf(n; a); cdf = Q(n + 1, a).
    with np.errstate(divide="ignore", invalid="ignore"):
        log_pmf = special.xlogy(n, a) - a - special.gammaln(n + 1.0)
        return np.asarray(log_pmf - np.log(special.gammaincc(n + 1.0, a)), dtype=np.float64)


def erlang_b(agents: ArrayLike, traffic: ArrayLike) -> FloatArray:
    """Blocking probability of an M/M/n/n system (Erlang B), vectorised.

    Used as the stable building block of Erlang C and Erlang A.  Where the
    closed form underflows (far fewer agents than Erlangs), falls back to the
    forward recursion, which is stable but costs one step per agent.
    """
    n, a = np.broadcast_arrays(
        np.asarray(agents, dtype=np.float64), np.asarray(traffic, dtype=np.float64)
    )
    result = np.ones(n.shape, dtype=np.float64)
    positive = a > 0
    result[~positive] = np.where(n[~positive] > 0, 0.0, 1.0)
    log_b = _log_erlang_b_closed_form(n[positive], a[positive])
    values = np.exp(np.minimum(log_b, 0.0))
    bad = ~np.isfinite(log_b)
    if np.any(bad):
        values[bad] = _erlang_b_recursion(n[positive][bad], a[positive][bad])
    result[positive] = values
    return result


def _erlang_b_recursion(n: FloatArray, a: FloatArray) -> FloatArray:
    b = np.ones_like(a)
    top = int(n.max()) if n.size else 0
    for k in range(1, top + 1):
        step = k <= n
        ab = a[step] * b[step]
        b[step] = ab / (k + ab)
    return b


def _erlang_c_from_b(n: FloatArray, a: FloatArray, b: FloatArray) -> FloatArray:
    # C = n·B / (n − a·(1 − B)); only called where n > a, so the denominator is positive.
    return np.asarray(n * b / (n - a * (1.0 - b)), dtype=np.float64)


@dataclass(frozen=True)
class ErlangCResult:
    """Erlang C metrics per interval; arrays share one shape.

    Where ``stable`` is False (agents ≤ traffic) the queue grows without
    bound: ``p_wait`` is 1, ``service_level`` 0, ``asa_s`` infinite and
    ``occupancy`` 1 — never a negative waiting time.
    """

    traffic: FloatArray
    agents: IntArray
    p_wait: FloatArray
    service_level: FloatArray
    asa_s: FloatArray
    occupancy: FloatArray
    stable: npt.NDArray[np.bool_]


def erlang_c(
    *, agents: ArrayLike, traffic: ArrayLike, aht_s: ArrayLike, target_answer_s: float
) -> ErlangCResult:
    """Evaluate a given staffing: P(wait), service level, ASA and occupancy.

    Service level is the share of contacts answered within
    ``target_answer_s``: ``1 − P(wait)·exp(−(n − a)·T / AHT)``.
    """
    n_raw = _require_non_negative(agents, "agents")
    if np.any(n_raw != np.floor(n_raw)):
        raise StaffingInputError("agents", "must be a whole number")
    a = _require_non_negative(traffic, "traffic")
    aht = _require_positive(aht_s, "aht_s")
    answer = float(_require_non_negative(target_answer_s, "target_answer_s"))
    n, a, aht = np.broadcast_arrays(n_raw, a, aht)
    stable = n > a
    p_wait = np.ones(n.shape)
    service_level = np.zeros(n.shape)
    asa = np.full(n.shape, np.inf)
    occupancy = np.ones(n.shape)
    if np.any(stable):
        ns, as_, ahts = n[stable], a[stable], aht[stable]
        c = _erlang_c_from_b(ns, as_, erlang_b(ns, as_))
        p_wait[stable] = c
        service_level[stable] = 1.0 - c * np.exp(-(ns - as_) * answer / ahts)
        asa[stable] = c * ahts / (ns - as_)
        occupancy[stable] = as_ / ns
    return ErlangCResult(
        traffic=np.asarray(a, dtype=np.float64),
        agents=n.astype(np.int64),
        p_wait=p_wait,
        service_level=service_level,
        asa_s=asa,
        occupancy=occupancy,
        stable=np.asarray(stable),
    )


def _ceil_guarded(values: FloatArray) -> IntArray:
    return np.ceil(np.round(values, _CEIL_DECIMALS)).astype(np.int64)


def required_agents(
    *,
    traffic: ArrayLike,
    aht_s: ArrayLike,
    target_answer_s: float,
    target_sl: float,
    max_occupancy: float | None = None,
) -> IntArray:
    """Smallest agent count per interval meeting the SL target (and max occupancy).

    Both targets are lower bounds on n, so the most restrictive one wins.
    The search starts at the occupancy bound or the first stable count
    (⌊a⌋ + 1), evaluates Erlang B there in closed form and then steps up one
    agent at a time with the Erlang B recursion — only for the intervals
    still short of the target.  Steps needed grow like √a, so 1,000 Erlangs
    cost a few dozen vector operations.
    """
    target = validate_target_sl(target_sl)
    occupancy_cap = validate_max_occupancy(max_occupancy)
    answer = float(_require_non_negative(target_answer_s, "target_answer_s"))
    a = _require_non_negative(traffic, "traffic")
    aht = _require_positive(aht_s, "aht_s")
    a, aht = np.broadcast_arrays(a, aht)
    shape = a.shape
    a = a.ravel()
    aht = aht.ravel()

    n = np.floor(a) + 1.0
    if occupancy_cap is not None:
        n = np.maximum(n, _ceil_guarded(a / occupancy_cap).astype(np.float64))
    n[a == 0] = 0.0

    todo = np.flatnonzero(a > 0)
    a_t, aht_t, n_t = a[todo], aht[todo], n[todo]
    b_t = np.exp(_log_erlang_b_closed_form(n_t, a_t))
    decay = answer / aht_t
    while todo.size:
        c = _erlang_c_from_b(n_t, a_t, b_t)
        short = 1.0 - c * np.exp(-(n_t - a_t) * decay) < target
        n[todo[~short]] = n_t[~short]
        todo, a_t, aht_t, n_t, b_t, decay = (
            todo[short],
            a_t[short],
            aht_t[short],
            n_t[short] + 1.0,
            b_t[short],
            decay[short],
        )
        ab = a_t * b_t
        b_t = ab / (n_t + ab)
    return n.astype(np.int64).reshape(shape)


def scheduled_agents(raw_agents: ArrayLike, shrinkage: float) -> IntArray:
    """Agents to schedule so that ``raw_agents`` are on the phones after shrinkage.

    ``ceil(raw / (1 − s))`` with rounding to 9 decimals first: in binary
    floating point 21 / 0.7 is 30.000000000000004 and a plain ceil would
    schedule a 31st agent every single interval.
    """
    s = validate_shrinkage(shrinkage)
    raw = _require_non_negative(raw_agents, "raw_agents")
    return _ceil_guarded(raw / (1.0 - s))


# --------------------------------------------------------------------------- Erlang A


@dataclass(frozen=True)
class ErlangAResult:
    """Erlang A (M/M/n+M) metrics per interval.

    ``service_level`` is the share of *offered* contacts answered within the
    target time; callers who hang up count against it, which is the
    conservative reading.  With infinite patience it equals Erlang C.
    """

    agents: IntArray
    p_wait: FloatArray
    service_level: FloatArray
    abandon_rate: FloatArray
    asa_s: FloatArray
    occupancy: FloatArray


def _erlang_a_chunk(
    n: FloatArray, a: FloatArray, aht: FloatArray, patience: FloatArray, answer: float
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Birth–death chain with states k = n + j (j waiting), truncated far in the tail.

    With x = n·μ/θ and y = λ/θ the queue states have weights
    π(n+j)/π(n) = y^j·Γ(x+1)/Γ(x+j+1); the states k ≤ n together weigh
    1/B(n, a).  A caller arriving behind j others is answered by time T with
    probability x/(x+j+1)·P(U ≥ e^{−θT}), U ~ Beta(x+1, j+1): each step of the
    line races against the caller's own patience, and the sum of the
    exponential step times with rates θ(x+1) … θ(x+j+1) equals −ln(U)/θ.
    """
    theta = 1.0 / patience
    lam = a / aht
    x = n / (aht * theta)
    y = lam / theta
    # Queue terms peak near j = y − x and fall off like a Poisson tail beyond.
    spread = np.maximum(y - x, 0.0) + 10.0 * np.sqrt(y + 1.0) + 50.0
    j = np.arange(int(np.ceil(spread.max())) + 1, dtype=np.float64)[None, :]
    xc, yc = x[:, None], y[:, None]
    log_terms = special.xlogy(j, yc) + special.gammaln(xc + 1.0) - special.gammaln(xc + j + 1.0)
    log_queue = special.logsumexp(log_terms, axis=1)
    b = erlang_b(n, a)
    # States 0 … n−1 weigh 1/B − 1 relative to state n (which is j = 0 above).
    with np.errstate(divide="ignore"):
        log_below = np.log1p(-b) - np.log(b)
    log_total = np.logaddexp(log_below, log_queue)
    weights = np.exp(log_terms - log_total[:, None])  # π(n + j)
    p_wait = np.exp(log_queue - log_total)
    mean_queue = (weights * j).sum(axis=1)
    abandon = theta * mean_queue / lam  # abandonment flow θ·E[Q] over arrival flow λ
    z = np.exp(-theta * answer)[:, None]
    answered_in_time = xc / (xc + j + 1.0) * special.betaincc(xc + 1.0, j + 1.0, z)
    service_level = (1.0 - p_wait) + (weights * answered_in_time).sum(axis=1)
    mean_wait = mean_queue / lam  # Little's law over all offered contacts
    return p_wait, service_level, abandon, mean_wait


def erlang_a(
    *,
    agents: ArrayLike,
    traffic: ArrayLike,
    aht_s: ArrayLike,
    patience_s: ArrayLike,
    target_answer_s: float,
    chunk_cells: int = 4_000_000,
) -> ErlangAResult:
    """Evaluate a staffing with abandonment (mean patience ``patience_s``).

    Unlike Erlang C this is stable for any n: impatient callers leave, so an
    understaffed interval shows up as a high abandon rate instead of an
    infinite wait.  ``asa_s`` is the mean wait of all offered contacts
    (answered or abandoned), by Little's law.
    """
    n_raw = _require_non_negative(agents, "agents")
    if np.any(n_raw != np.floor(n_raw)):
        raise StaffingInputError("agents", "must be a whole number")
    a = _require_non_negative(traffic, "traffic")
    aht = _require_positive(aht_s, "aht_s")
    patience = _require_positive(patience_s, "patience_s")
    answer = float(_require_non_negative(target_answer_s, "target_answer_s"))
    shape = np.broadcast_shapes(n_raw.shape, a.shape, aht.shape, patience.shape)
    n, a, aht, patience = (arr.ravel() for arr in np.broadcast_arrays(n_raw, a, aht, patience))
    p_wait = np.zeros(n.shape)
    service_level = np.ones(n.shape)
    abandon = np.zeros(n.shape)
    asa = np.zeros(n.shape)
    busy = np.flatnonzero(a > 0)
    # Bound the (intervals × queue states) matrix to a few million cells.
    width = np.maximum(a - n, 0.0) * patience / aht + 10.0 * np.sqrt(a * patience / aht + 1.0)
    rows = max(1, int(chunk_cells // (float(width[busy].max()) + 51.0))) if busy.size else 1
    for start in range(0, busy.size, rows):
        idx = busy[start : start + rows]
        p_wait[idx], service_level[idx], abandon[idx], asa[idx] = _erlang_a_chunk(
            n[idx], a[idx], aht[idx], patience[idx], answer
        )
    carried = a * (1.0 - abandon)
    with np.errstate(divide="ignore", invalid="ignore"):
        occupancy = np.where(n > 0, carried / n, 0.0)
    return ErlangAResult(
        agents=n.astype(np.int64).reshape(shape),
        p_wait=p_wait.reshape(shape),
        service_level=np.clip(service_level, 0.0, 1.0).reshape(shape),
        abandon_rate=np.clip(abandon, 0.0, 1.0).reshape(shape),
        asa_s=asa.reshape(shape),
        occupancy=occupancy.reshape(shape),
    )


def required_agents_erlang_a(
    *,
    traffic: ArrayLike,
    aht_s: ArrayLike,
    patience_s: ArrayLike,
    target_answer_s: float,
    target_sl: float,
    max_abandon_rate: float | None = None,
    max_occupancy: float | None = None,
) -> IntArray:
    """Smallest n per interval meeting SL, an abandon-rate cap and max occupancy.

    Service level and abandon rate are monotone in n, so a vectorised
    bisection over n finds the answer in about log2(a) evaluations.
    """
    target = validate_target_sl(target_sl)
    occupancy_cap = validate_max_occupancy(max_occupancy)
    if max_abandon_rate is not None and not 0.0 < float(max_abandon_rate) < 1.0:
        raise StaffingInputError("max_abandon_rate", "must lie strictly between 0 and 1")
    a = _require_non_negative(traffic, "traffic")
    aht = _require_positive(aht_s, "aht_s")
    patience = _require_positive(patience_s, "patience_s")
    a, aht, patience = np.broadcast_arrays(a, aht, patience)
    shape = a.shape
    a, aht, patience = a.ravel(), aht.ravel(), patience.ravel()

    def meets(n: FloatArray, idx: IntArray) -> npt.NDArray[np.bool_]:
        res = erlang_a(
            agents=n,
            traffic=a[idx],
            aht_s=aht[idx],
            patience_s=patience[idx],
            target_answer_s=target_answer_s,
        )
        ok = res.service_level >= target
        if max_abandon_rate is not None:
            ok &= res.abandon_rate <= max_abandon_rate
        return np.asarray(ok)

    # Erlang C's answer (infinite patience) is nearly always enough, because
    # abandonment shortens the line; but callers who hang up count against the
    # service level, so check it and double where it is not.
    hi = required_agents(
        traffic=a, aht_s=aht, target_answer_s=target_answer_s, target_sl=target
    ).astype(np.float64)
    lo = np.zeros_like(a)
    idx = np.flatnonzero(a > 0)
    bad = idx[~meets(hi[idx], idx)]
    while bad.size:
        hi[bad] *= 2.0
        bad = bad[~meets(hi[bad], bad)]
    # Invariant: hi meets the targets, lo does not (or is zero).
    active = idx[hi[idx] - lo[idx] > 1]
    while active.size:
        mid = np.floor((lo[active] + hi[active]) / 2.0)
        ok = meets(mid, active)
        hi[active[ok]] = mid[ok]
        lo[active[~ok]] = mid[~ok]
        active = active[hi[active] - lo[active] > 1]
    result = np.where(a > 0, hi, 0.0)
    if occupancy_cap is not None:
        result = np.maximum(result, _ceil_guarded(a / occupancy_cap))
    return result.astype(np.int64).reshape(shape)


# --------------------------------------------------------------------------- workload


def workload_agents(
    *,
    items: ArrayLike,
    handling_s: ArrayLike,
    window_s: ArrayLike,
    utilisation: float = 0.85,
) -> IntArray:
    """Agents for deferred work (email, back office) that must be done within a window.

    ``ceil(items × handling time / (window × utilisation))``: no queueing
    model, because nobody waits on the line — the work only has to be
    finished before its deadline.  Utilisation < 1 leaves room for the
    interruptions that make 100 % productive time a fiction.
    """
    work = _require_non_negative(items, "items") * _require_positive(handling_s, "handling_s")
    window = _require_positive(window_s, "window_s")
    if not 0.0 < float(utilisation) <= 1.0:
        raise StaffingInputError("utilisation", "must lie in (0, 1]")
    return _ceil_guarded(work / (window * float(utilisation)))
