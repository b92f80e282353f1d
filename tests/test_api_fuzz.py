"""API fuzzing: schemathesis against the live test server, once per role.

The OpenAPI schema from ``/api/schema/`` is the contract. For every operation
and every role schemathesis sends generated requests, valid and invalid ones,
over real HTTP with the role's API token, and runs all its checks on each
answer: no 5xx, the status code is documented, the body and headers match the
schema, invalid data is refused, valid data is not. Failures are collected and
listed together (docs/security.md, "API fuzzing").

Bounds: ``STAMMKUNDE_FUZZ_EXAMPLES`` examples per operation, mode and role
(default 3) and ``STAMMKUNDE_FUZZ_SECONDS`` for the whole run (default 480: about two minutes
on a quiet 2-core machine, four times that when the machine is busy).
The generation is derandomised, so a CI run repeats the last one; set
``STAMMKUNDE_FUZZ_SEED`` to explore other inputs.
"""

from __future__ import annotations

import logging
import os
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from rest_framework.authtoken.models import Token
from schemathesis import GenerationMode
from schemathesis.core.failures import FailureGroup

from stammkunde.core.roles import ADMIN, ALL_ROLES, PARTNER_AGENT
from stammkunde.loyalty import services as loyalty_services
from tests.commerce.factories import order
from tests.customers.factories import CustomerFactory
from tests.loyalty.factories import account
from tests.service.factories import queue, ticket

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

EXAMPLES = int(os.environ.get("STAMMKUNDE_FUZZ_EXAMPLES", "3"))
SECONDS = float(os.environ.get("STAMMKUNDE_FUZZ_SECONDS", "480"))
SEED = os.environ.get("STAMMKUNDE_FUZZ_SEED")

# All checks on. A schema cannot say which voucher codes exist or which ids an
# order may name, so schema-valid data the business rules refuse may answer
# 400 (with field errors; the error body is checked against the schema too).
CONFIG = schemathesis.Config.from_dict(
    {
        "checks": {
            "positive_data_acceptance": {
                "expected-statuses": ["2xx", "400", "401", "403", "404", "409", "429"]
            }
        }
    }
)


@dataclass
class Tally:
    """What the run sent and what it found, for the figures in docs/security.md."""

    operations: int = 0
    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    failures: dict[tuple[str, str], tuple[set[str], str]] = field(default_factory=dict)

    def fail(self, role: str, label: str, title: str, detail: str) -> None:
        roles, _ = self.failures.setdefault((label, title), (set(), detail))
        roles.add(role)

    def report(self, server_errors: list[str]) -> str:
        lines = [f"{len(self.failures)} failures (operation, check, roles, first case):"]
        for (label, title), (roles, detail) in sorted(self.failures.items()):
            lines.append(f"- {label}: {title} [{', '.join(sorted(roles))}]\n    {detail}")
        if server_errors:
            lines.append(f"The server logged {len(server_errors)} exceptions; the first:")
            lines.append(server_errors[0])
        return "\n".join(lines)


class ServerErrors(logging.Handler):
    """The live server's unhandled exceptions (the ``django.request`` log), so a 500 says why."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.seen: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info:
            text += "\n" + "".join(traceback.format_exception(*record.exc_info))[-3000:]
        self.seen.append(text)


def _demo_data(partner: Any) -> dict[str, Any]:
    """Objects of the main kinds, one ticket in the partner's queue; their ids steer the fuzzer."""
    customer = CustomerFactory()
    placed = order(customer, "B-FUZZ-1")
    own = ticket(customer=customer)
    ticket(customer=CustomerFactory(), q=queue("Partner", partner=partner))
    acc = account(customer)
    loyalty_services.voucher_issue(actor=None, kind="amount", value="10", min_order="30")
    return {
        "/api/customers/{id}/": customer.pk,
        "/api/orders/{id}/": placed.pk,
        "/api/products/{id}/": placed.lines.first().product_id,
        "/api/tickets/{id}/": own.pk,
        "/api/loyalty/accounts/{id}/": acc.pk,
        "card_number": acc.card_number,
    }


def _known_parameters(path: str, known: dict[str, Any]) -> dict[str, Any] | None:
    """Path parameters of an existing object for ``path``, so not every request is a 404."""
    if "{card_number}" in path:
        return {"card_number": known["card_number"]}
    for prefix, pk in known.items():
        if prefix.startswith("/") and path.startswith(prefix):
            return {"id": pk}
    return None


