"""Is the customer about to be created already here? The warning on the create form.

Two signs count as a likely duplicate: the same e-mail address, or the same first
and last name with the same postal code. Both are cheap exact look-ups (the e-mail
and the postal code are indexed); the thorough fuzzy scan over all customers is
the duplicate list of Import/Export.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db.models.functions import Lower

from stammkunde.core.access import User

from .models import Address, Customer, EmailAddress
from .normalize import normalize_email

MAX_SHOWN = 5


@dataclass(frozen=True)
class Duplicate:
    customer: Customer
    reason: str  # "email" or "name_postcode"


def duplicates_for_new(
    *,
    user: User,
    emails: Iterable[str] = (),
    first_name: str = "",
    last_name: str = "",
    postal_code: str = "",
) -> list[Duplicate]:
    """Return the customers ``user`` can see that a new record with these data would repeat."""
    visible = Customer.objects.visible_to(user)
    found: dict[int, Duplicate] = {}
    addresses = []
    for raw in emails:
        try:
            addresses.append(normalize_email(raw))
        except ValidationError:
            continue  # the form reports an invalid address itself
    if addresses:
        by_email = EmailAddress.objects.filter(address__in=addresses).values("customer_id")
        for customer in visible.filter(pk__in=by_email)[:MAX_SHOWN]:
            found[customer.pk] = Duplicate(customer, "email")
    first, last, code = first_name.strip(), last_name.strip(), postal_code.strip()
    if first and last and code:
        by_code = Address.objects.filter(postal_code=code).values("customer_id")
        same_name = (
            visible.filter(pk__in=by_code)
            .annotate(_first=Lower("first_name"), _last=Lower("last_name"))
            .filter(_first=first.lower(), _last=last.lower())
        )
        for customer in same_name[:MAX_SHOWN]:
            found.setdefault(customer.pk, Duplicate(customer, "name_postcode"))
    return list(found.values())[:MAX_SHOWN]
