from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from stammkunde.core.widgets import DateInput

from .models import PrivacyRequest, RetentionPeriod


class RequestForm(forms.Form):
    customer = forms.CharField(
        label=_("customer (number or id)"),
        max_length=20,
        error_messages={"required": _("Give the customer number.")},
    )
    kind = forms.ChoiceField(label=_("kind"), choices=PrivacyRequest.Kind.choices)
    channel = forms.ChoiceField(label=_("received by"), choices=PrivacyRequest.Channel.choices)
    received_on = forms.DateField(label=_("received on"), widget=DateInput())
    identity_method = forms.CharField(
        label=_("how the identity was checked"),
        max_length=200,
        required=False,
        help_text=_("Leave empty if not checked yet; nothing is exported or erased before."),
    )
    note = forms.CharField(
        label=_("note"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class IdentityForm(forms.Form):
    identity_method = forms.CharField(label=_("how the identity was checked"), max_length=200)


class ExtendForm(forms.Form):
    until = forms.DateField(label=_("extended until"), widget=DateInput())
    reason = forms.CharField(label=_("reason for the extension"), max_length=300)


class RetentionForm(forms.Form):
    def __init__(self, *args: object, initial_days: dict[str, int], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        for kind, label in RetentionPeriod.Kind.choices:
            self.fields[kind] = forms.IntegerField(
                label=label, min_value=1, max_value=36500, initial=initial_days[kind]
            )
