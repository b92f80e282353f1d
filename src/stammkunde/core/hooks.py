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
    "ticket_public_reply": "an agent's public reply was stored (kwargs: message)",
    "goodwill_granted": "a ticket's goodwill was granted or approved (kwargs: grant)",
    "ticket_created": "a ticket was opened, by any channel (kwargs: ticket)",
    "ticket_solved": "a ticket was marked solved (kwargs: ticket)",
    "churn_risk_raised": (
        "customers' churn risk rose into a higher band, one call per scoring chunk "
        "(kwargs: scores, a list of analytics.services.ChurnRiskRaise)"
    ),
    "points_changed": "a loyalty booking changed an account's balance (kwargs: entry)",
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
