"""The settings pages and the wizard through the client: German messages, nothing half-saved."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.urls import reverse

from stammkunde.core.models import AuditEntry
from stammkunde.service.models import BusinessCalendar, Queue, ReplyTemplate, SLAPolicy
from stammkunde.setup.models import Company

pytestmark = pytest.mark.django_db

LEAD_PAGES = (
    "settings:index",
    "settings:calendars",
    "settings:calendar_create",
    "settings:queues",
    "settings:queue_create",
    "settings:sla",
    "settings:sla_create",
    "settings:templates",
    "settings:template_create",
)
ADMIN_PAGES = ("settings:company", "settings:users", "settings:user_invite")
PASSWORD = "Fahrrad-Werkstatt-7"


def _client(user: Any) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="de")
    client.force_login(user)
    return client


def _wizard(client: Client) -> Any:
    steps = [
        {"name": "Radhaus Müller", "city": "Köln", "state": "NW"},
        {"username": "anna", "email": "anna@radhaus.example", "password": PASSWORD},
        {"queue_name": "Werkstatt"},
        {"email": "service@radhaus.example"},
    ]
    response = None
    for data in steps:
        response = client.post(reverse("settings:welcome"), data)
        assert response.status_code == 302, response.content.decode()[:2000]
    return response


# --------------------------------------------------------------------------- first run
def test_a_fresh_install_opens_the_wizard_on_the_start_page():
    response = Client().get("/")
    assert response.status_code == 302 and response["Location"] == reverse("settings:welcome")


def test_the_wizard_writes_everything_at_the_end_and_lands_logged_in_on_the_start_page():
    client = Client(HTTP_ACCEPT_LANGUAGE="de")
    client.post(reverse("settings:welcome"), {"name": "Radhaus Müller", "state": "NW"})
    client.post(
        reverse("settings:welcome"),
        {"username": "anna", "email": "anna@radhaus.example", "password": PASSWORD},
    )
    assert not get_user_model().objects.exists()  # nothing written before the last step
    client.post(reverse("settings:welcome"), {"queue_name": "Werkstatt"})
    done = client.post(reverse("settings:welcome"), {"skip": "1"})
    assert done.status_code == 302 and done["Location"] == reverse("home")
    start = client.get("/")
    assert start.status_code == 200 and start.wsgi_request.user.username == "anna"
    assert Queue.objects.get().name == "Werkstatt"
    assert Company.objects.get().name == "Radhaus Müller"


def test_after_the_first_run_the_wizard_is_gone():
    _wizard(Client())
    for client in (Client(), _client(get_user_model().objects.get())):
        response = client.get(reverse("settings:welcome"))
        assert response.status_code == 302 and response["Location"] == reverse("home")
    anonymous = Client().get("/")
    assert reverse("login") in anonymous["Location"]


def test_the_wizard_refuses_a_weak_password_in_german_and_stays_on_the_step():
    client = Client(HTTP_ACCEPT_LANGUAGE="de")
    client.post(reverse("settings:welcome"), {"name": "Radhaus"})
    response = client.post(
        reverse("settings:welcome"),
        {"username": "anna", "email": "anna@radhaus.example", "password": "12345678"},
    )
    assert response.status_code == 200
    text = response.content.decode()
    assert "Schritt 2 von 4" in text and "Passwort" in text
    assert not get_user_model().objects.exists()


def test_the_wizard_goes_back_a_step_keeping_what_was_entered():
    client = Client(HTTP_ACCEPT_LANGUAGE="de")
    client.post(reverse("settings:welcome"), {"name": "Radhaus Müller"})
    client.post(reverse("settings:welcome"), {"back": "1"})
    page = client.get(reverse("settings:welcome")).content.decode()
    assert "Schritt 1 von 4" in page and 'value="Radhaus Müller"' in page


def test_a_demo_install_never_shows_the_wizard(admin):
    assert Client().get("/")["Location"].startswith(reverse("login"))


# --------------------------------------------------------------------------- access
@pytest.mark.parametrize("role", ["agent", "partner_agent", "marketing", "analyst"])
def test_other_roles_are_refused_every_settings_page(make_user, role):
    from stammkunde.core.models import ServicePartner

    partner = ServicePartner.objects.create(name="P") if role == "partner_agent" else None
    client = _client(make_user(role, partner=partner))
    for name in (*LEAD_PAGES, *ADMIN_PAGES):
        assert client.get(reverse(name)).status_code == 403, name


def test_a_team_lead_has_the_desk_settings_but_not_company_or_users(make_user):
    client = _client(make_user("team_lead"))
    for name in LEAD_PAGES:
        assert client.get(reverse(name)).status_code == 200, name
    for name in ADMIN_PAGES:
        assert client.get(reverse(name)).status_code == 403, name
    index = client.get(reverse("settings:index")).content.decode()
    assert "Geschäftszeiten" in index and "Benutzer und Rollen" not in index


def test_the_settings_menu_entry_is_for_admins_and_team_leads(admin, agent):
    assert "Einstellungen" in _client(admin).get(reverse("settings:index")).content.decode()
    assert "/settings/" not in _client(agent).get("/").content.decode()


# --------------------------------------------------------------------------- pages
def test_a_contradicting_sla_policy_shows_what_to_change_and_saves_nothing(admin):
    response = _client(admin).post(
        reverse("settings:sla_create"),
        {
            "name": "Eilig",
            "priority": "urgent",
            "first_response_minutes": "600",
            "next_response_minutes": "60",
            "resolution_minutes": "480",
        },
    )
    assert response.status_code == 200
    assert "Verkürzen Sie die Erstreaktion" in response.content.decode()
    assert not SLAPolicy.objects.exists()


def test_business_hours_that_end_before_they_start_are_refused_on_the_page(admin):
    data = {"name": "Laden", "state": "BY", "timezone": "Europe/Berlin"}
    data |= {"d0_open1": "18:00", "d0_close1": "09:00", "d1_open1": "09:00", "d1_close1": "18:00"}
    response = _client(admin).post(reverse("settings:calendar_create"), data)
    assert response.status_code == 200
    assert "Montag: Die Zeit endet (09:00), bevor sie beginnt (18:00)" in response.content.decode()
    assert not BusinessCalendar.objects.exists()


def test_business_hours_with_a_lunch_break_and_closed_days_are_saved(admin):
    data = {"name": "Laden", "state": "BY", "timezone": "Europe/Berlin"}
    data |= {"d0_open1": "09:00", "d0_close1": "12:30", "d0_open2": "14:00", "d0_close2": "18:00"}
    data |= {"d5_open1": "10:00", "d5_close1": "14:00", "closed_days": "24.12.2026\n2026-12-31"}
    response = _client(admin).post(reverse("settings:calendar_create"), data)
    assert response.status_code == 302
    calendar = BusinessCalendar.objects.get()
    assert calendar.opening_hours == {
        "0": [["09:00", "12:30"], ["14:00", "18:00"]],
        "5": [["10:00", "14:00"]],
    }
    assert calendar.closed_days == ["2026-12-24", "2026-12-31"]
    page = _client(admin).get(reverse("settings:calendar", args=[calendar.pk])).content.decode()
    assert "Heilige Drei Könige" in page  # the holidays of Bayern, in German


def test_a_template_preview_fills_the_sample_values_and_saves_nothing(admin):
    response = _client(admin).post(
        reverse("settings:template_create"),
        {"name": "Dank", "language": "de", "body": "Hallo {customer_name}!", "preview": "1"},
    )
    assert "Hallo Erika Mustermann!" in response.content.decode()
    assert not ReplyTemplate.objects.exists()


def test_a_queue_with_members_is_saved(admin, agent):
    response = _client(admin).post(
        reverse("settings:queue_create"), {"name": "Werkstatt", "members": [str(agent.pk)]}
    )
    assert response.status_code == 302
    assert list(Queue.objects.get().members.all()) == [agent]


def test_an_invited_colleague_chooses_a_password_by_the_link_and_logs_in(
    admin, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = _client(admin).post(
            reverse("settings:user_invite"),
            {"username": "tom", "email": "tom@radhaus.example", "roles": ["agent"]},
        )
    assert response.status_code == 200
    link = re.search(r'id="password-link" href="([^"]+)"', response.content.decode())
    assert link is not None
    path = link.group(1).removeprefix("http://testserver")
    assert len(mail.outbox) == 1 and link.group(1) in mail.outbox[0].body
    colleague = Client()
    set_form = colleague.get(path, follow=True)
    form_path = set_form.redirect_chain[-1][0]
    done = colleague.post(form_path, {"new_password1": PASSWORD, "new_password2": PASSWORD})
    assert done.status_code == 302
    login = Client().post(reverse("login"), {"username": "tom", "password": PASSWORD})
    assert login.status_code == 302 and reverse("login") not in login["Location"]


def test_an_admin_deactivates_a_colleague_who_then_cannot_log_in(admin, agent):
    response = _client(admin).post(
        reverse("settings:user_active", args=[agent.pk]), {"active": "0"}
    )
    assert response.status_code == 302
    agent.refresh_from_db()
    assert not agent.is_active
    assert AuditEntry.objects.filter(object_id=str(agent.pk), actor=admin).exists()


def test_company_data_is_saved_from_the_page(admin):
    response = _client(admin).post(
        reverse("settings:company"),
        {"name": "Radhaus", "imprint_url": "https://radhaus.example/impressum"},
    )
    assert response.status_code == 302
    assert Company.objects.get().imprint_url == "https://radhaus.example/impressum"
