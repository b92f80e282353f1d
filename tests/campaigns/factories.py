"""Campaign test data built through the services (scores and events as analytics writes them)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from stammkunde.analytics.orm import AnalyticsEvent, CustomerScore, PhaseChange
from stammkunde.campaigns import services
from stammkunde.campaigns.models import Campaign
from stammkunde.customers.models import Customer
from stammkunde.customers.services import consent_record

from ..customers.factories import CustomerFactory

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


def consenting_customer(**kwargs: Any) -> Customer:
    """A customer with a double-opt-in marketing email consent."""
    customer = CustomerFactory(**kwargs)
    consent_record(
        actor=None,
        customer=customer,
        purpose="marketing",
        channel="email",
        status="granted",
        source="shop checkout (double opt-in)",
        at=datetime(2025, 1, 1, tzinfo=UTC),
    )
    return customer


def phone_consenting_customer(**kwargs: Any) -> Customer:
    kwargs.setdefault("phones", ["+49 170 1234567"])
    customer = CustomerFactory(**kwargs)
    consent_record(
        actor=None,
        customer=customer,
        purpose="marketing",
        channel="phone",
        status="granted",
        source="shop account",
        at=datetime(2025, 1, 1, tzinfo=UTC),
    )
    return customer


def score(
    customer: Customer,
    *,
    phase: str = "churning",
    risk: float = 0.8,
    monetary: str = "120.00",
    reasons: list[dict[str, Any]] | None = None,
    on: date = date(2026, 3, 9),
) -> CustomerScore:
    return CustomerScore.objects.create(
        customer=customer,
        scored_at=on,
        model_version="test",
        frequency=2,
        recency_days=200,
        T_days=400,
        monetary=Decimal(monetary),
        p_alive=0.3,
        expected_purchases_90d=0.1,
        clv_12m=Decimal("40.00"),
        value_class="B",
        rfm_segment="at_risk",
        churn_risk=risk,
        reasons=reasons
        or [
            {
                "feature": "recency",
                "de": "Lange kein Kauf",
                "en": "No purchase for a long time",
                "contribution": 0.5,
            }
        ],
        phase=phase,
        is_latest=True,
    )


def phase_event(customer: Customer, *, to: str, on: date = date(2026, 3, 9)) -> AnalyticsEvent:
    """What a scoring run writes when a customer enters a phase: history row and event."""
    PhaseChange.objects.create(
        customer=customer, changed_on=on, from_phase="established", to_phase=to
    )
    return AnalyticsEvent.objects.create(
        kind=AnalyticsEvent.Kind.PHASE_CHANGE,
        customer=customer,
        occurred_on=on,
        created_at=NOW,
        payload={"from": "established", "to": to},
    )


def email_campaign(**data: Any) -> Campaign:
    values: dict[str, Any] = {
        "name": "Frühjahrs-Check",
        "offer_kind": "information",
        "channel": "email",
        "subject": "Hallo {first_name}",
        "body": "Ihr Rad will raus.",
        "control_share": Decimal("0"),
    }
    values.update(data)
    campaign = services.campaign_create(actor=None, data=values)
    return services.campaign_status_set(actor=None, campaign=campaign, status="active")


def playbooks_ensure() -> None:
    """Recreate the migration's playbooks (a transactional test's flush removes them)."""
    import importlib

    from django.apps import apps

    importlib.import_module("stammkunde.campaigns.migrations.0002_playbooks").create(apps, None)
