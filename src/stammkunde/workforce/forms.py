"""Forms of the planning pages: they only parse; the services decide."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from stammkunde.core.widgets import DateInput

from .models import Channel

MAX_UPLOAD_BYTES = 20 * 1024 * 1024


class CsvUploadForm(forms.Form):
    file = forms.FileField(label=_("CSV file"))

    def clean_file(self) -> bytes:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("The file is larger than 20 MB."))
        return upload.read()


class RosterBlockForm(forms.Form):
    queue = forms.CharField(label=_("queue"), max_length=100)
    day = forms.DateField(label=_("date"), widget=DateInput())
    start = forms.TimeField(label=_("from"), widget=forms.TimeInput(attrs={"type": "time"}))
    end = forms.TimeField(label=_("to"), widget=forms.TimeInput(attrs={"type": "time"}))
    agents = forms.IntegerField(label=_("planned agents"), min_value=0, max_value=100_000)


class ScenarioForm(forms.Form):
    queue = forms.ChoiceField(label=_("queue"))
    start = forms.DateField(label=_("from"), widget=DateInput())
    days = forms.IntegerField(label=_("days"), min_value=1, max_value=31, initial=3)
    uplift_percent = forms.DecimalField(
        label=_("extra contacts (%)"),
        min_value=-90,
        max_value=1000,
        initial=40,
        decimal_places=1,
    )

    def __init__(self, *args: object, queues: list[str], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["queue"].choices = [(q, q) for q in queues]  # type: ignore[attr-defined]


class StaffingTargetForm(forms.Form):
    """A queue's planning rule in the units planners say: "80 % within 20 seconds"."""

    queue = forms.CharField(label=_("queue"), max_length=100, widget=forms.HiddenInput)
    channel = forms.ChoiceField(label=_("channel"), choices=Channel.choices)
    target_percent = forms.DecimalField(
        label=_("service level (%)"),
        min_value=Decimal("0.1"),
        max_value=Decimal("99.9"),
        decimal_places=1,
        initial=80,
    )
    target_answer_s = forms.IntegerField(
        label=_("answered within (s)"), min_value=0, max_value=7 * 86400, initial=20
    )
    shrinkage_percent = forms.DecimalField(
        label=_("shrinkage (%)"),
        min_value=0,
        max_value=Decimal("99.9"),
        decimal_places=1,
        initial=30,
    )
    max_occupancy_percent = forms.DecimalField(
        label=_("max. occupancy (%)"),
        min_value=1,
        max_value=100,
        decimal_places=1,
        required=False,
    )
    aht_override_s = forms.IntegerField(
        label=_("AHT override (s)"), min_value=1, max_value=86400, required=False
    )

    def service_data(self) -> dict[str, Any]:
        data = self.cleaned_data
        occupancy = data.get("max_occupancy_percent")
        return {
            "queue": data["queue"],
            "channel": data["channel"],
            "target_sl": data["target_percent"] / 100,
            "target_answer_s": data["target_answer_s"],
            "shrinkage": data["shrinkage_percent"] / 100,
            "max_occupancy": occupancy / 100 if occupancy is not None else None,
            "aht_override_s": data.get("aht_override_s"),
        }
