"""Invitations: who may be asked, the personal link, and its mail through the outbox."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from stammkunde.channels import services as channels_services
from stammkunde.core.access import User
from stammkunde.core.audit import audit_record
from stammkunde.core.errors import ApplicationError
from stammkunde.core.hooks import hook_run
from stammkunde.customers import selectors as customer_selectors
from stammkunde.customers.selectors import (
    Channel,
    ConsentPurpose,
    InteractionDirection,
    consent_granted,
)
from stammkunde.customers.services import interaction_record

if TYPE_CHECKING:
    from stammkunde.customers.models import Customer

from .. import timeline
from ..models import Invitation, Survey, Trigger
from ..tokens import survey_url


class InvitationSuppressed(ApplicationError):
    """A rule forbids inviting this customer now; ``code`` says which one."""


def _deliverable_email(customer: Customer) -> str:
    emails = customer_selectors.email_addresses_of(customer=customer)
    if not emails:
        raise InvitationSuppressed(_("The customer has no email address."), code="no_email")
    usable = [e for e in emails if e.undeliverable_at is None]
    if not usable:
        raise InvitationSuppressed(
            _("The customer's email address bounced (undeliverable)."), code="undeliverable"
        )
    return usable[0].address


def _phase_of(customer_id: int) -> str:
    """The customer's current lifecycle phase, when an app that scores phases answers.

    Analytics sits above feedback, so feedback asks through the hook
    ``customer_phases`` (analytics fills it) instead of reading its tables.
    """
    found: dict[int, str] = {}
    hook_run("customer_phases", customer_ids=[customer_id], found=found)
    return found.get(customer_id, "")


def invitation_refusal_check(
    *, survey: Survey, customer: Customer, dedupe_key: str | None, gap: int, now: datetime
) -> str:
    """Return the address an invitation would go to, or raise InvitationSuppressed (why not).

    The rules of ``invitation_create`` after the survey checks; the ticket page asks
    them too, to say why a solved ticket got no survey.
    """
    if customer.erased_at is not None or customer.merged_into_id is not None:
        raise InvitationSuppressed(_("The customer cannot be contacted."), code="no_email")
    address = _deliverable_email(customer)
    if not consent_granted(
        customer_id=customer.pk, purpose=ConsentPurpose.FEEDBACK, channel=Channel.EMAIL
    ):
        raise InvitationSuppressed(
            _("The customer has not consented to feedback requests by email."), code="no_consent"
        )
    if (
        dedupe_key
        and Invitation.objects.filter(version__survey=survey, dedupe_key=dedupe_key).exists()
    ):
        raise InvitationSuppressed(_("This was already surveyed."), code="duplicate")
    if (
        gap
        and Invitation.objects.filter(
            customer=customer, created_at__gt=now - timedelta(days=gap)
        ).exists()
    ):
        raise InvitationSuppressed(
            _("The customer was invited to a survey less than %(d)d days ago.") % {"d": gap},
            code="min_gap",
        )
    return address


@transaction.atomic
def invitation_create(
    *,
    survey: Survey,
    customer: Customer,
    trigger: Trigger | None = None,
    source_ticket: Any = None,
    source_order: Any = None,
    dedupe_key: str | None = None,
    min_gap_days: int | None = None,
    expiry_days: int | None = None,
    actor: User | None = None,
    now: datetime | None = None,
) -> Invitation:
    """Create a personal survey invitation by email, or raise InvitationSuppressed.

    Refused (``code``): ``not_published``, ``inactive``, ``no_email``,
    ``undeliverable`` (bounced), ``no_consent`` (latest consent "feedback" on
    email not granted), ``min_gap`` (invited to any survey within the gap),
    ``duplicate`` (this event was already surveyed).
    """
    now = now or timezone.now()
    gap = min_gap_days if min_gap_days is not None else (trigger.min_gap_days if trigger else 30)
    expiry = expiry_days if expiry_days is not None else (trigger.expiry_days if trigger else 14)
    version = survey.current_version
    if version is None:
        raise InvitationSuppressed(_("The survey is not published yet."), code="not_published")
    if not survey.active:
        raise InvitationSuppressed(_("The survey is not active."), code="inactive")
    # Serialise invitations per customer so that two runs cannot both pass the gap check.
    customer = customer_selectors.customer_for_update(pk=customer.pk)
    address = invitation_refusal_check(
        survey=survey, customer=customer, dedupe_key=dedupe_key, gap=gap, now=now
    )
    invitation = Invitation.objects.create(
        customer=customer, version=version, trigger=trigger, key=secrets.token_urlsafe(24),
        dedupe_key=dedupe_key, language=customer.preferred_language or "de",
        channel=Channel.EMAIL, email=address, source_ticket=source_ticket,
        source_order=source_order, value_class=customer.value_class or "",
        phase=_phase_of(customer.pk), created_at=now, expires_at=now + timedelta(days=expiry),
    )  # fmt: skip
    audit_record(actor=actor, action="create", obj=invitation, customer_id=customer.pk)
    return invitation


def _mail(*, key: str, to: str, subject: str, body: str, invitation_id: int | None = None) -> None:
    """Queue one mail in the channels outbox, in the caller's transaction.

    The outbox sends it after commit, retries a failing relay, records bounces
    and shows failures like every other mail; ``key`` makes a second call
    harmless. With ``invitation_id`` the invitation is marked sent when the
    relay accepted the mail (hook ``outbox_sent``, see ``invitation_mark_sent``).
    """
    channels_services.outbox_enqueue_survey(
        key=key, to=to, subject=subject, body=body, reference_id=invitation_id
    )


def invitation_mail(invitation: Invitation) -> tuple[str, str]:
    """Return subject and text of the invitation mail in the invitation's language."""
    version = invitation.version
    customer = invitation.customer
    with translation.override(invitation.language):
        subject = version.text("title", invitation.language)
        body = _(
            "Hello %(name)s,\n\nplease tell us how we did. It takes about a minute:\n\n"
            "%(url)s\n\nThe link is personal and valid until %(until)s.\n\n"
            "Thank you!\n"
        ) % {
            "name": customer.display_name,
            "url": survey_url(invitation.key),
            "until": invitation.expires_at.strftime("%d.%m.%Y"),
        }
    return subject, body


def invitation_send(*, invitation: Invitation, now: datetime | None = None) -> Invitation:
    """Queue the mail with the personal link; ``sent_at`` is set once the relay accepted it."""
    if invitation.answered_at is not None:
        raise ApplicationError(_("The invitation was answered already."), code="answered")
    subject, body = invitation_mail(invitation)
    queued_at = now or timezone.now()
    with transaction.atomic():
        _mail(
            key=f"invitation.{invitation.pk}",
            to=invitation.email,
            subject=subject,
            body=body,
            invitation_id=invitation.pk,
        )
        interaction_record(
            customer=invitation.customer, occurred_at=queued_at, channel=Channel.EMAIL,
            direction=InteractionDirection.OUTBOUND, kind="survey_invitation",
            text_key=timeline.INVITATION,
            text_params={"s": invitation.version.survey.name},
            source=invitation,
        )  # fmt: skip
    return invitation


def invitation_mark_sent(*, kind: str, reference_id: int | None, sent_at: datetime) -> None:
    """Mark the invitation of a delivered survey mail sent (handler of ``outbox_sent``)."""
    if kind != "survey" or reference_id is None:
        return
    Invitation.objects.filter(pk=reference_id, sent_at__isnull=True).update(sent_at=sent_at)
