"""Double opt-in: the signup mail, the link state and the one confirmation with its proof."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from stammkunde.channels import services as channels_services
from stammkunde.core.errors import ApplicationError
from stammkunde.customers.models import Channel, Consent
from stammkunde.customers.services import consent_record, customer_create

from ..models import (
    DoiRequest,
)
from ._common import base_url

DOI_SALT = "stammkunde.campaigns.doi"
DOI_MAX_AGE = timedelta(days=7)
DOI_SOURCE = "double opt-in (signup form)"
DOI_CONSENT_TEXT = (
    "Yes, I would like to receive offers and news by email. I can withdraw this "
    "consent at any time via the link in every email."
)


def doi_token(request: DoiRequest) -> str:
    return signing.dumps({"r": request.pk, "e": request.email}, salt=DOI_SALT)


@transaction.atomic
def doi_request_create(
    *,
    email: str,
    first_name: str = "",
    last_name: str = "",
    ip: str | None = None,
    user_agent: str = "",
    now: datetime | None = None,
) -> DoiRequest:
    """Store a signup and send the confirmation mail (after commit).

    Nothing is consented yet: consent exists only after the link is confirmed.
    A repeated signup within 10 minutes sends no second mail.
    """
    from stammkunde.customers.normalize import normalize_email

    try:
        address = normalize_email(email)
    except Exception as exc:
        raise ApplicationError(
            _("Please enter a valid email address."),
            field_errors={"email": [_("Please enter a valid email address.")]},
        ) from exc
    now = now or timezone.now()
    recent = DoiRequest.objects.filter(
        email=address, requested_at__gte=now - timedelta(minutes=10), confirmed_at__isnull=True
    ).first()
    if recent is not None:
        return recent
    request = DoiRequest.objects.create(
        email=address,
        first_name=first_name.strip()[:100],
        last_name=last_name.strip()[:100],
        requested_at=now,
        request_ip=ip or None,
        request_user_agent=user_agent[:300],
        consent_text=DOI_CONSENT_TEXT,
    )
    link = base_url() + reverse("campaigns:signup_confirm", args=[doi_token(request)])
    # Through the outbox like every mail: a relay that is down defers it (retried, visible
    # on the start page) instead of failing the public signup page.
    channels_services.outbox_enqueue_signup_confirmation(
        key=f"doi.{request.pk}",
        to=address,
        subject="Bitte bestätigen Sie Ihre Anmeldung / Please confirm your signup",
        body=(
            "Bitte bestätigen Sie, dass Sie Angebote per E-Mail erhalten möchten:\n"
            f"{link}\n\nPlease confirm that you want to receive offers by email:\n{link}\n\n"
            "Wenn Sie sich nicht angemeldet haben, ignorieren Sie diese E-Mail. / "
            "If you did not sign up, ignore this email."
        ),
        reference_id=request.pk,
    )
    return request


def _doi_request(token: str, *, for_update: bool) -> DoiRequest:
    """Return the signup a confirmation link was signed for, or raise ApplicationError.

    ``code`` is ``expired`` (older than DOI_MAX_AGE) or ``bad_token`` (changed,
    forged, or its signup no longer exists, e.g. erased).
    """
    try:
        data = signing.loads(token, salt=DOI_SALT, max_age=DOI_MAX_AGE)
        requests = DoiRequest.objects.select_for_update() if for_update else DoiRequest.objects
        return requests.get(pk=int(data["r"]), email=data["e"])
    except signing.SignatureExpired as exc:
        raise ApplicationError(
            _("This confirmation link has expired; please sign up again."), code="expired"
        ) from exc
    except (signing.BadSignature, KeyError, ValueError, TypeError, DoiRequest.DoesNotExist) as exc:
        raise ApplicationError(
            _("This confirmation link is not valid; please use the whole link from the email."),
            code="bad_token",
        ) from exc


def doi_link_state(*, token: str) -> str:
    """Say what a confirmation link would do, writing nothing (for the page a click opens).

    ``pending`` (the button confirms), ``confirmed`` (used already), ``expired``
    or ``invalid``.
    """
    try:
        request = _doi_request(token, for_update=False)
    except ApplicationError as exc:
        return "expired" if exc.code == "expired" else "invalid"
    return "confirmed" if request.confirmed_at is not None else "pending"


@dataclass(frozen=True)
class DoiConfirmation:
    request: DoiRequest
    already: bool  # confirmed before this call: nothing was written


@transaction.atomic
def doi_confirm(
    *, token: str, ip: str | None = None, user_agent: str = "", now: datetime | None = None
) -> DoiConfirmation:
    """Confirm a signup: find or create the customer and record the consent with its proof.

    A link confirms once: under the signup's row lock a second (or concurrent)
    confirmation writes nothing (no second consent, the first proof stays) and
    answers ``already=True``; neither can it grant again after an unsubscribe.
    Raises ApplicationError for a broken, forged or expired link.
    """
    request = _doi_request(token, for_update=True)
    if request.confirmed_at is not None:
        return DoiConfirmation(request=request, already=True)
    now = now or timezone.now()
    from stammkunde.customers.selectors import customer_matching_email

    customer = customer_matching_email(address=request.email)
    if customer is None:
        customer = customer_create(
            actor=None,
            first_name=request.first_name,
            last_name=request.last_name or request.email.split("@")[0],
            emails=[request.email],
            created_at=now,
        )
    request.confirmed_at, request.confirm_ip = now, ip or None
    request.confirm_user_agent, request.customer = user_agent[:300], customer
    request.save()
    proof = json.dumps(
        {
            "doi_request": request.pk,
            "email": request.email,
            "requested_at": request.requested_at.isoformat(),
            "request_ip": request.request_ip,
            "confirmed_at": now.isoformat(),
            "confirm_ip": request.confirm_ip,
            "confirm_user_agent": request.confirm_user_agent,
            "consent_text": request.consent_text,
        },
        ensure_ascii=False,
    )
    consent_record(
        actor=None,
        customer=customer,
        purpose=Consent.Purpose.MARKETING,
        channel=Channel.EMAIL,
        status=Consent.Status.GRANTED,
        source=DOI_SOURCE,
        proof=proof,
        at=now,
    )
    return DoiConfirmation(request=request, already=False)
