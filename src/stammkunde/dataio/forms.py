from __future__ import annotations

import json
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from .limits import import_size_problem
from .models import ImportJob, Kind
from .services.webhooks import EVENTS


class ImportForm(forms.Form):
    file = forms.FileField(label=_("File (.csv, .xlsx, .jsonl)"))
    kind = forms.ChoiceField(label=_("What the file holds"), choices=Kind.choices)
    source = forms.CharField(
        label=_("Source"),
        required=False,
        max_length=100,
        help_text=_("e.g. Shop, POS, ERP — its column mapping is saved and reused."),
    )
    mapping = forms.CharField(
        label=_("Column mapping (JSON, optional)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": '{"external_id": "Bestellnummer"}'}),
    )
    mode = forms.ChoiceField(label=_("Mode"), choices=ImportJob.Mode.choices)
    dry_run = forms.BooleanField(label=_("Dry run (check only, write nothing)"), required=False)

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        problem = import_size_problem(upload.size or 0)
        if problem:
            raise forms.ValidationError(problem, code="too_big")
        return upload

    def clean_mapping(self) -> dict[str, str]:
        raw = self.cleaned_data.get("mapping", "").strip()
        if not raw:
            return {}
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(_("Not valid JSON: %(error)s") % {"error": exc}) from exc
        if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()
        ):
            raise forms.ValidationError(_('Expected an object {"field": "column"}.'))
        return value


class ExportForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("List"), choices=[("customers", _("Customers")), ("orders", _("Orders"))]
    )
    file_format = forms.ChoiceField(
        label=_("Format"), choices=[("xlsx", "Excel (xlsx)"), ("csv", "CSV")]
    )
    q = forms.CharField(label=_("Search"), required=False)
    kind_filter = forms.ChoiceField(
        label=_("kind"),
        required=False,
        choices=[("", _("all")), ("person", _("person")), ("company", _("company"))],
    )
    value_class = forms.ChoiceField(
        label=_("value class"),
        required=False,
        choices=[("", _("all")), ("A", "A"), ("B", "B"), ("C", "C")],
    )
    tag = forms.CharField(label=_("tag"), required=False)
    prospect = forms.ChoiceField(
        label=_("status"),
        required=False,
        choices=[("", _("all")), ("no", _("customers")), ("yes", _("prospects"))],
    )
    date_from = forms.DateField(label=_("ordered from"), required=False)
    date_to = forms.DateField(label=_("ordered until"), required=False)
    channel = forms.CharField(label=_("channel"), required=False)
    status = forms.CharField(label=_("order status"), required=False)

    def filters(self) -> dict[str, Any]:
        data = self.cleaned_data
        out = {
            "q": data.get("q"),
            "kind": data.get("kind_filter"),
            "value_class": data.get("value_class"),
            "tag": data.get("tag"),
            "prospect": data.get("prospect"),
            "date_from": data["date_from"].isoformat() if data.get("date_from") else "",
            "date_to": data["date_to"].isoformat() if data.get("date_to") else "",
            "channel": data.get("channel"),
            "status": data.get("status"),
        }
        return {k: v for k, v in out.items() if v}


class WebhookSubscriptionForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    url = forms.URLField(label=_("URL"), max_length=500, assume_scheme="https")
    events = forms.MultipleChoiceField(
        label=_("Events"),
        choices=[("*", _("all events"))] + [(e, e) for e in EVENTS],
        widget=forms.CheckboxSelectMultiple,
    )
    allow_private_network = forms.BooleanField(
        label=_("Allow a private network address (admins only)"), required=False
    )
