"""The start page at ``/``: each role sees its own tiles, with counts that match the lists
they link to, and a partner agent only its partner's queue."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from stammkunde.campaigns import services as campaign_services
from stammkunde.channels.models import OutboxMessage
from stammkunde.channels.services import OUTBOX_MAX_ATTEMPTS, outbox_send_due
from stammkunde.core.jobs.models import Job
from stammkunde.core.models import ServicePartner
from stammkunde.customers.models import Consent
from stammkunde.customers.services import consent_record
from stammkunde.service import services
from stammkunde.service.models import Ticket
from stammkunde.service.services import ticket_reply

from ..channels.conftest import free_port, mail
from ..customers.factories import CustomerFactory
from ..service.factories import queue, ticket

pytestmark = pytest.mark.django_db

TILES = {
    "agent": {"my_tickets", "sla", "call_tasks"},
    "partner_agent": {"my_tickets", "sla", "queues"},
    "team_lead": {"sla", "queues", "goodwill", "failed_jobs", "failed_mails"},
    "admin": {"sla", "queues", "goodwill", "failed_jobs", "failed_mails"},
    "marketing": {"campaigns", "segments", "consents"},
    "analyst": {"analytics"},
}
QUERY_BUDGET = 40  # per page, whatever the number of tickets, queues or campaigns


def _start(client, user) -> str:
    client.force_login(user)
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="de")
    assert response.status_code == 200
    return response.content.decode()


def _tiles(page: str) -> set[str]:
    return set(re.findall(r'id="tile-([a-z_]+)" aria-labelledby', page))


def _tile(page: str, key: str) -> str:
    start = page.index(f'id="tile-{key}"')
    return page[start : page.index("</section>", start)]


def _inbox_count(client, url: str) -> int:
    body = client.get(url + "&size=200", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    return len(set(re.findall(r'href="/service/tickets/(\d+)/"', body)))


@pytest.fixture
def desk(make_user):
    """Two queues of the shop, one of a service partner, and tickets in each."""
    partner = ServicePartner.objects.create(name="CallPro GmbH")
    own, theirs = queue("Kundenservice"), queue("Partner-Queue", partner=partner)
    agent = make_user("agent")
    now = timezone.now()
    tickets = {
        "mine_late": ticket(q=own, subject="Kette springt", assignee=agent),
        "mine_soon": ticket(q=own, subject="Rechnung fehlt", assignee=agent),
        "mine_later": ticket(q=own, subject="Frage zur Größe", assignee=agent),
        "unassigned": ticket(q=own, subject="Lieferung verspätet"),
        "partner": ticket(q=theirs, subject="Partner-Anliegen"),
    }
    due = {
        "mine_late": now - timedelta(hours=2),
        "mine_soon": now + timedelta(hours=1),
        "mine_later": now + timedelta(days=3),
        "unassigned": now + timedelta(days=2),
        "partner": now - timedelta(hours=1),
    }
    for key, when in due.items():
        # The SLA clock ran in the past (the factory's T0); put the due times around now.
        Ticket.objects.filter(pk=tickets[key].pk).update(sla_due=when)
    return {
        "agent": agent,
        "partner_agent": make_user("partner_agent", partner=partner),
        "tickets": tickets,
    }


@pytest.mark.parametrize("role", sorted(TILES))
def test_each_role_sees_its_tiles_and_no_others(role, client, make_user, desk) -> None:
    user = desk.get(role) or make_user(role)
    page = _start(client, user)
    assert _tiles(page) == TILES[role]


def test_a_user_with_two_roles_sees_the_tiles_of_both(client, make_user, desk) -> None:
    page = _start(client, make_user("agent", "marketing"))
    assert _tiles(page) == TILES["agent"] | TILES["marketing"]


def test_a_user_without_a_role_gets_a_hint_and_no_tiles(client, no_role_user) -> None:
    page = _start(client, no_role_user)
    assert _tiles(page) == set() and 'id="start-empty"' in page


def test_my_tickets_tile_lists_the_next_due_first_and_counts_the_linked_list(client, desk) -> None:
    page = _start(client, desk["agent"])
    tile = _tile(page, "my_tickets")
    numbers = [desk["tickets"][k].number for k in ("mine_late", "mine_soon", "mine_later")]
    assert [tile.index(n) for n in numbers] == sorted(tile.index(n) for n in numbers)
    assert "3 offene Tickets" in tile
    assert _inbox_count(client, "/service/?view=mine") == 3


def test_sla_tile_splits_breached_and_at_risk_and_counts_the_linked_list(client, desk) -> None:
    tile = _tile(_start(client, desk["agent"]), "sla")
    # due in the past: mine_late and the partner's; due within 4 hours: mine_soon
    assert "3 Tickets" in tile and "2 verletzt" in tile and "1 gefährdet" in tile
    assert _inbox_count(client, "/service/?view=breaching") == 3


def test_a_partner_agent_sees_only_its_partners_queue(client, desk) -> None:
    page = _start(client, desk["partner_agent"])
    assert "Partner-Queue" in page and desk["tickets"]["partner"].number in page
    assert "Kundenservice" not in page
    for key in ("mine_late", "mine_soon", "unassigned"):
        assert desk["tickets"][key].number not in page
    assert "1 Ticket" in _tile(page, "sla")


def test_queue_health_counts_match_the_linked_inbox_lists(client, make_user, desk) -> None:
    page = _start(client, make_user("team_lead"))
    tile = _tile(page, "queues")
    links = re.findall(r'href="(/service/\?view=(?:open|unassigned)&amp;queue=\d+)">(\d+)<', tile)
    assert len(links) == 4  # two queues, open and unassigned each
    for url, shown in links:
        assert _inbox_count(client, url.replace("&amp;", "&")) == int(shown)
    assert ">4<" in tile  # Kundenservice: four open


def test_goodwill_waiting_for_approval_shows_for_the_team_lead(client, make_user, desk) -> None:
    grant = services.goodwill_request(
        actor=desk["agent"],
        ticket=desk["tickets"]["mine_late"],
        kind="credit",
        amount=Decimal("80"),
        reason="Defekt",
    )
    tile = _tile(_start(client, make_user("team_lead")), "goodwill")
    assert "1 Kulanzantrag" in tile and grant.ticket.number in tile


def test_marketing_sees_running_campaigns_consents_and_no_tickets(client, make_user, desk) -> None:
    CustomerFactory(addresses=[{"street": "Hauptstr. 1", "postal_code": "50667", "city": "Köln"}])
    campaign = campaign_services.campaign_create(
        actor=None,
        data={
            "name": "Brief an Stammkunden",
            "offer_kind": "information",
            "channel": "letter",
            "subject": "Post für Sie",
            "body": "Hallo {first_name}",
            "control_share": Decimal("0"),
        },
    )
    campaign_services.campaign_status_set(actor=None, campaign=campaign, status="active")
    customer = CustomerFactory()
    for status in (Consent.Status.GRANTED, Consent.Status.WITHDRAWN, Consent.Status.GRANTED):
        consent_record(
            actor=None,
            customer=customer,
            purpose=Consent.Purpose.values[0],
            channel="email",
            status=status,
            source="Test",
        )
    page = _start(client, make_user("marketing"))
    assert "Brief an Stammkunden" in _tile(page, "campaigns")
    assert "1 Kampagne" in _tile(page, "campaigns")
    consents = _tile(page, "consents")
    assert "2 erteilt" in consents and "1 widerrufen" in consents
    for t in desk["tickets"].values():
        assert t.number not in page


def _failed_mail(agent, settings, django_capture_on_commit_callbacks) -> OutboxMessage:
    """A reply through a relay that refuses connections, retried until it gives up."""
    settings.CHANNELS_SEND_IMMEDIATELY = False
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()
    settings.EMAIL_HOST_USER, settings.EMAIL_USE_TLS = "", False
    from stammkunde.channels.services import mail_ingest

    queue("Kundenservice")
    CustomerFactory(emails=["erika@example.de"])
    created = Ticket.objects.get(pk=mail_ingest(raw=mail()).ticket_id)
    with django_capture_on_commit_callbacks(execute=True):
        message = ticket_reply(actor=agent, ticket=created, body="Wir kümmern uns.")
    outbox = OutboxMessage.objects.get(service_message=message)
    outbox_send_due()
    OutboxMessage.objects.filter(pk=outbox.pk).update(attempts=OUTBOX_MAX_ATTEMPTS - 1)
    outbox_send_due(now=timezone.now() + timedelta(hours=7))
    outbox.refresh_from_db()
    assert outbox.status == "failed"
    return outbox


def test_failed_mails_and_jobs_show_to_admin_and_team_lead_only(
    client, make_user, partner_agent, settings, django_capture_on_commit_callbacks
) -> None:
    agent = make_user("agent")
    outbox = _failed_mail(agent, settings, django_capture_on_commit_callbacks)
    Job.objects.create(kind="analytics.scoring", status=Job.Status.FAILED, error="Boom")
    for role in ("admin", "team_lead"):
        page = _start(client, make_user(role))
        mails, jobs = _tile(page, "failed_mails"), _tile(page, "failed_jobs")
        assert "1 Mail nicht zugestellt" in mails and outbox.ticket.number in mails
        assert "1 fehlgeschlagener Job" in jobs and "Boom" in jobs
    for user in (agent, make_user("marketing"), make_user("analyst"), partner_agent):
        page = _start(client, user)
        assert "tile-failed_mails" not in page and "tile-failed_jobs" not in page
        assert "Boom" not in page


@pytest.mark.parametrize("role", sorted(TILES))
def test_the_start_page_costs_a_bounded_number_of_queries(
    role, client, make_user, desk, django_assert_max_num_queries
) -> None:
    user = desk.get(role) or make_user(role)
    for n in range(10):  # more rows must not cost more queries
        ticket(q=queue("Kundenservice"), subject=f"Weiteres Ticket {n}", assignee=desk["agent"])
    client.force_login(user)
    with django_assert_max_num_queries(QUERY_BUDGET):
        assert client.get("/").status_code == 200


def _customer_list_length(client, url: str) -> int:
    """Follow the linked customer list page by page and count the customers on it."""
    seen: set[str] = set()
    while url:
        body = client.get(url, HTTP_ACCEPT_LANGUAGE="de").content.decode()
        seen |= set(re.findall(r'href="/customers/(\d+)/"', body))
        more = re.search(r'<div class="pager"><a href="(\?[^"]+)"', body)
        url = "/customers/" + more.group(1).replace("&amp;", "&") if more else ""
    return len(seen)


def test_analyst_figures_match_the_customer_lists_they_link_to(client, make_user) -> None:
    from datetime import UTC, date, datetime

    from stammkunde.analytics.services import scoring_run
    from stammkunde.demo.generator import demo_generate

    demo_generate(customers=300, seed=7, end=datetime(2026, 6, 30, 23, 59, 59, tzinfo=UTC))
    scoring_run(as_of=date(2026, 6, 30))
    tile = _tile(_start(client, make_user("analyst")), "analytics")
    links = re.findall(r'href="(/customers/\?[^"]+)"[^>]*>(?:[A-C]: )?(\d+)', tile)
    assert len(links) == 4  # high churn risk, value classes A, B and C
    assert sum(int(n) for _, n in links[1:]) > 0
    for url, shown in links:
        assert _customer_list_length(client, url.replace("&amp;", "&")) == int(shown)
