"""A customer with personal data in every app, built through each app's services."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

import phonenumbers
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from stammkunde.campaigns import services as campaigns_services
from stammkunde.channels import services as channels_services
from stammkunde.commerce.services import return_create
from stammkunde.customers.models import Customer
from stammkunde.customers.services import consent_record, contact_person_add, customer_create
from stammkunde.dataio.models import DuplicatePair
from stammkunde.feedback import services as feedback_services
from stammkunde.feedback.models import Survey
from stammkunde.loyalty.services import voucher_issue
from stammkunde.service import services as service_services
from tests.campaigns.factories import email_campaign, score
from tests.commerce.factories import order
from tests.customers.factories import CustomerFactory
from tests.loyalty.factories import account
from tests.service.factories import queue


@dataclass(frozen=True)
class Person:
    """The strings that must be gone after an erasure."""

    email: str = "hannelore.zylinderkopf@example.de"
    phone: str = "+491705550123"
    first_name: str = "Hannelore"
    last_name: str = "Zylinderkopf"
    street: str = "Ungewöhnlichweg 17"
    contact_name: str = "Kasimir Kettenblatt"
    contact_email: str = "kasimir.kettenblatt@example.de"

    @property
    def phone_national(self) -> str:
        """The phone as people write it at home: "0170 5550123"."""
        number = phonenumbers.parse(self.phone, None)
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)

    def secrets(self) -> list[str]:
        return [
            self.email,
            self.phone,
            self.phone_national,
            self.first_name,
            self.last_name,
            self.street,
            self.contact_name,
            self.contact_email,
            "Kettenblatt",
        ]


def _raw_mail(person: Person, subject: str, body: str, message_id: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"{person.first_name} {person.last_name} <{person.email}>"
    msg["To"] = "service@stammkunde.example"
    msg["Subject"] = subject
    msg["Date"] = format_datetime(timezone.now())
    msg["Message-ID"] = message_id
    msg.set_content(body)
    return msg.as_bytes()


def rich_customer(person: Person | None = None, *, staff: Any = None) -> Customer:
    """A company customer with data in customers, commerce, service, channels, loyalty,
    feedback, analytics, campaigns and dataio, all mentioning the person."""
    p = person or Person()
    customer = customer_create(
        actor=staff,
        kind="company",
        company_name=f"Radhaus {p.last_name} GmbH",
        first_name=p.first_name,
        last_name=p.last_name,
        emails=[p.email],
        phones=[p.phone],
        addresses=[{"street": p.street, "postal_code": "10115", "city": "Berlin"}],
        external_id=f"shop-{p.email}",
    )
    contact_person_add(
        actor=staff, customer=customer, name=p.contact_name, email=p.contact_email, role="Chef"
    )
    for purpose in ("marketing", "feedback"):
        consent_record(
            actor=staff,
            customer=customer,
            purpose=purpose,
            channel="email",
            status="granted",
            source="shop checkout (double opt-in)",
            proof=f"DOI confirmed by {p.email} from 192.0.2.7",
            at=datetime(2025, 1, 1, tzinfo=UTC),
        )
    # campaigns, before the complaint ticket holds the person back: a contact, a double opt-in
    campaign = email_campaign(name="Frühling")
    campaigns_services.campaign_run(actor=None, campaign=campaign)
    campaigns_services.doi_request_create(
        email=p.email, first_name=p.first_name, last_name=p.last_name, user_agent="Firefox"
    )
    # commerce
    bought = order(customer, "B-1001", quantity=2)
    return_create(
        actor=staff,
        order_line=bought.lines.first(),  # type: ignore[arg-type]
        quantity=1,
        reason="defective",
        returned_at=datetime(2026, 3, 5, tzinfo=UTC),
    )
    # service desk
    ticket = service_services.ticket_create(
        actor=staff,
        subject=f"Reklamation {p.last_name}",
        body=f"Hallo, hier {p.first_name} {p.last_name}, {p.street}, Tel. {p.phone}.",
        queue=queue(),
        customer=customer,
        now=datetime(2026, 3, 10, 9, tzinfo=UTC),
    )
    message = service_services.ticket_reply(
        actor=staff, ticket=ticket, body=f"Liebe Frau {p.last_name}, wir melden uns."
    )
    service_services.attachment_add(
        actor=staff,
        ticket=ticket,
        message=message,
        upload=SimpleUploadedFile(
            f"rechnung-{p.last_name}.pdf", f"%PDF-1.4 {p.street}".encode(), "application/pdf"
        ),
    )
    # channels: a raw mail from the person, a phone note
    channels_services.mail_ingest(
        raw=_raw_mail(
            p,
            f"Frage von {p.last_name}",
            f"Gruß, {p.contact_name}, Tel. {p.phone_national}",
            "<z1@example.de>",
        )
    )
    if staff is not None:
        channels_services.contact_log_record(
            actor=staff,
            customer=customer,
            channel="phone",
            direction="in",
            outcome="reached",
            note=f"Rückruf unter {p.phone}",
        )
    # loyalty
    acct = account(customer)
    voucher_issue(
        actor=staff,
        kind="amount",
        value=Decimal("10"),
        customer=customer,
        reason=f"Kulanz für {p.last_name}",
    )
    # feedback
    survey = feedback_services.survey_create(
        actor=None,
        name="CSAT nach Reklamation",
        kind=Survey.Kind.CSAT,
        title_de="Wie zufrieden?",
        title_en="How satisfied?",
        questions=[
            {"type": "csat", "text_de": "Zufriedenheit?", "text_en": "Satisfaction?"},
            {"type": "text", "text_de": "Kommentar", "text_en": "Comment", "optional": True},
        ],
        publish=True,
    )
    invitation = feedback_services.invitation_create(survey=survey, customer=customer)
    questions = list(survey.current_version.questions.order_by("order"))  # type: ignore[union-attr]
    feedback_services.response_submit(
        invitation=invitation,
        answers={
            f"q{questions[0].pk}": 2,
            f"q{questions[1].pk}": f"{p.first_name} {p.last_name} ist unzufrieden, {p.street}",
        },
    )
    # analytics
    score(customer)
    # dataio: a duplicate suspicion quoting the name
    twin = CustomerFactory(first_name="Hanne", last_name="Other")
    DuplicatePair.objects.create(
        customer_a=customer if customer.pk < twin.pk else twin,
        customer_b=twin if customer.pk < twin.pk else customer,
        score=0.9,
        reasons=[f"same last name {p.last_name}"],
    )
    assert acct.pk
    return customer
