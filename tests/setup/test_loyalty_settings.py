"""The settings section "Loyalty program": refusals in the service, the page per role.

Nothing is half-saved: a programme with one contradicting tier keeps every old
value, and every change that is saved leaves an audit entry.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from stammkunde.core.errors import ApplicationError
from stammkunde.core.models import AuditEntry
from stammkunde.loyalty import services
from stammkunde.loyalty.models import LoyaltyProgram, Tier
from tests.loyalty.factories import account, program

pytestmark = pytest.mark.django_db
ROLES = ("admin", "team_lead", "agent", "marketing", "analyst", "partner_agent")


def _client(user: Any) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="de")
    client.force_login(user)
    return client


def _user(make_user: Any, role: str) -> Any:
    from stammkunde.core.models import ServicePartner

    partner = ServicePartner.objects.create(name="P") if role == "partner_agent" else None
    return make_user(role, partner=partner)


def _tiers(p: LoyaltyProgram) -> list[tuple[str, int, Decimal]]:
    return list(
        Tier.objects.filter(program=p).order_by("rank").values_list("name", "rank", "threshold")
    )


def _audits(obj_type: str) -> int:
    return AuditEntry.objects.filter(object_type=obj_type).count()


def _rules(p: LoyaltyProgram, **changes: Any) -> dict[str, Any]:
    return {**{f: getattr(p, f) for f in services.PROGRAM_RULE_FIELDS}, **changes}


# --------------------------------------------------------------------------- services
@pytest.mark.parametrize("bad", ["-1", "-0.5", "abc", None])
def test_points_per_euro_must_be_a_number_not_below_zero(admin, bad) -> None:
    p = program()
    with pytest.raises(ApplicationError) as err:
        services.program_update(actor=admin, program=p, points_per_euro=bad)
    assert "points_per_euro" in err.value.field_errors
    p.refresh_from_db()
    assert p.points_per_euro == Decimal("1") and _audits("loyalty.LoyaltyProgram") == 0


@pytest.mark.parametrize("bad", [-1, "1.5", "x", services.EXPIRY_YEARS_MAX + 1])
def test_the_expiry_is_whole_years_not_below_zero(admin, bad) -> None:
    p = program()
    with pytest.raises(ApplicationError) as err:
        services.program_update(actor=admin, program=p, expiry_years=bad)
    assert "expiry_years" in err.value.field_errors
    p.refresh_from_db()
    assert p.expiry_years == 3


def test_zero_years_means_points_never_expire_and_the_change_is_audited(admin) -> None:
    p = program()
    services.program_update(actor=admin, program=p, expiry_years=0, points_per_euro="2.5")
    p.refresh_from_db()
    assert p.expiry_years == 0 and p.points_per_euro == Decimal("2.5")
    entry = AuditEntry.objects.get(object_type="loyalty.LoyaltyProgram", object_id=str(p.pk))
    assert entry.actor == admin and entry.action == "update"
    assert entry.changes["expiry_years"] == [3, 0]
    assert entry.changes["points_per_euro"] == ["1.000", "2.500"]


def test_a_point_worth_nothing_is_refused(admin) -> None:
    p = program()
    with pytest.raises(ApplicationError) as err:
        services.program_update(actor=admin, program=p, point_value="0")
    assert "point_value" in err.value.field_errors


def test_a_tier_threshold_at_the_one_beneath_it_is_refused_naming_both(admin) -> None:
    p = program()  # Basis 0, Silber 500, Gold 1500
    gold = Tier.objects.get(program=p, name="Gold")
    with pytest.raises(ApplicationError) as err:
        services.tier_save(actor=admin, program=p, tier=gold, threshold="500")
    message = " ".join(err.value.field_errors["threshold"])
    assert "Gold" in message and "Silber" in message
    gold.refresh_from_db()
    assert gold.threshold == Decimal("1500") and _audits("loyalty.Tier") == 0


def test_a_tier_threshold_above_the_one_above_it_is_refused(admin) -> None:
    p = program()
    silber = Tier.objects.get(program=p, name="Silber")
    with pytest.raises(ApplicationError) as err:
        services.tier_save(actor=admin, program=p, tier=silber, threshold="2000")
    message = " ".join(err.value.field_errors["threshold"])
    assert "Silber" in message and "Gold" in message
    assert _tiers(p)[1] == ("Silber", 1, Decimal("500"))


def test_a_new_tier_below_its_neighbour_is_refused_and_a_fitting_one_is_audited(admin) -> None:
    p = program()
    with pytest.raises(ApplicationError) as err:
        services.tier_save(actor=admin, program=p, name="Platin", rank=3, threshold="1000")
    assert "threshold" in err.value.field_errors
    platin = services.tier_save(
        actor=admin, program=p, name="Platin", rank=3, threshold="5000", discount_percent="10"
    )
    assert platin.pk and platin.threshold == Decimal("5000")
    entry = AuditEntry.objects.get(object_type="loyalty.Tier", object_id=str(platin.pk))
    assert entry.action == "create" and entry.changes["name"] == [None, "Platin"]


@pytest.mark.parametrize(
    ("field", "value"),
    [("rank", 1), ("discount_percent", "101"), ("points_multiplier", "-1"), ("name", "")],
)
def test_tier_values_out_of_range_are_refused(admin, field, value) -> None:
    p = program()
    with pytest.raises(ApplicationError) as err:
        services.tier_save(
            actor=admin,
            program=p,
            **{"name": "Platin", "rank": 3, "threshold": "5000", field: value},
        )
    assert field in err.value.field_errors
    assert Tier.objects.filter(program=p).count() == 3


def test_one_wrong_tier_in_the_list_saves_nothing(admin) -> None:
    p = program()
    basis, silber, gold = Tier.objects.filter(program=p).order_by("rank")
    with pytest.raises(ApplicationError) as err:
        services.program_rules_save(
            actor=admin,
            program=p,
            data=_rules(p, points_per_euro="3"),
            tiers=[
                {"id": silber.pk, "name": "Silber plus", "rank": 1, "threshold": "600"},
                {"id": gold.pk, "name": "Gold plus", "rank": 2, "threshold": "1500"},
                {"id": basis.pk, "name": "Basis", "rank": 0, "threshold": "700"},  # above Silber
            ],
        )
    assert set(err.value.field_errors) == {"tiers.0.threshold", "tiers.2.threshold"}
    p.refresh_from_db()
    assert p.points_per_euro == Decimal("1")
    assert _tiers(p) == [
        ("Basis", 0, Decimal("0")),
        ("Silber", 1, Decimal("500")),
        ("Gold", 2, Decimal("1500")),
    ]
    assert AuditEntry.objects.filter(object_type__startswith="loyalty.").count() == 0


def test_tiers_may_swap_ranks_in_one_save(admin) -> None:
    p = program()
    basis, silber, gold = Tier.objects.filter(program=p).order_by("rank")
    services.program_rules_save(
        actor=admin,
        program=p,
        data=_rules(p),
        tiers=[
            {"id": silber.pk, "name": "Gold", "rank": 1, "threshold": "500"},
            {"id": gold.pk, "name": "Silber", "rank": 2, "threshold": "1500"},
        ],
    )
    assert [t[0] for t in _tiers(p)] == ["Basis", "Gold", "Silber"]
    services.program_rules_save(
        actor=admin,
        program=p,
        data=_rules(p),
        tiers=[
            {"id": silber.pk, "rank": 2, "threshold": "1500"},
            {"id": gold.pk, "rank": 1, "threshold": "500"},
        ],
    )
    assert _tiers(p) == [
        ("Basis", 0, Decimal("0")),
        ("Silber", 1, Decimal("500")),
        ("Gold", 2, Decimal("1500")),
    ]


def test_duplicate_ranks_and_names_are_refused(admin) -> None:
    p = program()
    with pytest.raises(ApplicationError) as err:
        services.program_rules_save(
            actor=admin,
            program=p,
            data=_rules(p),
            tiers=[{"name": "Gold", "rank": 1, "threshold": "700"}],
        )
    assert "tiers.0.rank" in err.value.field_errors and "tiers.0.name" in err.value.field_errors


def test_a_tier_of_another_program_cannot_be_changed_through_this_one(admin) -> None:
    p = program()
    other = program(name="Anderer Club")
    foreign = Tier.objects.filter(program=other).first()
    assert foreign is not None
    with pytest.raises(ApplicationError):
        services.program_rules_save(
            actor=admin,
            program=p,
            data=_rules(p),
            tiers=[{"id": foreign.pk, "name": "X", "rank": 5, "threshold": "9000"}],
        )
    foreign.refresh_from_db()
    assert foreign.name != "X"


def test_a_tier_with_members_is_not_deleted_an_empty_one_is_and_audited(admin) -> None:
    acc = account()  # the member sits in Basis
    basis = acc.tier
    assert basis is not None
    with pytest.raises(ApplicationError) as err:
        services.tier_delete(actor=admin, tier=basis)
    assert "Basis" in " ".join(err.value.field_errors["name"])
    gold = Tier.objects.get(program=acc.program, name="Gold")
    services.tier_delete(actor=admin, tier=gold)
    assert not Tier.objects.filter(pk=gold.pk).exists()
    entry = AuditEntry.objects.get(object_type="loyalty.Tier", object_id=str(gold.pk))
    assert entry.action == "delete" and entry.changes["name"] == "Gold"


# --------------------------------------------------------------------------- pages
@pytest.mark.parametrize("role", ROLES)
def test_only_admins_open_the_loyalty_settings(make_user, role) -> None:
    p = program()
    client = _client(_user(make_user, role))
    expected = 200 if role == "admin" else 403
    for url in (
        reverse("loyalty:settings"),
        reverse("loyalty:settings_create"),
        reverse("loyalty:settings_program", args=[p.pk]),
    ):
        assert client.get(url).status_code == expected, (role, url)


def test_the_settings_index_shows_each_section_to_whom_it_belongs(make_user) -> None:
    admin_page = _client(make_user("admin")).get(reverse("settings:index")).content.decode()
    lead_page = _client(make_user("team_lead")).get(reverse("settings:index")).content.decode()
    for url in (reverse("loyalty:settings"), reverse("feedback:rules")):
        assert url in admin_page
    assert reverse("privacy:retention") in admin_page
    assert reverse("loyalty:settings") not in lead_page
    assert reverse("feedback:rules") in lead_page and reverse("privacy:retention") in lead_page


def _body(p: LoyaltyProgram, tiers: list[Tier], **overrides: str) -> dict[str, str]:
    body = {
        "name": p.name,
        "active": "on",
        "points_per_euro": "1",
        "point_value": "0,01",
        "expiry_years": "3",
        "tier_basis": p.tier_basis,
        "tiers-TOTAL_FORMS": str(len(tiers)),
        "tiers-INITIAL_FORMS": str(len(tiers)),
    }
    for i, t in enumerate(tiers):
        body.update(
            {
                f"tiers-{i}-id": str(t.pk),
                f"tiers-{i}-rank": str(t.rank),
                f"tiers-{i}-name": t.name,
                f"tiers-{i}-threshold": str(t.threshold).replace(".", ","),
                f"tiers-{i}-points_multiplier": str(t.points_multiplier).replace(".", ","),
                f"tiers-{i}-discount_percent": str(t.discount_percent).replace(".", ","),
            }
        )
    body.update(overrides)
    return body


def test_the_admin_saves_program_and_tiers_and_each_change_is_audited(admin) -> None:
    p = program()
    tiers = list(Tier.objects.filter(program=p).order_by("rank"))
    body = _body(
        p,
        tiers,
        points_per_euro="1,5",
        **{
            "tiers-1-threshold": "600",
            "tiers-1-free_addons": "Kostenloser Reifencheck",
            "tiers-TOTAL_FORMS": "4",
            "tiers-3-rank": "3",
            "tiers-3-name": "Platin",
            "tiers-3-threshold": "5000",
            "tiers-3-points_multiplier": "2",
            "tiers-3-discount_percent": "10",
        },
    )
    response = _client(admin).post(reverse("loyalty:settings_program", args=[p.pk]), body)
    assert response.status_code == 302, response.content.decode()[:3000]
    p.refresh_from_db()
    assert p.points_per_euro == Decimal("1.5")
    assert [t[0] for t in _tiers(p)] == ["Basis", "Silber", "Gold", "Platin"]
    silber = Tier.objects.get(program=p, name="Silber")
    assert silber.threshold == Decimal("600") and silber.free_addons == "Kostenloser Reifencheck"
    assert _audits("loyalty.LoyaltyProgram") == 1
    assert AuditEntry.objects.filter(object_type="loyalty.Tier", action="update").count() == 1
    assert AuditEntry.objects.filter(object_type="loyalty.Tier", action="create").count() == 1
    assert AuditEntry.objects.filter(actor=admin).count() == 3


def test_a_bad_tier_row_saves_nothing_and_shows_the_error_on_that_row(admin) -> None:
    p = program()
    tiers = list(Tier.objects.filter(program=p).order_by("rank"))
    body = _body(p, tiers, points_per_euro="4", **{"tiers-2-threshold": "400"})
    response = _client(admin).post(reverse("loyalty:settings_program", args=[p.pk]), body)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Gold" in html and "errorlist" in html
    p.refresh_from_db()
    assert p.points_per_euro == Decimal("1")
    assert [t[2] for t in _tiers(p)] == [Decimal("0"), Decimal("500"), Decimal("1500")]
    assert AuditEntry.objects.filter(object_type__startswith="loyalty.").count() == 0


def test_a_negative_point_rate_is_refused_on_its_field_with_nothing_saved(admin) -> None:
    p = program()
    tiers = list(Tier.objects.filter(program=p).order_by("rank"))
    body = _body(p, tiers, points_per_euro="-2", **{"tiers-0-name": "Start"})
    response = _client(admin).post(reverse("loyalty:settings_program", args=[p.pk]), body)
    assert response.status_code == 200
    assert response.context["form"].errors["points_per_euro"]
    assert Tier.objects.filter(program=p, name="Start").count() == 0


def test_unparsable_input_gets_djangos_german_message(admin) -> None:
    p = program()
    tiers = list(Tier.objects.filter(program=p).order_by("rank"))
    body = _body(p, tiers, expiry_years="drei")
    response = _client(admin).post(reverse("loyalty:settings_program", args=[p.pk]), body)
    assert response.status_code == 200 and "ganze Zahl eingeben" in response.content.decode()


def test_the_admin_creates_a_program_on_the_settings_page(admin) -> None:
    body = {
        "name": "Werkstattclub",
        "active": "on",
        "points_per_euro": "1",
        "point_value": "0,01",
        "expiry_years": "2",
        "tier_basis": "spend",
        "tiers-TOTAL_FORMS": "1",
        "tiers-INITIAL_FORMS": "0",
        "tiers-0-rank": "0",
        "tiers-0-name": "Start",
        "tiers-0-threshold": "0",
        "tiers-0-points_multiplier": "1",
        "tiers-0-discount_percent": "0",
    }
    response = _client(admin).post(reverse("loyalty:settings_create"), body)
    assert response.status_code == 302, response.content.decode()[:3000]
    created = LoyaltyProgram.objects.get(name="Werkstattclub")
    assert _tiers(created) == [("Start", 0, Decimal("0"))]
    assert (
        AuditEntry.objects.filter(object_type="loyalty.LoyaltyProgram", action="create").count()
        == 1
    )
