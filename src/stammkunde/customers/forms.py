from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Channel, Consent, Customer


def _lines(value: str) -> list[str]:
    return [v.strip() for v in value.replace(",", "\n").splitlines() if v.strip()]


class CustomerForm(forms.Form):
    kind = forms.ChoiceField(label=_("kind"), choices=Customer.Kind.choices)
    salutation = forms.CharField(label=_("salutation"), max_length=20, required=False)
    first_name = forms.CharField(label=_("first name"), max_length=100, required=False)
    last_name = forms.CharField(label=_("last name"), max_length=100, required=False)
    company_name = forms.CharField(label=_("company"), max_length=200, required=False)
    birthday = forms.DateField(
        label=_("birthday"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    emails = forms.CharField(
        label=_("emails (one per line)"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    phones = forms.CharField(
        label=_("phones (one per line)"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    tags = forms.CharField(label=_("tags (comma separated)"), required=False)
    preferred_language = forms.ChoiceField(
        label=_("preferred language"), choices=[("de", "Deutsch"), ("en", "English")]
    )
    preferred_channel = forms.ChoiceField(label=_("preferred channel"), choices=Channel.choices)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def service_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data.pop("version", None)
        data["emails"] = _lines(data["emails"])
        data["phones"] = _lines(data["phones"])
        data["tags"] = _lines(data["tags"])
        return data


class ConsentForm(forms.Form):
    purpose = forms.ChoiceField(label=_("purpose"), choices=Consent.Purpose.choices)
    channel = forms.ChoiceField(label=_("channel"), choices=Channel.choices)
    status = forms.ChoiceField(label=_("status"), choices=Consent.Status.choices)
    source = forms.CharField(label=_("source"), max_length=100, initial=_("phone call"))
    proof = forms.CharField(
        label=_("proof"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
