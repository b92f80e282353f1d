"""Forms of the loyalty UI: goodwill, program configuration and the settings page's rules."""

from __future__ import annotations

import uuid
from decimal import Decimal

from django import forms
from django.forms import formset_factory, inlineformset_factory
from django.utils.translation import gettext_lazy as _

from .models import CategoryMultiplier, LoyaltyProgram, StampCardDefinition, Tier


class GoodwillForm(forms.Form):
    """Goodwill points or a voucher for a customer, within the agent's limit."""

    KIND_CHOICES = [("points", _("points")), ("voucher", _("voucher (EUR)"))]

    kind = forms.ChoiceField(label=_("as"), choices=KIND_CHOICES, initial="points")
    points = forms.IntegerField(label=_("points"), min_value=1, required=False)
    amount = forms.DecimalField(
        label=_("voucher amount (EUR)"),
        min_value=0.01,
        max_digits=8,
        decimal_places=2,
        required=False,
    )
    reason = forms.CharField(label=_("reason"), max_length=300)
    ticket_id = forms.IntegerField(label=_("ticket number"), min_value=1, required=False)
    # A new key per rendered form: a double click or a resend books once.
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=120)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        if not self.is_bound:
            self.initial["idempotency_key"] = f"goodwill:{uuid.uuid4()}"

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        if data.get("kind") == "points" and not data.get("points"):
            self.add_error("points", _("How many points?"))
        if data.get("kind") == "voucher" and not data.get("amount"):
            self.add_error("amount", _("Which amount?"))
        return data


class ProgramForm(forms.ModelForm):
    class Meta:
        model = LoyaltyProgram
        fields = [
            "name",
            "active",
            "points_per_euro",
            "point_value",
            "min_redeem_points",
            "expiry_years",
            "tier_basis",
            "first_purchase_bonus",
            "birthday_bonus",
            "survey_bonus",
            "referral_bonus_referrer",
            "referral_bonus_referee",
        ]


TierFormSet = inlineformset_factory(
    LoyaltyProgram,
    Tier,
    fields=[
        "rank",
        "name",
        "threshold",
        "points_multiplier",
        "discount_percent",
        "sla_class",
        "free_addons",
    ],
    extra=1,
    can_delete=True,
)
MultiplierFormSet = inlineformset_factory(
    LoyaltyProgram, CategoryMultiplier, fields=["category", "multiplier"], extra=1, can_delete=True
)
StampCardFormSet = inlineformset_factory(
    LoyaltyProgram,
    StampCardDefinition,
    fields=[
        "name",
        "stamps_required",
        "reward_points",
        "reward_growth_points",
        "reward_cap_points",
    ],
    extra=1,
    can_delete=True,
)


# --------------------------------------------------------------------------- settings page
# Plain forms: they only parse; every rule (signs, expiry, tier order) is checked by
# ``services.program_rules_save``, whose messages say what to change.


class ProgramRulesForm(forms.Form):
    """The programme rules of the settings page (``/loyalty/settings/``)."""

    name = forms.CharField(label=_("name"), max_length=100)
    active = forms.BooleanField(label=_("active"), required=False)
    points_per_euro = forms.DecimalField(label=_("points per euro"), localize=True)
    point_value = forms.DecimalField(
        label=_("value of one point (EUR)"),
        localize=True,
        help_text=_("Used for redemption, goodwill limits and the points liability."),
    )
    expiry_years = forms.IntegerField(
        label=_("points expire at the end of year N after earning"),
        help_text=_("0: points never expire."),
    )
    tier_basis = forms.ChoiceField(label=_("tier basis"), choices=LoyaltyProgram.TierBasis.choices)


class TierRuleForm(forms.Form):
    """One tier: its place (rank), threshold and benefits."""

    id = forms.IntegerField(widget=forms.HiddenInput, required=False)
    rank = forms.IntegerField(label=_("rank"), help_text=_("0 = entry level"))
    name = forms.CharField(label=_("name"), max_length=60)
    threshold = forms.DecimalField(label=_("threshold"), localize=True)
    points_multiplier = forms.DecimalField(
        label=_("points multiplier"), localize=True, initial=Decimal("1.00")
    )
    discount_percent = forms.DecimalField(
        label=_("discount %"), localize=True, initial=Decimal("0")
    )
    sla_class = forms.CharField(label=_("service level class"), max_length=20, required=False)
    free_addons = forms.CharField(label=_("free add-on services"), max_length=300, required=False)


TierRuleFormSet = formset_factory(TierRuleForm, extra=1, can_delete=True)
