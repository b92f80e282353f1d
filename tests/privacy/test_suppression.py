"""An erased address is neither imported nor mailed again (hashed suppression entries)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from stammkunde.channels.models import OutboxMessage
from stammkunde.channels.services import outbox_enqueue_confirmation, outbox_send
from stammkunde.customers.models import Customer, SuppressedContact
from stammkunde.customers.services import contacts_suppress
from stammkunde.dataio.models import ImportJob
from stammkunde.dataio.services.imports import import_file
from stammkunde.privacy import services
from tests.customers.factories import CustomerFactory
from tests.service.factories import ticket

pytestmark = pytest.mark.django_db


def test_the_suppression_list_holds_hashes_not_addresses() -> None:
    contacts_suppress(emails=["Erika.Geloescht@Example.de"])
    digest = SuppressedContact.objects.get().digest
    assert "erika" not in digest.lower()
    assert len(digest) == 64


def test_an_import_row_with_an_erased_email_fails_with_its_line(tmp_path: Path) -> None:
    # given an erased customer
    customer = CustomerFactory(first_name="Erika", emails=["erika.weg@example.de"])
    services.customer_erase(actor=None, customer=customer)
    csv = tmp_path / "kunden.csv"
    csv.write_text(
        "external_id,last_name,email\nN1,Neu,ERIKA.WEG@example.de\nN2,Anders,a@example.de\n",
        encoding="utf-8",
    )
    # when the address comes back in an import
    result = import_file(kind="customers", path=csv, mode=ImportJob.Mode.GOOD_ROWS)
    # then that row is refused and the other one stored
    assert result.failed == 1
    assert "erased" in str(result.errors)
    assert not Customer.objects.filter(external_id="N1").exists()
    assert Customer.objects.filter(external_id="N2").exists()


def test_the_outbox_does_not_mail_an_erased_address() -> None:
    # given a mail queued to an address that is then suppressed
    t = ticket(customer=CustomerFactory(emails=["weg@example.de"]))
    outbox = outbox_enqueue_confirmation(ticket=t, to="weg@example.de", language="de")
    contacts_suppress(emails=["weg@example.de"])
    # when the sender picks it up
    assert outbox_send(outbox_id=outbox.pk) == "failed"
    assert OutboxMessage.objects.get(pk=outbox.pk).status == OutboxMessage.Status.FAILED


def test_campaign_mails_skip_a_suppressed_address(settings: Any, mailoutbox: Any) -> None:
    from stammkunde.campaigns.services import campaign_run, email_queue_send
    from tests.campaigns.factories import consenting_customer, email_campaign

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    kept = consenting_customer(first_name="Bleibt")
    gone = consenting_customer(first_name="Geht")
    campaign = email_campaign()
    campaign_run(actor=None, campaign=campaign)
    contacts_suppress(emails=[gone.emails.get().address])
    email_queue_send()
    assert [m.to for m in mailoutbox] == [[kept.emails.get().address]]
