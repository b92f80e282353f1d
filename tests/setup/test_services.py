"""The settings' services: contradicting input is refused whole, every change is audited."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from stammkunde.core import services as core_services
from stammkunde.core.errors import ApplicationError, ConflictError
from stammkunde.core.models import AuditEntry, ServicePartner
from stammkunde.service.models import BusinessCalendar, Queue, ReplyTemplate, SLAPolicy
from stammkunde.service.services import setup as services
from stammkunde.setup import services as setup_services
from stammkunde.setup.models import Company

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def _sla(**overrides: Any) -> SLAPolicy:
    data = {
        "actor": None,
        "policy": None,
        "name": "Standard",
        "queue": None,
        "value_class": "",
        "priority": "normal",
        "first_response_minutes": 60,
        "next_response_minutes": 120,
        "resolution_minutes": 480,
    }
    data.update(overrides)
    return services.sla_policy_save(**data)


def _calendar(**overrides: Any) -> BusinessCalendar:
    data: dict[str, Any] = {
        "actor": None,
        "calendar": None,
        "name": "Laden",
        "state": "BY",
        "opening_hours": {"0": [["09:00", "18:00"]]},
        "closed_days": [],
    }
    data.update(overrides)
    return services.calendar_save(**data)


# --------------------------------------------------------------------------- SLA
def test_an_sla_first_response_later_than_the_resolution_is_refused_and_nothing_saved(admin):
    with translation.override("de"), pytest.raises(ApplicationError) as refused:
        _sla(actor=admin, first_response_minutes=600, resolution_minutes=480)
    assert refused.value.code == "sla_order"
    assert "first_response_minutes" in refused.value.field_errors
    assert "Erstreaktion (600 min)" in refused.value.message
    assert not SLAPolicy.objects.exists() and not AuditEntry.objects.exists()


def test_a_change_to_an_sla_policy_that_contradicts_keeps_the_old_targets(admin):
    policy = _sla(actor=admin)
    with pytest.raises(ApplicationError):
        _sla(actor=admin, policy=policy, next_response_minutes=900, resolution_minutes=800)
    policy.refresh_from_db()
    assert (policy.next_response_minutes, policy.resolution_minutes) == (120, 480)


def test_a_second_policy_for_the_same_scope_names_the_first(admin):
    _sla(actor=admin, name="Normal")
    with pytest.raises(ApplicationError) as refused:
        _sla(actor=admin, name="Doppelt")
    assert refused.value.code == "sla_scope" and "Normal" in refused.value.message


def test_each_sla_change_leaves_an_audit_entry_with_the_changed_fields(admin):
    policy = _sla(actor=admin)
    _sla(actor=admin, policy=policy, resolution_minutes=960)
    entries = list(AuditEntry.objects.filter(object_type="service.SLAPolicy").order_by("id"))
    assert [e.action for e in entries] == ["create", "update"]
    assert entries[1].actor == admin
    assert entries[1].changes == {"resolution_minutes": [480, 960]}
    services.sla_policy_delete(actor=admin, policy=policy)
    assert AuditEntry.objects.filter(object_type="service.SLAPolicy", action="delete").exists()


# --------------------------------------------------------------------------- business hours
def test_business_hours_that_end_before_they_start_are_refused_naming_the_day(admin):
    with translation.override("de"), pytest.raises(ApplicationError) as refused:
        _calendar(actor=admin, opening_hours={"0": [["09:00", "18:00"]], "2": [["18:00", "08:00"]]})
    assert refused.value.code == "hours_order"
    assert "Mittwoch" in refused.value.message and "18:00" in refused.value.message
    assert not BusinessCalendar.objects.exists() and not AuditEntry.objects.exists()


def test_overlapping_spans_of_a_day_are_refused(admin):
    with pytest.raises(ApplicationError) as refused:
        _calendar(opening_hours={"1": [["08:00", "13:00"], ["12:00", "18:00"]]})
    assert refused.value.code == "hours_overlap"


def test_a_calendar_without_any_open_day_is_refused():
    with pytest.raises(ApplicationError) as refused:
        _calendar(opening_hours={})
    assert refused.value.code == "no_hours"


def test_a_calendar_with_an_unknown_state_is_refused():
    with pytest.raises(ApplicationError) as refused:
        _calendar(state="XX")
    assert "state" in refused.value.field_errors


def test_a_saved_calendar_counts_the_states_holidays_and_its_closed_days(admin):
    calendar = _calendar(
        actor=admin,
        opening_hours={str(d): [["08:00", "12:00"], ["13:00", "17:00"]] for d in range(5)},
        closed_days=[date(2026, 12, 24)],
    )
    hours = calendar.business_hours()
    assert hours.is_closed_day(date(2026, 1, 6))  # Heilige Drei Könige in Bayern
    assert hours.is_closed_day(date(2026, 12, 24))
    assert not hours.is_closed_day(date(2026, 1, 7))
    entry = AuditEntry.objects.get(object_type="service.BusinessCalendar")
    assert entry.action == "create" and entry.changes["closed_days"] == [None, ["2026-12-24"]]


# --------------------------------------------------------------------------- queues
def test_a_queue_gets_its_members_and_an_audit_entry(admin, make_user):
    agent = make_user("agent")
    queue = services.queue_save(actor=admin, queue=None, name="Werkstatt", members=[agent])
    assert list(queue.members.all()) == [agent]
    services.queue_save(actor=admin, queue=queue, name="Werkstatt", members=[agent, admin])
    update = AuditEntry.objects.filter(object_type="service.Queue", action="update").get()
    assert update.changes["members"] == [[agent.pk], sorted([agent.pk, admin.pk])]


def test_a_partner_agent_cannot_join_a_queue_of_another_partner(admin, make_user):
    own = ServicePartner.objects.create(name="Eigen")
    other = ServicePartner.objects.create(name="Fremd")
    partner_agent = make_user("partner_agent", partner=own)
    with pytest.raises(ApplicationError):
        services.queue_save(
            actor=admin, queue=None, name="Fremd-Queue", partner=other, members=[partner_agent]
        )
    assert not Queue.objects.exists()
    services.queue_save(
        actor=admin, queue=None, name="Eigen-Queue", partner=own, members=[partner_agent]
    )


def test_a_user_without_a_desk_role_cannot_be_a_queue_member(admin, make_user):
    with pytest.raises(ApplicationError):
        services.queue_save(actor=admin, queue=None, name="X", members=[make_user("marketing")])


def test_two_queues_cannot_share_a_name(admin):
    services.queue_save(actor=admin, queue=None, name="Werkstatt")
    with pytest.raises(ApplicationError):
        services.queue_save(actor=admin, queue=None, name="werkstatt")


# --------------------------------------------------------------------------- reply templates
def test_a_template_with_an_unknown_placeholder_is_refused_listing_the_known_ones(admin):
    with pytest.raises(ApplicationError) as refused:
        services.reply_template_save(
            actor=admin, template=None, name="Dank", language="de", body="Hallo {kunde}"
        )
    assert "{kunde}" in refused.value.message and "{customer_name}" in refused.value.message
    assert not ReplyTemplate.objects.exists()


def test_a_template_with_a_stray_brace_is_refused(admin):
    with pytest.raises(ApplicationError) as refused:
        services.template_preview(body="Hallo {customer_name")
    assert refused.value.code == "template_braces"


def test_the_preview_fills_the_placeholders_with_sample_values():
    text = services.template_preview(body="Hallo {customer_name}, Ticket {ticket_number}")
    assert text == "Hallo Erika Mustermann, Ticket T-000042"


def test_a_saved_template_is_audited(admin):
    template = services.reply_template_save(
        actor=admin, template=None, name="Dank", language="de", body="Danke, {customer_name}!"
    )
    services.reply_template_save(
        actor=admin, template=template, name="Dank", language="de", body="Vielen Dank!"
    )
    actions = AuditEntry.objects.filter(object_type="service.ReplyTemplate")
    assert sorted(actions.values_list("action", flat=True)) == ["create", "update"]


# --------------------------------------------------------------------------- users
def test_an_invited_colleague_gets_roles_no_password_and_a_mail_with_the_link(
    admin, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invitation = setup_services.colleague_invite(
            actor=admin,
            base_url="https://shop.example/",
            username="tom",
            email="tom@example.de",
            roles=["agent"],
            first_name="Tom",
            last_name="Tester",
            partner=None,
            goodwill_limit=Decimal("80"),
        )
    tom = invitation.user
    assert not tom.has_usable_password()
    assert list(tom.groups.values_list("name", flat=True)) == ["agent"]
    assert tom.profile.goodwill_limit == Decimal("80")
    assert invitation.url.startswith("https://shop.example/accounts/password/reset/")
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["tom@example.de"]
    assert invitation.url in mail.outbox[0].body
    entry = AuditEntry.objects.get(object_type="auth.User", object_id=str(tom.pk))
    assert entry.actor == admin and entry.changes["roles"] == ["agent"]


def test_an_invitation_with_a_taken_user_name_is_refused(admin):
    with pytest.raises(ApplicationError) as refused:
        core_services.user_invite(
            actor=admin, username=admin.username.upper(), email="x@example.de", roles=["agent"]
        )
    assert "username" in refused.value.field_errors


def test_a_partner_agent_needs_a_partner(admin):
    with pytest.raises(ApplicationError) as refused:
        core_services.user_invite(
            actor=admin, username="pa", email="pa@example.de", roles=["partner_agent"]
        )
    assert refused.value.code == "partner"
    assert not get_user_model().objects.filter(username="pa").exists()


def test_the_last_admin_keeps_the_admin_role(admin):
    with pytest.raises(ApplicationError) as refused:
        core_services.user_roles_set(actor=admin, user=admin, roles=["agent"])
    assert refused.value.code == "last_admin"
    assert admin.groups.filter(name="admin").exists()


def test_nobody_deactivates_themselves_but_another_admin_may(admin, make_user):
    with pytest.raises(ApplicationError) as refused:
        core_services.user_active_set(actor=admin, user=admin, active=False)
    assert refused.value.code == "self"
    other = make_user("admin")
    core_services.user_active_set(actor=other, user=admin, active=False)
    admin.refresh_from_db()
    assert not admin.is_active
    entry = AuditEntry.objects.get(object_type="auth.User", object_id=str(admin.pk))
    assert entry.changes == {"is_active": [True, False]}


def test_the_last_active_admin_cannot_be_deactivated(admin, make_user):
    other = make_user("admin")
    core_services.user_active_set(actor=admin, user=other, active=False)
    with pytest.raises(ApplicationError) as refused:
        core_services.user_active_set(actor=other, user=admin, active=False)
    assert refused.value.code == "last_admin"


def test_a_password_reset_stops_the_old_password_and_mails_a_link(
    admin, agent, django_capture_on_commit_callbacks
):
    agent.email = "agent@example.de"
    agent.save()
    with django_capture_on_commit_callbacks(execute=True):
        link = setup_services.colleague_password_reset(
            actor=admin, user=agent, base_url="http://testserver/"
        )
    agent.refresh_from_db()
    assert not agent.check_password("pw-Stammkunde-1")
    assert link.url in mail.outbox[0].body
    assert AuditEntry.objects.filter(object_id=str(agent.pk), changes={"password": "reset"})


# --------------------------------------------------------------------------- company
def test_company_links_must_be_web_addresses(admin):
    with pytest.raises(ApplicationError) as refused:
        setup_services.company_save(
            actor=admin, data={"name": "Radhaus", "imprint_url": "javascript:alert(1)"}
        )
    assert "imprint_url" in refused.value.field_errors
    assert not Company.objects.exists()


def test_a_logo_that_is_not_png_or_jpeg_is_refused(admin, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    svg = SimpleUploadedFile("logo.svg", b"<svg onload='alert(1)'/>", "image/svg+xml")
    with pytest.raises(ApplicationError) as refused:
        setup_services.company_save(actor=admin, data={"name": "Radhaus"}, logo=svg)
    assert "logo" in refused.value.field_errors
    png = SimpleUploadedFile("logo.png", PNG, "image/png")
    company = setup_services.company_save(actor=admin, data={"name": "Radhaus"}, logo=png)
    assert company.logo.name.endswith(".png")


def test_company_changes_are_audited_field_by_field(admin):
    setup_services.company_save(actor=admin, data={"name": "Radhaus", "city": "Köln"})
    setup_services.company_save(actor=admin, data={"name": "Radhaus", "city": "Bonn"})
    update = AuditEntry.objects.get(object_type="settings.Company", action="update")
    assert update.changes == {"city": ["Köln", "Bonn"]}


# --------------------------------------------------------------------------- first run
def _run(**overrides: Any) -> setup_services.FirstRun:
    data: dict[str, Any] = {
        "company": {"name": "Radhaus Müller", "email": "service@radhaus.example"},
        "state": "NW",
        "admin": setup_services.first_admin_check(
            username="anna", email="anna@radhaus.example", password="Fahrrad-Werkstatt-7"
        ),
        "queue_name": "Kundenservice",
    }
    data.update(overrides)
    return setup_services.FirstRun(**data)


def test_the_first_run_writes_company_admin_calendar_and_queue():
    admin = setup_services.first_run_complete(run=_run())
    assert admin.check_password("Fahrrad-Werkstatt-7") and admin.is_staff
    assert list(admin.groups.values_list("name", flat=True)) == ["admin"]
    queue = Queue.objects.get()
    assert queue.name == "Kundenservice" and list(queue.members.all()) == [admin]
    assert queue.calendar is not None and queue.calendar.state == "NW"
    assert Company.objects.get().name == "Radhaus Müller"


def test_the_first_run_is_refused_once_a_user_exists(agent):
    with pytest.raises(ConflictError):
        setup_services.first_run_complete(run=_run())
    assert not Company.objects.exists() and not Queue.objects.exists()


def test_a_failing_first_run_step_leaves_nothing_behind():
    with pytest.raises(ApplicationError):
        setup_services.first_run_complete(run=_run(queue_name="  "))
    assert not get_user_model().objects.exists() and not Company.objects.exists()


def test_a_weak_first_admin_password_is_refused():
    with pytest.raises(ApplicationError) as refused:
        setup_services.first_admin_check(username="anna", email="a@b.de", password="12345678")
    assert "password" in refused.value.field_errors
