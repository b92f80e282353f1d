"""DSGVO erasure of what the campaigns app keeps about a customer."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Q

from stammkunde.customers.models import Customer

from ..models import CampaignContact, DoiRequest


@transaction.atomic
def customer_data_erase(*, customer: Customer, emails: Any = ()) -> dict[str, int]:
    """Erase campaign addresses and double opt-in records of ``customer`` (Art. 17).

    Contact rows stay (the campaigns' ROI and uplift figures count them) without
    the address they went to; double opt-in requests are deleted with their
    names, addresses, IPs and user agents.
    """
    return {
        "campaign_contacts": CampaignContact.objects.filter(customer=customer).update(
            email_to="", error=""
        ),
        "double_opt_in": DoiRequest.objects.filter(
            Q(customer=customer) | Q(email__in=list(emails))
        ).delete()[0],
    }
