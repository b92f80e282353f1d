"""Forms of the campaign pages: they parse; the services decide."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from stammkunde.core.widgets import DateTimeLocalInput

from .models import Campaign, Segment

CAMPAIGN_FORM_FIELDS = [
    "name", "description", "segment", "offer_kind", "offer_value", "offer_points", "offer_text",
    "channel", "trigger", "trigger_phase", "trigger_days", "scheduled_for", "is_advertising",
    "budget", "cost_per_contact", "offer_cost", "control_share", "horizon_days",
    "expected_uplift", "priority", "subject", "body",
]  # fmt: skip


class CampaignForm(forms.ModelForm):
    class Meta:
        model = Campaign
        fields = CAMPAIGN_FORM_FIELDS
        widgets = {
            "scheduled_for": DateTimeLocalInput(),
            "description": forms.Textarea(attrs={"rows": 2}),
            "body": forms.Textarea(attrs={"rows": 8}),
        }

    def __init__(self, *args: Any, segments: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if segments is not None:
            self.fields["segment"].queryset = segments  # type: ignore[attr-defined]

    def _post_clean(self) -> None:
        # Model validation happens in the service (one place for the rules).
        pass


class SegmentForm(forms.Form):
    name = forms.CharField(label=_("name"), max_length=200)
    description = forms.CharField(
        label=_("description"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    mode = forms.ChoiceField(label=_("mode"), choices=Segment.Mode.choices)
    rules = forms.CharField(
        label=_("rules (JSON)"),
        widget=forms.Textarea(attrs={"rows": 12, "class": "mono"}),
        initial='{"all": []}',
    )

    def clean_rules(self) -> dict[str, Any]:
        try:
            value = json.loads(self.cleaned_data["rules"] or "{}")
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(_("Not valid JSON: %(e)s") % {"e": exc}) from exc
        if not isinstance(value, dict):
            raise forms.ValidationError(_("The rules must be a JSON object."))
        return value


class SignupForm(forms.Form):
    email = forms.EmailField(label=_("email"))
    first_name = forms.CharField(label=_("first name"), max_length=100, required=False)
    last_name = forms.CharField(label=_("last name"), max_length=100, required=False)
    agree = forms.BooleanField(
        label=_(
            "Yes, I would like to receive offers and news by email. I can withdraw this "
            "consent at any time via the link in every email."
        )
    )
