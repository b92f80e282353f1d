"""The settings section "Survey rules" (feedback triggers) and the retention section's link.

Refusals come from ``feedback.services`` with the field to change; the pages are
for admins and team leads; every change is audited; a refused form changes nothing.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from stammkunde.core.errors import ApplicationError
from stammkunde.core.models import AuditEntry
from stammkunde.feedback import services
from stammkunde.feedback.models import Survey, Trigger

pytestmark = pytest.mark.django_db
ROLES = ("admin", "team_lead", "agent", "marketing", "analyst", "partner_agent")
ALLOWED = {"admin", "team_lead"}


def _client(user: Any) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="de")
    client.force_login(user)
    return client


def _user(make_user: Any, role: str) -> Any:
    from stammkunde.core.models import ServicePartner

    partner = ServicePartner.objects.create(name="P") if role == "partner_agent" else None
    return make_user(role, partner=partner)


@pytest.fixture
def survey(db: Any) -> Survey:
    return services.survey_create(
        actor=None,
        name="Zufriedenheit",
        title_de="Wie zufrieden waren Sie?",
        questions=[{"type": "csat", "text_de": "Zufriedenheit?", "text_en": "Satisfaction?"}],
        publish=True,
    )


@pytest.fixture
def trigger(survey: Survey) -> Trigger:
    return services.trigger_create(actor=None, survey=survey, event="ticket_solved", delay_days=1)


def _audits(trigger: Trigger) -> list[AuditEntry]:
    return list(
        AuditEntry.objects.filter(object_type="feedback.Trigger", object_id=str(trigger.pk))
    )


RULE = {
    "event": "periodic",
    "delay_days": 0,
    "period_days": 180,
    "phase": "",
    "min_gap_days": 30,
    "expiry_days": 14,
}


# --------------------------------------------------------------------------- services
def test_a_period_shorter_than_the_minimum_gap_is_refused_saying_what_to_change(
    admin, survey
) -> None:
    with pytest.raises(ApplicationError) as err:
        services.trigger_save(
            actor=admin,
            trigger=None,
            survey=survey,
            **{**RULE, "period_days": 20, "min_gap_days": 60},
        )
    message = " ".join(err.value.field_errors["period_days"])
    assert "20" in message and "60" in message
    assert not Trigger.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("phase", ""),
        ("phase", "vip"),
        ("expiry_days", 0),
        ("min_gap_days", -1),
        ("delay_days", "1.5"),
        ("period_days", 0),
        ("event", "birthday"),
    ],
)
def test_contradicting_or_impossible_rules_are_refused_on_their_field(
    admin, survey, field, value
) -> None:
    values = {**RULE, "event": "phase", "phase": "lost", field: value}
    with pytest.raises(ApplicationError) as err:
        services.trigger_save(actor=admin, trigger=None, survey=survey, **values)
    assert field in err.value.field_errors
    assert not Trigger.objects.exists()


def test_trigger_update_changes_only_what_is_given_and_audits_the_difference(
    admin, trigger
) -> None:
    services.trigger_update(actor=admin, trigger=trigger, delay_days=3, min_gap_days=45)
    trigger.refresh_from_db()
    assert (trigger.delay_days, trigger.min_gap_days, trigger.expiry_days) == (3, 45, 14)
    update = [a for a in _audits(trigger) if a.action == "update"]
    assert len(update) == 1 and update[0].actor == admin
    assert update[0].changes == {"delay_days": [1, 3], "min_gap_days": [30, 45]}
    services.trigger_update(actor=admin, trigger=trigger, delay_days=3)  # no change
    assert len([a for a in _audits(trigger) if a.action == "update"]) == 1


def test_trigger_update_refuses_and_keeps_the_old_values(admin, trigger) -> None:
    with pytest.raises(ApplicationError) as err:
        services.trigger_update(actor=admin, trigger=trigger, event="phase", expiry_days=0)
    assert {"phase", "expiry_days"} <= set(err.value.field_errors)
    trigger.refresh_from_db()
    assert trigger.event == "ticket_solved" and trigger.expiry_days == 14
    with pytest.raises(ApplicationError):
        services.trigger_update(actor=admin, trigger=trigger, survey_id=99)


def test_a_phase_is_dropped_for_events_without_one(admin, survey) -> None:
    created = services.trigger_save(
        actor=admin, trigger=None, survey=survey, **{**RULE, "phase": "lost"}
    )
    assert created.phase == "" and created.event == "periodic"
    assert [a.action for a in _audits(created)] == ["create"]


# --------------------------------------------------------------------------- pages
@pytest.mark.parametrize("role", ROLES)
def test_admins_and_team_leads_open_the_survey_rules_others_are_refused(
    make_user, trigger, role
) -> None:
    client = _client(_user(make_user, role))
    expected = 200 if role in ALLOWED else 403
    for url in (
        reverse("feedback:rules"),
        reverse("feedback:rule_create"),
        reverse("feedback:rule", args=[trigger.pk]),
    ):
        assert client.get(url).status_code == expected, (role, url)
    response = client.post(reverse("feedback:rule_active", args=[trigger.pk]))
    assert response.status_code == (302 if role in ALLOWED else 403)


def test_the_list_shows_every_rule_with_its_survey(make_user, trigger) -> None:
    page = _client(make_user("team_lead")).get(reverse("feedback:rules")).content.decode()
    assert "Zufriedenheit" in page and reverse("feedback:rule", args=[trigger.pk]) in page


def test_a_team_lead_creates_a_rule_and_it_is_audited(make_user, survey) -> None:
    lead = make_user("team_lead")
    body = {"survey": str(survey.pk), **{k: str(v) for k, v in RULE.items()}}
    response = _client(lead).post(reverse("feedback:rule_create"), body)
    assert response.status_code == 302, response.content.decode()[:3000]
    created = Trigger.objects.get()
    assert created.event == "periodic" and created.period_days == 180
    assert [(a.action, a.actor) for a in _audits(created)] == [("create", lead)]


def test_a_refused_edit_changes_nothing_and_shows_the_error_on_the_field(admin, trigger) -> None:
    body = {
        "survey": str(trigger.survey_id),
        **{k: str(v) for k, v in RULE.items()},
        "period_days": "10",
        "min_gap_days": "30",
        "delay_days": "7",
    }
    response = _client(admin).post(reverse("feedback:rule", args=[trigger.pk]), body)
    assert response.status_code == 200
    assert response.context["form"].errors["period_days"]
    trigger.refresh_from_db()
    assert trigger.event == "ticket_solved" and trigger.delay_days == 1
    assert [a.action for a in _audits(trigger)] == ["create"]


def test_an_edit_that_saves_is_audited(admin, trigger) -> None:
    body = {
        "survey": str(trigger.survey_id),
        **{k: str(v) for k, v in RULE.items()},
        "event": "ticket_solved",
        "delay_days": "2",
    }
    assert _client(admin).post(reverse("feedback:rule", args=[trigger.pk]), body).status_code == 302
    trigger.refresh_from_db()
    assert trigger.delay_days == 2
    update = [a for a in _audits(trigger) if a.action == "update"]
    assert update and update[0].changes == {"delay_days": [1, 2]}


def test_switching_a_rule_off_is_audited(admin, trigger) -> None:
    _client(admin).post(reverse("feedback:rule_active", args=[trigger.pk]))
    trigger.refresh_from_db()
    assert not trigger.active
    assert any(a.changes == {"active": False} for a in _audits(trigger))


def test_the_survey_page_adds_triggers_with_the_same_rules(make_user, survey) -> None:
    marketing = make_user("marketing")
    body = {**{k: str(v) for k, v in RULE.items()}, "period_days": "20", "min_gap_days": "60"}
    response = _client(marketing).post(reverse("feedback:trigger_add", args=[survey.pk]), body)
    assert response.status_code == 302
    assert not Trigger.objects.exists()


def test_unparsable_days_get_djangos_german_message(admin, trigger) -> None:
    body = {"survey": str(trigger.survey_id), **{k: str(v) for k, v in RULE.items()}}
    body["expiry_days"] = "zwei Wochen"
    response = _client(admin).post(reverse("feedback:rule", args=[trigger.pk]), body)
    assert response.status_code == 200 and "ganze Zahl eingeben" in response.content.decode()


# --------------------------------------------------------------------------- retention
def test_the_retention_section_links_to_the_privacy_page_which_validates_and_audits(
    make_user,
) -> None:
    from stammkunde.privacy import selectors as privacy_selectors

    lead = make_user("team_lead")
    client = _client(lead)
    assert reverse("privacy:retention") in client.get(reverse("settings:index")).content.decode()
    days = {k: str(v) for k, v in privacy_selectors.retention_days().items()}
    refused = client.post(reverse("privacy:retention"), {**days, "raw_mail": "0"})
    assert refused.status_code == 200 and refused.context["form"].errors["raw_mail"]
    refused = client.post(reverse("privacy:retention"), {**days, "raw_mail": "1,5"})
    assert refused.status_code == 200 and refused.context["form"].errors["raw_mail"]
    assert privacy_selectors.retention_days()["raw_mail"] == int(days["raw_mail"])
    assert client.post(reverse("privacy:retention"), {**days, "raw_mail": "60"}).status_code == 302
    entry = AuditEntry.objects.get(object_type="privacy.RetentionPeriod")
    assert entry.actor == lead and entry.changes["raw_mail"] == [int(days["raw_mail"]), 60]
