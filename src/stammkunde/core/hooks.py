"""Named extension points, so that a lower app can let higher apps react.

Apps depend downward (customers <- commerce/service/loyalty <- analytics <-
campaigns). When a lower app's use case must trigger work in a higher one —
an order earns loyalty points, a public ticket reply goes out by email — the
lower app calls ``hook_run("order_created", order=order)`` and the higher app
registers its handler in ``AppConfig.ready()``. Handlers run synchronously in
the caller's transaction, in registration order; anything doing network I/O
must defer itself with ``transaction.on_commit``. Unlike Django signals the
set of hook names is fixed here, so every extension point is listed in one place.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

HOOKS = {
    "order_created": "an order was stored (kwargs: order)",
    "return_created": "a return was stored (kwargs: ret)",
    "orders_created": (
        "a batch of orders was stored by a bulk write, e.g. an import; the bulk form of "
        "order_created (kwargs: order_ids, customer_ids)"
    ),
    "returns_created": (
        "a batch of returns was stored by a bulk write, e.g. an import; the bulk form of "
        "return_created (kwargs: return_ids, customer_ids)"
    ),
    "ticket_public_reply": "an agent's public reply was stored (kwargs: message)",
    "goodwill_granted": "a ticket's goodwill was granted or approved (kwargs: grant)",
    "goodwill_payouts": (
        "a page shows goodwill grants and asks what each paid out (kwargs: grants, found: "
        "a dict grant id -> {code, status, status_label} for handlers to fill)"
    ),
    "ticket_created": "a ticket was opened, by any channel (kwargs: ticket)",
    "ticket_solved": "a ticket was marked solved (kwargs: ticket)",
    "ticket_survey_state": (
        "the ticket page asks whether a satisfaction survey is planned, sent or answered "
        "(kwargs: ticket, found: a dict for handlers to fill, see feedback.selectors)"
    ),
    "churn_risk_raised": (
        "customers' churn risk rose into a higher band, one call per scoring chunk "
        "(kwargs: scores, a list of analytics.services.ChurnRiskRaise)"
    ),
    "points_changed": "a loyalty booking changed an account's balance (kwargs: entry)",
    "job_failed": (
        "a job of the runner was marked failed: it raised, or the watchdog found its worker "
        "gone (kwargs: job, the core.jobs Job row)"
    ),
    "outbox_sent": (
        "the relay accepted a mail of the channels outbox (kwargs: kind, reference_id, sent_at)"
    ),
    "customer_phases": (
        "a lower app asks the current lifecycle phase of customers (kwargs: customer_ids, "
        "found: a dict customer id -> phase for handlers to fill)"
    ),
    "demo_truth": (
        "a demo generator asks the demo shop's true buying process of customers (kwargs: "
        "customer_ids, found: a dict customer id -> (dropout probability, dropped out) to fill)"
    ),
    "phase_entries": (
        "a lower app asks who entered a lifecycle phase between two days (kwargs: phase, "
        "since, until, found: a list for handlers to extend with (change id, customer id))"
    ),
}

_handlers: dict[str, list[Callable[..., Any]]] = {name: [] for name in HOOKS}


def hook_register(name: str, handler: Callable[..., Any]) -> None:
    """Add ``handler`` to hook ``name`` once (ready() may run twice in tests)."""
    if name not in HOOKS:
        raise KeyError(f"unknown hook {name!r}; add it to core.hooks.HOOKS")
    if handler not in _handlers[name]:
        _handlers[name].append(handler)


def hook_run(name: str, **kwargs: Any) -> None:
    """Call every handler of hook ``name`` with ``kwargs``."""
    for handler in _handlers[name]:
        handler(**kwargs)
