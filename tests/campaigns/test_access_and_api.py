"""Who may see and change campaigns (pages and API), and the API's 400s."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.core import mail

from stammkunde.campaigns import services
from stammkunde.campaigns.models import Campaign, Segment

from ..customers.factories import CustomerFactory
from .factories import NOW, consenting_customer, email_campaign, score

pytestmark = pytest.mark.django_db

PAGES = [
    "/campaigns/",
    "/campaigns/new/",
    "/campaigns/{pk}/",
    "/campaigns/{pk}/edit/",
    "/campaigns/{pk}/preview/",
    "/campaigns/{pk}/contacts.csv",
    "/campaigns/{pk}/letters/",
    "/campaigns/{pk}/letters.csv",
    "/campaigns/segments/",
    "/campaigns/segments/new/",
    "/campaigns/segments/{segment}/",
]
POSTS = [
    "/campaigns/{pk}/status/",
    "/campaigns/{pk}/run/",
    "/campaigns/{pk}/test-send/",
    "/campaigns/{pk}/evaluate/",
    "/campaigns/segments/count/",
]


@pytest.fixture
def marketing(make_user):
    return make_user("marketing")


@pytest.fixture
def objects():
    campaign = email_campaign()
    segment = services.segment_save(actor=None, name="Alle", rules={})
    return {"pk": campaign.pk, "segment": segment.pk}


@pytest.mark.parametrize("role", ["agent", "partner_agent", "no_role"])
@pytest.mark.parametrize("url", PAGES + POSTS)
def test_users_outside_marketing_get_403_and_never_the_data(
    client, make_user, partner, objects, role, url
) -> None:
    # given
    user = (
        make_user(partner=partner)
        if role == "no_role"
        else (make_user(role, partner=partner) if role == "partner_agent" else make_user(role))
    )
    client.force_login(user)
    # when
    path = url.format(**objects)
    response = (
        client.post(path, {"status": "active", "rules": "{}"})
        if url in POSTS
        else (client.get(path))
    )
    # then
    assert response.status_code == 403
    assert b"Fr\xc3\xbchjahrs-Check" not in response.content


def test_anonymous_users_are_sent_to_the_login(client, objects) -> None:
    response = client.get(f"/campaigns/{objects['pk']}/")
    assert response.status_code == 302 and "/login" in response["Location"]


def test_unknown_campaign_is_404(client, marketing) -> None:
    client.force_login(marketing)
    assert client.get("/campaigns/99999/").status_code == 404
    assert client.get("/campaigns/segments/99999/").status_code == 404


def test_team_lead_reads_but_cannot_change(client, make_user, objects) -> None:
    client.force_login(make_user("team_lead"))
    assert client.get(f"/campaigns/{objects['pk']}/").status_code == 200
    assert client.get("/campaigns/new/").status_code == 403
    assert client.post(f"/campaigns/{objects['pk']}/run/").status_code == 403


@pytest.mark.parametrize("role", ["agent", "partner_agent"])
def test_api_refuses_campaigns_to_agents(api_as, make_user, partner, objects, role) -> None:
    user = make_user(role, partner=partner) if role == "partner_agent" else make_user(role)
    api = api_as(user)
    assert api.get("/api/campaigns/").status_code == 403
    assert api.get(f"/api/campaigns/{objects['pk']}/").status_code == 403
    assert api.get(f"/api/campaigns/{objects['pk']}/evaluation/").status_code == 403
    assert api.post(f"/api/campaigns/{objects['pk']}/send/").status_code == 403
    assert api.get("/api/campaigns/segments/").status_code == 403
    assert (
        api.post("/api/campaigns/segments/count/", {"rules": {}}, format="json").status_code == 403
    )


def test_api_object_of_nobody_is_404(api_as, marketing) -> None:
    api = api_as(marketing)
    assert api.get("/api/campaigns/99999/").status_code == 404
    assert api.get("/api/campaigns/segments/99999/").status_code == 404


def test_api_creates_switches_on_and_sends_a_campaign(
    api_as, marketing, django_capture_on_commit_callbacks
) -> None:
    # given
    consenting_customer(first_name="Api")
    api = api_as(marketing)
    # when
    created = api.post(
        "/api/campaigns/",
        {
            "name": "API-Kampagne",
            "offer_kind": "information",
            "channel": "email",
            "subject": "Hallo",
            "body": "Text",
            "control_share": "0.00",
        },
        format="json",
    )
    pk = created.json()["id"]
    switched = api.post(f"/api/campaigns/{pk}/status/", {"status": "active"}, format="json")
    with django_capture_on_commit_callbacks(execute=True):
        sent = api.post(f"/api/campaigns/{pk}/send/")
    # then
    assert created.status_code == 201 and switched.json()["status"] == "active"
    assert sent.status_code == 200 and sent.json()["treatment"] == 1
    assert len(mail.outbox) == 1
    assert api.get(f"/api/campaigns/{pk}/evaluation/").status_code == 404


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": "x", "offer_kind": "voucher", "channel": "email", "subject": "s"}, "offer_value"),
        ({"name": "x", "offer_kind": "information", "channel": "email"}, "subject"),
        ({"name": "x", "offer_kind": "information", "channel": "fax", "subject": "s"}, "channel"),
        (
            {
                "name": "x",
                "offer_kind": "information",
                "channel": "email",
                "subject": "s",
                "trigger": "phase_change",
            },
            "trigger_phase",
        ),
        (
            {
                "name": "x",
                "offer_kind": "information",
                "channel": "email",
                "subject": "s",
                "control_share": "1.50",
            },
            "control_share",
        ),
        (
            {
                "name": "x",
                "offer_kind": "information",
                "channel": "email",
                "subject": "s",
                "colour": "red",
            },
            "colour",
        ),
    ],
)
def test_api_answers_invalid_campaigns_with_400_and_the_field(
    api_as, marketing, payload, field
) -> None:
    response = api_as(marketing).post("/api/campaigns/", payload, format="json")
    assert response.status_code == 400
    assert field in response.json() or field in str(response.json())


def test_api_refuses_bad_status_and_bad_rules_with_400(api_as, marketing, objects) -> None:
    api = api_as(marketing)
    bad_status = api.post(
        f"/api/campaigns/{objects['pk']}/status/", {"status": "on"}, format="json"
    )
    bad_rules = api.post(
        "/api/campaigns/segments/",
        {"name": "kaputt", "rules": {"field": "shoe_size", "op": "eq", "value": 1}},
        format="json",
    )
    bad_count = api.post("/api/campaigns/segments/count/", {"rules": [1]}, format="json")
    assert bad_status.status_code == 400 and "status" in bad_status.json()
    assert bad_rules.status_code == 400 and "rules" in bad_rules.json()
    assert bad_count.status_code == 400
    assert Segment.objects.filter(name="kaputt").count() == 0


def test_api_counts_a_segment_live(api_as, make_user) -> None:
    consenting_customer(first_name="Eins")
    CustomerFactory(first_name="Zwei")
    response = api_as(make_user("analyst")).post(
        "/api/campaigns/segments/count/",
        {"rules": {"field": "email_marketing_consent", "op": "is", "value": True}},
        format="json",
    )
    assert response.status_code == 200 and response.json() == {"count": 1}


def test_stale_campaign_edit_is_a_409(api_as, marketing, objects) -> None:
    api = api_as(marketing)
    ok = api.patch(f"/api/campaigns/{objects['pk']}/", {"name": "neu", "version": 2}, format="json")
    stale = api.patch(
        f"/api/campaigns/{objects['pk']}/", {"name": "alt", "version": 2}, format="json"
    )
    assert ok.status_code == 200 and stale.status_code == 409


# ------------------------------------------------------------------- pages


def test_marketing_switches_on_a_playbook_from_the_list(client, marketing) -> None:
    client.force_login(marketing)
    playbook = Campaign.objects.get(playbook_phase="churning")
    page = client.get("/campaigns/")
    assert page.status_code == 200 and playbook.name.encode() in page.content
    asked = client.post(
        f"/campaigns/{playbook.pk}/status/", {"status": "active", "next": "/campaigns/"}
    )
    playbook.refresh_from_db()
    assert playbook.status == "draft" and "/preview/?action=activate" in asked["Location"]
    preview = client.get(asked["Location"])
    client.post(
        f"/campaigns/{playbook.pk}/status/",
        {"status": "active", "confirm": preview.context["preview"].token, "next": "/campaigns/"},
    )
    playbook.refresh_from_db()
    assert playbook.status == "active"


def test_campaign_page_shows_evaluation_and_charts_without_a_cdn(client, marketing) -> None:
    # given an evaluated campaign
    for i in range(40):
        consenting_customer(first_name=f"P{i}")
    campaign = email_campaign(control_share=Decimal("0.5"))
    services.campaign_run(actor=None, campaign=campaign, now=NOW)
    services.campaign_evaluate(campaign=campaign)
    client.force_login(marketing)
    # when
    page = client.get(f"/campaigns/{campaign.pk}/")
    # then
    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-recommendation="too_early"' in html
    assert "/campaigns/plotly.js?v=" in html and "cdn" not in html.lower()
    assert 'id="chart-cumulative"' in html
    js = client.get("/campaigns/plotly.js")
    assert js.status_code == 200 and b"plotly" in js.content[:2000].lower()


def test_contact_export_neutralises_formulas(client, marketing) -> None:
    # given a customer whose number cannot be a formula, but a reason text that could
    customer = consenting_customer(first_name="Csv")
    campaign = email_campaign()
    services.campaign_run(actor=None, campaign=campaign, now=NOW)
    campaign.contacts.update(reason='=HYPERLINK("http://evil")')
    client.force_login(marketing)
    # when
    body = client.get(f"/campaigns/{campaign.pk}/contacts.csv").content
    # then
    text = body.decode()
    assert customer.number in text
    assert "'=HYPERLINK" in text and ",=HYPERLINK" not in text


def test_letters_batch_is_print_ready_and_exports_csv(client, marketing) -> None:
    # given a letter campaign to a customer with an address
    customer = CustomerFactory(
        first_name="=Brief",
        addresses=[{"street": "Hauptstr. 1", "postal_code": "50667", "city": "Köln"}],
    )
    campaign = services.campaign_create(
        actor=None,
        data={
            "name": "Brief",
            "offer_kind": "information",
            "channel": "letter",
            "subject": "Post für Sie",
            "body": "Hallo {first_name}",
            "control_share": Decimal("0"),
        },
    )
    campaign = services.campaign_status_set(actor=None, campaign=campaign, status="active")
    services.campaign_run(actor=None, campaign=campaign, now=NOW)
    client.force_login(marketing)
    # when
    html = client.get(f"/campaigns/{campaign.pk}/letters/").content.decode()
    csv_text = client.get(f"/campaigns/{campaign.pk}/letters.csv").content.decode()
    # then
    assert 'class="letter"' in html and "Hauptstr. 1" in html
    assert "css/letters.css" in html  # the print sheet: one letter per page
    sheet = finders.find("css/letters.css")
    assert sheet and ".letter { page-break-after: always; }" in Path(sheet).read_text()
    assert customer.number in csv_text and "'=Brief" in csv_text
    assert customer.interactions.filter(kind="campaign", channel="letter").exists()


def test_customer_page_shows_the_next_best_activity_with_its_reason(client, agent) -> None:
    # given a churning customer and the active win-back playbook
    customer = consenting_customer(first_name="Nba")
    score(customer, phase="churning")
    playbook = Campaign.objects.get(playbook_phase="churning")
    services.campaign_status_set(actor=None, campaign=playbook, status="active")
    client.force_login(agent)
    # when
    html = client.get(f"/customers/{customer.pk}/").content.decode()
    # then
    assert f'data-next-best="{playbook.pk}"' in html
    assert "expected uplift" in html or "erwarteter" in html.lower() or "€" in html


def test_customer_page_says_why_there_is_no_action(client, agent) -> None:
    customer = CustomerFactory(first_name="Ohne")
    score(customer, phase="churning")
    services.campaign_status_set(
        actor=None, campaign=Campaign.objects.get(playbook_phase="churning"), status="active"
    )
    client.force_login(agent)
    html = client.get(f"/customers/{customer.pk}/").content.decode()
    assert 'data-next-best=""' in html and "Double-Opt-in" in html
