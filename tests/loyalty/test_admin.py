"""The loyalty admin: loaded, every page answers, the ledger is read-only there."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.apps import apps
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from stammkunde.loyalty import services
from stammkunde.loyalty.models import (
    CategoryMultiplier,
    LoyaltyAccount,
    PointsEntry,
    StampCardDefinition,
    TierPrice,
    Voucher,
)
from tests.commerce import factories as commerce_factories
from tests.customers.factories import CustomerFactory
from tests.loyalty import factories

pytestmark = pytest.mark.django_db

LOYALTY_MODELS = list(apps.get_app_config("loyalty").get_models())
# Written by the services only: the admin shows them and changes nothing.
SERVICE_WRITTEN = {
    "loyaltyaccount",
    "pointsentry",
    "pointslot",
    "voucher",
    "voucherbatch",
    "voucherredemption",
    "checkoutbooking",
    "stampcard",
    "referral",
}


@pytest.fixture
def superuser_client(admin_user: Any) -> Client:
    client = Client()
    client.force_login(admin_user)
    return client


@pytest.fixture
def booked_account() -> LoyaltyAccount:
    """A member with a row in every loyalty table, all written as production writes them."""
    service = commerce_factories.product("SV-INSPEKTION", price="80.00", is_service=True)
    program = factories.program()
    CategoryMultiplier.objects.create(
        program=program, category=service.category, multiplier=Decimal("2")
    )
    StampCardDefinition.objects.create(program=program, name="Inspektion", stamps_required=1)
    TierPrice.objects.create(tier=program.tiers.first(), product=service, price=Decimal("70"))
    referrer = factories.account()
    account = services.account_enroll(
        customer=CustomerFactory(), program=program, referral_code=referrer.referral_code
    )
    commerce_factories.order(account.customer, "A1", sku="SV-INSPEKTION")
    services.voucher_batch_create(actor=None, name="Frühjahr", count=2, kind="amount", value="5")
    services.voucher_issue(actor=None, kind="amount", value="10", customer=account.customer)
    quote = services.checkout_quote(account=account, order_total="100", points=50)
    services.checkout_commit(token=quote.token, idempotency_key="admin-test")
    services.voucher_redeem(
        code=Voucher.objects.filter(batch__isnull=False).first().code,
        order_total="20",
        idempotency_key="admin-voucher",
    )
    account.refresh_from_db()
    return account


def test_every_loyalty_model_is_registered_in_the_admin() -> None:
    missing = [m._meta.model_name for m in LOYALTY_MODELS if not admin.site.is_registered(m)]
    assert missing == []


@pytest.mark.parametrize("model", LOYALTY_MODELS, ids=lambda m: m._meta.model_name)
def test_the_list_of_each_loyalty_model_answers_for_a_superuser(
    superuser_client: Client, booked_account: LoyaltyAccount, model: Any
) -> None:
    url = reverse(f"admin:loyalty_{model._meta.model_name}_changelist")
    assert superuser_client.get(url).status_code == 200


@pytest.mark.parametrize("model", LOYALTY_MODELS, ids=lambda m: m._meta.model_name)
def test_the_page_of_each_loyalty_object_answers_for_a_superuser(
    superuser_client: Client, booked_account: LoyaltyAccount, model: Any
) -> None:
    obj = model.objects.order_by("pk").first()
    assert obj is not None
    url = reverse(f"admin:loyalty_{model._meta.model_name}_change", args=[obj.pk])
    assert superuser_client.get(url).status_code == 200


@pytest.mark.parametrize("name", sorted(SERVICE_WRITTEN))
def test_what_services_write_cannot_be_added_in_the_admin(
    superuser_client: Client, name: str
) -> None:
    answer = superuser_client.get(reverse(f"admin:loyalty_{name}_add"))
    assert answer.status_code == 403


def test_a_balance_cannot_be_changed_through_the_admin(
    superuser_client: Client, booked_account: LoyaltyAccount
) -> None:
    url = reverse("admin:loyalty_loyaltyaccount_change", args=[booked_account.pk])
    balance, entries = booked_account.balance, PointsEntry.objects.count()
    superuser_client.post(url, {"balance": "999999", "card_number": "X"})
    booked_account.refresh_from_db()
    assert booked_account.balance == balance
    assert PointsEntry.objects.count() == entries


def test_accounts_are_found_by_card_number(
    superuser_client: Client, booked_account: LoyaltyAccount
) -> None:
    url = reverse("admin:loyalty_loyaltyaccount_changelist")
    answer = superuser_client.get(url, {"q": booked_account.card_number})
    assert booked_account.card_number in answer.content.decode()


# --------------------------------------------------------------------------- tiers
# Tiers follow the rules of services.rules (threshold order, audit): read-only here.
def _admin_body(page: Any) -> dict[str, str]:
    """The admin change form as the browser would send it back unchanged."""
    body: dict[str, str] = {}

    def put(prefix: str, form: Any) -> None:
        for name in form.fields:
            value = form[name].value()
            if value is None or value is False:
                continue
            body[f"{prefix}{name}"] = "on" if value is True else str(value)

    put("", page.context["adminform"].form)
    for inline in page.context["inline_admin_formsets"]:
        formset = inline.formset
        for name, value in formset.management_form.initial.items():
            body[f"{formset.prefix}-{name}"] = str(value)
        for i, form in enumerate(formset.forms):
            put(f"{formset.prefix}-{i}-", form)
    return body


def _thresholds(program: Any) -> list[tuple[str, Decimal]]:
    return list(program.tiers.order_by("rank").values_list("name", "threshold"))


def test_the_admin_cannot_save_a_bad_tier_order(superuser_client: Client) -> None:
    # given Basis 0, Silber 500, Gold 1500
    program = factories.program()
    before = _thresholds(program)
    url = reverse("admin:loyalty_loyaltyprogram_change", args=[program.pk])
    body = _admin_body(superuser_client.get(url))
    # when the program is saved with Gold below Silber (and one more tier)
    body.update(
        {
            "points_per_euro": "2",
            "tiers-2-threshold": "400",
            "tiers-TOTAL_FORMS": "4",
            "tiers-3-rank": "3",
            "tiers-3-name": "Platin",
            "tiers-3-threshold": "10",
        }
    )
    response = superuser_client.post(url, body)
    # then the program's own fields are saved, the tiers are not touched
    assert response.status_code == 302, response.content.decode()[:3000]
    program.refresh_from_db()
    assert program.points_per_euro == Decimal("2")
    assert _thresholds(program) == before


def test_tiers_are_read_only_in_the_admin(superuser_client: Client) -> None:
    program = factories.program()
    gold = program.tiers.get(name="Gold")
    before = _thresholds(program)
    change = reverse("admin:loyalty_tier_change", args=[gold.pk])
    answer = superuser_client.post(
        change, {"program": program.pk, "name": "Gold", "rank": 2, "threshold": "400"}
    )
    assert answer.status_code == 403
    assert superuser_client.get(reverse("admin:loyalty_tier_add")).status_code == 403
    delete = reverse("admin:loyalty_tier_delete", args=[gold.pk])
    assert superuser_client.post(delete, {"post": "yes"}).status_code == 403
    assert _thresholds(program) == before
