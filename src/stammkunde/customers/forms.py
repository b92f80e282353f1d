from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from stammkunde.core.widgets import DateInput

from .models import Address, Channel, Consent, Customer


def _lines(value: str) -> list[str]:
    return [v.strip() for v in value.replace(",", "\n").splitlines() if v.strip()]


# The countries a small German shop ships to most; the code is what the address stores.
COUNTRIES = [
    ("DE", _("Germany")),
    ("AT", _("Austria")),
    ("CH", _("Switzerland")),
    ("NL", _("Netherlands")),
    ("BE", _("Belgium")),
    ("LU", _("Luxembourg")),
    ("FR", _("France")),
    ("DK", _("Denmark")),
    ("PL", _("Poland")),
    ("CZ", _("Czechia")),
    ("IT", _("Italy")),
    ("ES", _("Spain")),
]
ADDRESS_FORM_FIELDS = ("street", "postal_code", "city", "country")
# Postcode shapes where they are fixed: Germany 5 digits, Austria, Switzerland and others 4.
POSTCODE_PATTERNS = {
    "DE": (re.compile(r"\d{5}"), _("A German postal code has 5 digits.")),
    "AT": (re.compile(r"\d{4}"), _("An Austrian postal code has 4 digits.")),
    "CH": (re.compile(r"\d{4}"), _("A Swiss postal code has 4 digits.")),
    "BE": (re.compile(r"\d{4}"), _("A Belgian postal code has 4 digits.")),
    "DK": (re.compile(r"\d{4}"), _("A Danish postal code has 4 digits.")),
    "LU": (re.compile(r"(L-)?\d{4}"), _("A postal code in Luxembourg has 4 digits.")),
    "NL": (re.compile(r"\d{4} ?[A-Z]{2}"), _("A Dutch postal code looks like 1234 AB.")),
    "FR": (re.compile(r"\d{5}"), _("A French postal code has 5 digits.")),
    "PL": (re.compile(r"\d{2}-\d{3}"), _("A Polish postal code looks like 12-345.")),
}


def clean_address(form: forms.Form, data: dict[str, Any]) -> None:
    """Street, postal code and city go together; the postal code fits the country."""
    data["country"] = data.get("country") or "DE"
    given = [f for f in ("street", "postal_code", "city") if data.get(f, "").strip()]
    if not given:
        return
    for field in ("street", "postal_code", "city"):
        if field not in given and field not in form.errors:
            form.add_error(field, _("Needed for the address."))
    code = data.get("postal_code", "").strip().upper()
    rule = POSTCODE_PATTERNS.get(data.get("country", ""))
    if code and rule is not None and not rule[0].fullmatch(code):
        form.add_error("postal_code", rule[1])
    data["postal_code"] = code
    for field in ("street", "city"):
        data[field] = data.get(field, "").strip()


class CustomerForm(forms.Form):
    kind = forms.ChoiceField(label=_("kind"), choices=Customer.Kind.choices)
    salutation = forms.CharField(label=_("salutation"), max_length=20, required=False)
    first_name = forms.CharField(label=_("first name"), max_length=100, required=False)
    last_name = forms.CharField(label=_("last name"), max_length=100, required=False)
    company_name = forms.CharField(label=_("company"), max_length=200, required=False)
    birthday = forms.DateField(label=_("birthday"), required=False, widget=DateInput())
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
    street = forms.CharField(label=_("street and house number"), max_length=200, required=False)
    postal_code = forms.CharField(label=_("postal code"), max_length=12, required=False)
    city = forms.CharField(label=_("city"), max_length=100, required=False)
    country = forms.ChoiceField(label=_("country"), choices=COUNTRIES, initial="DE", required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # An address from an import may be in a country the list does not name: keep it.
        current = str(self.initial.get("country") or "")
        field = self.fields["country"]
        if current and current not in dict(COUNTRIES):
            field.choices = [*COUNTRIES, (current, current)]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        clean_address(self, data)
        return data

    def address_data(self) -> dict[str, str] | None:
        """The billing address as the customers service takes it, or None if left empty."""
        data = self.cleaned_data
        if not any(data.get(f) for f in ("street", "postal_code", "city")):
            return None
        return {f: data[f] for f in ("street", "postal_code", "city", "country")}

    def service_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data.pop("version", None)
        for field in ADDRESS_FORM_FIELDS:
            data.pop(field, None)
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


class AddressForm(forms.Form):
    kind = forms.ChoiceField(label=_("kind"), choices=Address.Kind.choices)
    street = forms.CharField(label=_("street"), max_length=200)
    postal_code = forms.CharField(label=_("postal code"), max_length=12)
    city = forms.CharField(label=_("city"), max_length=100)
    country = forms.CharField(label=_("country"), max_length=2, initial="DE")


class ContactPersonForm(forms.Form):
    name = forms.CharField(label=_("name"), max_length=200)
    role = forms.CharField(label=_("role"), max_length=100, required=False)
    email = forms.EmailField(label=_("email"), required=False)
    phone = forms.CharField(label=_("phone"), max_length=30, required=False)
