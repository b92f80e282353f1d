"""Who may be contacted: consent per channel, the contact cap, quiet periods, complaints.

Eligibility is decided here and nowhere else, so that the send, the
next-best-action panel and the tests agree on who may be contacted:

* email: the latest marketing/email consent is *granted* and was recorded by
  double opt-in, and the primary address is deliverable;
* letter: postal advertising is allowed unless the customer objected (latest
  marketing/letter consent withdrawn) and there is an address;
* phone: an explicit marketing/phone consent (UWG § 7) and a phone number;
* at most ``CAMPAIGNS_CONTACT_CAP`` contacts in ``CAMPAIGNS_CAP_WINDOW_DAYS``
  across all campaigns, none within ``CAMPAIGNS_MIN_GAP_DAYS`` of the last one,
  no advertising during a quiet period, and none while a complaint or claim
  of the customer is open.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Count, Max, OuterRef, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _lazy

from stammkunde.customers.models import Address, Consent, Customer, EmailAddress, PhoneNumber

from ..models import Campaign, CampaignContact, QuietPeriod
from ._common import COUNTED, DOI_MARK, cap_window_days, contact_cap, min_gap_days


def _latest_consent(purpose: str, channel: str, column: str) -> Subquery:
    return Subquery(
        Consent.objects.filter(customer_id=OuterRef("pk"), purpose=purpose, channel=channel)
        .order_by("-at", "-id")
        .values(column)[:1]
    )


def email_marketing_ids() -> QuerySet[Any]:
    """Ids of customers whose latest marketing/email consent is a granted double opt-in."""
    return (
        Customer.objects.annotate(
            _status=_latest_consent("marketing", "email", "status"),
            _source=_latest_consent("marketing", "email", "source"),
        )
        .filter(_status=Consent.Status.GRANTED, _source__icontains=DOI_MARK)
        .values("id")
    )


def _ids(qs: QuerySet[Any]) -> set[int]:
    return set(qs.values_list("pk" if qs.model is Customer else "customer_id", flat=True))


def channel_reachable(audience: QuerySet[Customer]) -> dict[str, set[int]]:
    """Return, per channel, the audience ids that may be contacted there (consent + data)."""
    return channel_access(audience).reachable


@dataclass
class ChannelAccess:
    """Per channel: who consented (or did not object) and who may be reached there.

    ``reachable`` is ``consented`` narrowed to customers with a usable address or
    number; for email also not on the DSGVO suppression list (``suppressed``).
    """

    consented: dict[str, set[int]]
    reachable: dict[str, set[int]]
    suppressed: set[int]


def channel_access(audience: QuerySet[Customer]) -> ChannelAccess:
    """Load consent, addresses and the suppression list for ``audience`` (a few queries)."""
    from stammkunde.customers.selectors import contacts_suppressed

    email_ok = _ids(audience.filter(pk__in=email_marketing_ids()))
    primary = dict(
        EmailAddress.objects.filter(
            customer_id__in=audience.values("pk"), is_primary=True, undeliverable_at__isnull=True
        ).values_list("customer_id", "address")
    )
    erased = contacts_suppressed(emails=[primary[c] for c in email_ok if c in primary])
    suppressed = {c for c in email_ok if primary.get(c) in erased}
    letter_objected = Customer.objects.annotate(
        _status=_latest_consent("marketing", "letter", "status")
    ).filter(_status=Consent.Status.WITHDRAWN)
    letter_ok = _ids(audience.exclude(pk__in=letter_objected.values("id")))
    with_address = _ids(audience.filter(pk__in=Address.objects.values("customer_id")))
    phone_ok = Customer.objects.annotate(
        _status=_latest_consent("marketing", "phone", "status")
    ).filter(_status=Consent.Status.GRANTED)
    phone_consented = _ids(audience.filter(pk__in=phone_ok.values("id")))
    with_phone = _ids(audience.filter(pk__in=PhoneNumber.objects.values("customer_id")))
    return ChannelAccess(
        consented={"email": email_ok, "letter": letter_ok, "phone": phone_consented},
        reachable={
            "email": {c for c in email_ok if c in primary} - suppressed,
            "letter": letter_ok & with_address,
            "phone": phone_consented & with_phone,
        },
        suppressed=suppressed,
    )


def contacts_in_window(audience: QuerySet[Customer], *, now: datetime) -> dict[int, int]:
    """Return counted contacts per customer within the cap window (all campaigns)."""
    rows = (
        CampaignContact.objects.filter(
            customer__in=audience.values("pk"),
            group=CampaignContact.Group.TREATMENT,
            status__in=COUNTED,
            contacted_at__gte=now - timedelta(days=cap_window_days()),
        )
        .values("customer_id")
        .annotate(n=Count("id"), last=Max("contacted_at"))
    )
    return {r["customer_id"]: r["n"] for r in rows}


def recently_contacted(audience: QuerySet[Customer], *, now: datetime) -> set[int]:
    """Return the audience ids contacted within the minimum gap (a personal quiet period)."""
    return set(
        CampaignContact.objects.filter(
            customer__in=audience.values("pk"),
            group=CampaignContact.Group.TREATMENT,
            status__in=COUNTED,
            contacted_at__gte=now - timedelta(days=min_gap_days()),
        ).values_list("customer_id", flat=True)
    )


def open_complaint_ids(audience: QuerySet[Customer]) -> set[int]:
    """Return the audience ids with an open complaint or claim (no advertising until solved)."""
    from stammkunde.service.models import OPEN_STATUSES, Ticket

    return set(
        Ticket.objects.filter(
            customer__in=audience.values("pk"),
            status__in=OPEN_STATUSES,
            type__in=[Ticket.Type.COMPLAINT, Ticket.Type.CLAIM],
        ).values_list("customer_id", flat=True)
    )


def in_quiet_period(day: date) -> QuietPeriod | None:
    """Return the quiet period covering ``day``, if any."""
    return QuietPeriod.objects.filter(starts_on__lte=day, ends_on__gte=day).first()


@dataclass
class Restraint:
    """Everything that keeps customers from being contacted, for a set of customers."""

    reachable: dict[str, set[int]]
    contacts: dict[int, int]
    recent: set[int]
    complaints: set[int]
    quiet_period: QuietPeriod | None
    access: ChannelAccess | None = None

    def reason(self, customer_id: int, campaign: Campaign) -> str:
        """Return why the customer may not get the campaign now ("" = may)."""
        if campaign.is_advertising and self.quiet_period is not None:
            return "quiet_period"
        if customer_id not in self.reachable[campaign.channel]:
            if self.access is None or customer_id not in self.access.consented[campaign.channel]:
                return f"no_{campaign.channel}_consent"
            if campaign.channel == "email" and customer_id in self.access.suppressed:
                return "suppressed"
            return f"no_{campaign.channel}_address"
        if self.contacts.get(customer_id, 0) >= contact_cap():
            return "contact_cap"
        if customer_id in self.recent:
            return "recently_contacted"
        if campaign.is_advertising and customer_id in self.complaints:
            return "open_complaint"
        return ""


def restraint_for(audience: QuerySet[Customer], *, now: datetime) -> Restraint:
    """Load consent, caps, quiet periods and complaints for ``audience`` (a few queries)."""
    access = channel_access(audience)
    return Restraint(
        reachable=access.reachable,
        access=access,
        contacts=contacts_in_window(audience, now=now),
        recent=recently_contacted(audience, now=now),
        complaints=open_complaint_ids(audience),
        quiet_period=in_quiet_period(timezone.localdate(now)),
    )


REASON_LABELS = {
    "quiet_period": _lazy("quiet period"),
    "no_email_consent": _lazy("no double opt-in for marketing emails"),
    "no_email_address": _lazy("no deliverable e-mail address"),
    "suppressed": _lazy("on the suppression list (erased person)"),
    "no_letter_consent": _lazy("objected to letters"),
    "no_letter_address": _lazy("no postal address"),
    "no_phone_consent": _lazy("no consent to marketing calls"),
    "no_phone_address": _lazy("no phone number"),
    "contact_cap": _lazy("contact cap reached"),
    "recently_contacted": _lazy("contacted too recently"),
    "open_complaint": _lazy("open complaint"),
    "budget": _lazy("budget exhausted"),
    "other_action_preferred": _lazy("another action is better for this customer"),
    "not_worth_it": _lazy("expected uplift does not pay for the contact"),
    "already_contacted": _lazy("already contacted by this campaign"),
    "control": _lazy("held out as control group"),
}