def _fuzz_operation(
    operation: Any,
    *,
    role: str,
    token: str,
    base_url: str,
    known: dict[str, Any],
    tally: Tally,
    deadline: float,
) -> None:
    # One session per operation, closed at the end: an idle keep-alive socket would hold a
    # live-server thread and its database connection until the garbage collector ran.
    with requests.Session() as session:
        _fuzz_modes(operation, session, token, base_url, known, tally, deadline, role=role)


def _fuzz_modes(
    operation: Any,
    session: requests.Session,
    token: str,
    base_url: str,
    known: dict[str, Any],
    tally: Tally,
    deadline: float,
    *,
    role: str,
) -> None:
    headers = {"Authorization": f"Token {token}"}
    parameters = _known_parameters(operation.path, known)
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        strategy = operation.as_strategy(generation_mode=mode)
        if parameters is not None:
            strategy = st.one_of(
                strategy, operation.as_strategy(generation_mode=mode, path_parameters=parameters)
            )

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize=SEED is None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
            report_multiple_bugs=False,
        )
        @given(case=strategy)
        def run(case: Any) -> None:
            if time.monotonic() > deadline:
                return
            tally.requests += 1
            try:
                response = case.call(base_url=base_url, session=session, headers=headers)
                tally.statuses[response.status_code] += 1
                case.validate_response(
                    response, headers=headers, transport_kwargs={"base_url": base_url}
                )
            except FailureGroup as group:
                for failure in group.exceptions:
                    detail = f"{failure.message} | {case.method} {response.request.url} -> "
                    tally.fail(role, operation.label, failure.title, _short(detail + response.text))
            except AssertionError as failure:
                tally.fail(role, operation.label, type(failure).__name__, _short(str(failure)))
            except requests.RequestException as error:
                tally.fail(role, operation.label, "request failed", _short(str(error)))

        if SEED is not None:
            run = seed(int(SEED))(run)
        try:
            run()
        except Unsatisfiable:
            # No invalid request can be built for this operation (nothing to negate).
            continue


def _short(text: str, limit: int = 400) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + " ..."


def test_every_role_gets_answers_that_keep_the_api_schema(
    live_server: Any, make_user: Any, partner: Any
) -> None:
    # given: a user with every role, each with an API token, and some data
    tokens = {
        role: Token.objects.create(
            user=make_user(role, partner=partner if role == PARTNER_AGENT else None)
        ).key
        for role in ALL_ROLES
    }
    known = _demo_data(partner)
    schema = schemathesis.openapi.from_url(
        f"{live_server.url}/api/schema/?format=json",
        headers={"Authorization": f"Token {tokens[ADMIN]}"},
        config=CONFIG,
    )
    operations = [result.ok() for result in schema.get_all_operations()]
    deadline = time.monotonic() + SECONDS
    tally = Tally()
    started = time.monotonic()

    # when
    server_errors = ServerErrors()
    request_log = logging.getLogger("django.request")
    request_log.addHandler(server_errors)
    try:
        _fuzz_all(operations, tokens, live_server.url, known, tally, deadline)
    finally:
        request_log.removeHandler(server_errors)

    # then
    elapsed = time.monotonic() - started
    print(
        f"\nAPI fuzzing: {len(operations)} operations x {len(ALL_ROLES)} roles, "
        f"{tally.requests} requests in {elapsed:.0f} s, {len(tally.failures)} failures; "
        f"statuses {dict(sorted(tally.statuses.items()))}"
    )
    assert not tally.failures, tally.report(server_errors.seen)
    assert time.monotonic() <= deadline, f"the run hit its time bound of {SECONDS:.0f} s"
    assert tally.requests > len(operations) * len(ALL_ROLES), "the fuzzer sent too few requests"


def _fuzz_all(
    operations: list[Any],
    tokens: dict[str, str],
    base_url: str,
    known: dict[str, Any],
    tally: Tally,
    deadline: float,
) -> None:
    for role in ALL_ROLES:
        for operation in operations:
            tally.operations += 1
            t0 = time.monotonic()
            _fuzz_operation(
                operation,
                role=role,
                token=tokens[role],
                base_url=base_url,
                known=known,
                tally=tally,
                deadline=deadline,
            )
            if os.environ.get("STAMMKUNDE_FUZZ_TRACE"):
                print(f"{role} {operation.label} {time.monotonic() - t0:.2f}s {tally.requests}")
