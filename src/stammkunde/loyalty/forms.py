"""Forms of the loyalty UI: goodwill from the customer page and program configuration."""

from __future__ import annotations

import uuid

from django import forms
from django.forms import inlineformset_factory
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
