"""The customer panel, goodwill, self-service link, printable card, reports and program pages."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from stammkunde.core.models import AuditEntry
from stammkunde.loyalty import services
from stammkunde.loyalty.models import LoyaltyProgram, PointsEntry, Tier, Voucher
from tests.customers.factories import CustomerFactory

from .factories import account, program

pytestmark = pytest.mark.django_db


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_customer_page_shows_balance_tier_and_history(agent) -> None:
    # given
    acc = account()
    services.points_earn(account=acc, points=1234, idempotency_key="e", reason="Kauf")
    # when
    page = _client(agent).get(reverse("customers:detail", args=[acc.customer.pk]))
    # then
    html = page.content.decode()
    assert page.status_code == 200
    assert 'id="panel-loyalty"' in html and "1234" in html and "Basis" in html
    assert acc.card_number in html


def test_agent_issues_a_card_from_the_customer_page(agent) -> None:
    account()  # the program exists
    customer = CustomerFactory()
    response = _client(agent).post(reverse("loyalty:enroll", args=[customer.pk]))
    assert response.status_code == 302
    assert customer.loyalty_accounts.count() == 1


def test_goodwill_points_within_the_limit_are_booked_once(agent) -> None:
    acc = account()
    body = {"kind": "points", "points": 500, "reason": "Lieferverzug", "idempotency_key": "gw-1"}
    client = _client(agent)
    client.post(reverse("loyalty:goodwill", args=[acc.customer.pk]), body)
    client.post(reverse("loyalty:goodwill", args=[acc.customer.pk]), body)
    entries = PointsEntry.objects.filter(account=acc)
    assert [(e.kind, e.points, e.agent_id) for e in entries] == [("adjust", 500, agent.pk)]


def test_goodwill_above_the_agents_limit_books_nothing(agent) -> None:
    acc = account()
    body = {"kind": "points", "points": 6000, "reason": "zu viel", "idempotency_key": "gw-2"}
    response = _client(agent).post(
        reverse("loyalty:goodwill", args=[acc.customer.pk]), body, follow=True
    )
    assert "goodwill limit" in response.content.decode()
    assert not PointsEntry.objects.filter(account=acc).exists()


def test_goodwill_voucher_is_issued_to_the_customer(agent) -> None:
    acc = account()
    body = {
        "kind": "voucher",
        "amount": "20",
        "reason": "Entschuldigung",
        "idempotency_key": "gw-3",
    }
    _client(agent).post(reverse("loyalty:goodwill", args=[acc.customer.pk]), body)
    voucher = Voucher.objects.get(customer=acc.customer)
    assert (voucher.value, voucher.max_uses, voucher.issued_by_id) == (20, 1, agent.pk)


def test_partner_agent_cannot_grant_goodwill(partner_agent) -> None:
    acc = account()
    body = {"kind": "points", "points": 5, "reason": "x", "idempotency_key": "gw-4"}
    response = _client(partner_agent).post(
        reverse("loyalty:goodwill", args=[acc.customer.pk]), body
    )
    assert response.status_code in (403, 404)
    assert not PointsEntry.objects.exists()


@pytest.mark.parametrize(("lang", "word"), [("de", "Punkte"), ("en", "points")])
def test_self_service_link_shows_balance_and_qr_without_login(lang: str, word: str) -> None:
    # given
    acc = account()
    services.points_earn(account=acc, points=321, idempotency_key="e")
    token = services.self_service_token(acc)
    # when
    page = Client().get(reverse("loyalty:self_service", args=[token]), {"lang": lang})
    # then
    html = page.content.decode()
    assert page.status_code == 200
    assert "321" in html and "<svg" in html and word in html
    assert page["Cache-Control"] == "no-store"


def test_self_service_link_with_a_forged_token_is_404() -> None:
    acc = account()
    token = services.self_service_token(acc)
    other = account()
    forged = token.replace(f"{acc.pk}:", f"{other.pk}:", 1)
    assert Client().get(reverse("loyalty:self_service", args=[forged])).status_code == 404


def test_printable_card_is_an_html_page_with_the_qr_code() -> None:
    acc = account()
    page = Client().get(reverse("loyalty:card_print", args=[services.self_service_token(acc)]))
    assert (
        page.status_code == 200
        and b"<svg" in page.content
        and acc.card_number.encode() in page.content
    )


def test_reports_show_members_liability_and_rates(agent) -> None:
    acc = account()
    services.points_earn(account=acc, points=1000, idempotency_key="e")
    services.points_redeem(account=acc, points=250, idempotency_key="r")
    page = _client(agent).get(reverse("loyalty:reports"))
    html = page.content.decode()
    assert page.status_code == 200
    assert "7,50" in html or "7.50" in html  # 750 points x 0.01 EUR
    assert "25 %" in html


def test_partner_agent_cannot_open_reports(partner_agent) -> None:
    assert _client(partner_agent).get(reverse("loyalty:reports")).status_code == 403


def test_marketing_configures_a_program_with_tiers(make_user) -> None:
    marketing = make_user("marketing")
    body = {
        "name": "Club",
        "active": "on",
        "points_per_euro": "2",
        "point_value": "0.005",
        "min_redeem_points": "100",
        "expiry_years": "3",
        "tier_basis": "points",
        "first_purchase_bonus": "100",
        "birthday_bonus": "50",
        "survey_bonus": "20",
        "referral_bonus_referrer": "300",
        "referral_bonus_referee": "200",
        "tiers-TOTAL_FORMS": "1",
        "tiers-INITIAL_FORMS": "0",
        "tiers-0-rank": "0",
        "tiers-0-name": "Start",
        "tiers-0-threshold": "0",
        "tiers-0-points_multiplier": "1",
        "tiers-0-discount_percent": "0",
        "multipliers-TOTAL_FORMS": "0",
        "multipliers-INITIAL_FORMS": "0",
        "stamps-TOTAL_FORMS": "0",
        "stamps-INITIAL_FORMS": "0",
    }
    response = _client(marketing).post(reverse("loyalty:program_create"), body)
    assert response.status_code == 302, response.content.decode()[:2000]
    program = LoyaltyProgram.objects.get(name="Club")
    assert list(Tier.objects.filter(program=program).values_list("name", flat=True)) == ["Start"]


def test_agent_cannot_configure_programs(agent) -> None:
    assert _client(agent).get(reverse("loyalty:programs")).status_code == 403


# --------------------------------------------------------------------------- tier rules
# The marketing page saves its tiers through the settings page's rules (services.rules).
def _program_body(program: LoyaltyProgram, **overrides: str) -> dict[str, str]:
    """The page as it is filled in: the program, its tiers, one empty extra tier row."""
    tiers = list(Tier.objects.filter(program=program).order_by("rank"))
    body = {
        "name": program.name,
        "active": "on",
        "points_per_euro": str(program.points_per_euro),
        "point_value": str(program.point_value),
        "min_redeem_points": str(program.min_redeem_points),
        "expiry_years": str(program.expiry_years),
        "tier_basis": program.tier_basis,
        "first_purchase_bonus": str(program.first_purchase_bonus),
        "birthday_bonus": str(program.birthday_bonus),
        "survey_bonus": str(program.survey_bonus),
        "referral_bonus_referrer": str(program.referral_bonus_referrer),
        "referral_bonus_referee": str(program.referral_bonus_referee),
        "tiers-TOTAL_FORMS": str(len(tiers) + 1),
        "tiers-INITIAL_FORMS": str(len(tiers)),
        "multipliers-TOTAL_FORMS": "0",
        "multipliers-INITIAL_FORMS": "0",
        "stamps-TOTAL_FORMS": "0",
        "stamps-INITIAL_FORMS": "0",
    }
    for i, t in enumerate(tiers):
        body.update(
            {
                f"tiers-{i}-id": str(t.pk),
                f"tiers-{i}-program": str(program.pk),
                f"tiers-{i}-rank": str(t.rank),
                f"tiers-{i}-name": t.name,
                f"tiers-{i}-threshold": str(t.threshold),
                f"tiers-{i}-points_multiplier": str(t.points_multiplier),
                f"tiers-{i}-discount_percent": str(t.discount_percent),
                f"tiers-{i}-sla_class": t.sla_class,
                f"tiers-{i}-free_addons": t.free_addons,
            }
        )
    n = len(tiers)  # the extra row as the browser sends it back: the model's defaults
    body.update(
        {
            f"tiers-{n}-threshold": "0",
            f"tiers-{n}-points_multiplier": "1.00",
            f"tiers-{n}-discount_percent": "0",
        }
    )
    body.update(overrides)
    return body


def _thresholds(program: LoyaltyProgram) -> list[tuple[str, Decimal]]:
    return list(
        Tier.objects.filter(program=program).order_by("rank").values_list("name", "threshold")
    )


def _loyalty_audits() -> int:
    return AuditEntry.objects.filter(object_type__startswith="loyalty.").count()


def test_the_program_page_refuses_a_tier_threshold_below_the_one_beneath_it(make_user) -> None:
    # given Basis 0, Silber 500, Gold 1500
    p = program()
    before = _thresholds(p)
    client = Client(HTTP_ACCEPT_LANGUAGE="de")
    client.force_login(make_user("marketing"))
    body = _program_body(p, points_per_euro="4", **{"tiers-2-threshold": "400"})
    # when Gold goes below Silber
    response = client.post(reverse("loyalty:program_edit", args=[p.pk]), body)
    # then the settings page's German message is on Gold's row (and Silber's), nothing saved
    assert response.status_code == 200
    rows = response.context["formsets"][0].forms
    assert rows[2].errors["threshold"] == [
        "Die Schwelle von Gold (400) muss über der von Silber liegen, der Stufe darunter "
        "(500). Erhöhen Sie die Schwelle von Gold oder senken Sie die von Silber."
    ]
    assert "Silber" in rows[1].errors["threshold"][0] and "threshold" not in rows[0].errors
    assert "Die Schwelle von Gold (400) muss über der von Silber liegen" in (
        response.content.decode()
    )
    p.refresh_from_db()
    assert p.points_per_euro == Decimal("1")
    assert _thresholds(p) == before
    assert _loyalty_audits() == 0


def test_a_new_program_with_tiers_out_of_order_is_not_created(make_user) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="de")
    client.force_login(make_user("marketing"))
    body = _program_body(
        program(),
        name="Neuer Club",
        **{
            "tiers-INITIAL_FORMS": "0",
            "tiers-TOTAL_FORMS": "2",
            "tiers-0-id": "",
            "tiers-0-program": "",
            "tiers-1-id": "",
            "tiers-1-program": "",
            "tiers-1-threshold": "0",  # Silber at 0, as Basis
        },
    )
    response = client.post(reverse("loyalty:program_create"), body)
    assert response.status_code == 200
    assert "Die Schwelle von Silber (0) muss über der von Basis liegen" in (
        response.content.decode()
    )
    assert not LoyaltyProgram.objects.filter(name="Neuer Club").exists()
    assert _loyalty_audits() == 0


def test_a_good_tier_save_on_the_program_page_is_audited_per_tier(make_user) -> None:
    marketing = make_user("marketing")
    p = program()
    body = _program_body(
        p,
        **{
            "tiers-1-threshold": "600",
            "tiers-3-rank": "3",
            "tiers-3-name": "Platin",
            "tiers-3-threshold": "5000",
            "tiers-3-points_multiplier": "2",
            "tiers-3-discount_percent": "10",
        },
    )
    response = _client(marketing).post(reverse("loyalty:program_edit", args=[p.pk]), body)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert _thresholds(p) == [
        ("Basis", Decimal("0")),
        ("Silber", Decimal("600")),
        ("Gold", Decimal("1500")),
        ("Platin", Decimal("5000")),
    ]
    tiers = AuditEntry.objects.filter(object_type="loyalty.Tier", actor=marketing)
    silber = Tier.objects.get(program=p, name="Silber")
    update = tiers.get(action="update")
    assert update.object_id == str(silber.pk)
    assert update.changes["threshold"] == ["500.00", "600.00"]
    assert tiers.filter(action="create").count() == 1  # Platin; Basis and Gold unchanged
    assert AuditEntry.objects.filter(object_type="loyalty.LoyaltyProgram").count() == 1
