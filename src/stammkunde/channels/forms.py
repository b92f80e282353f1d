from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from stammkunde.customers.models import Channel

from .models import ContactLog


class ContactForm(forms.Form):
    """The public web form; ``website`` is a honeypot that people never see."""

    TYPES = [
        ("complaint", _("Complaint")),
        ("return", _("Return")),
        ("inquiry", _("Question about a product")),
    ]

    type = forms.ChoiceField(label=_("Your concern"), choices=TYPES)
    name = forms.CharField(label=_("Name"), max_length=200)
    email = forms.EmailField(label=_("Email"))
    order_number = forms.CharField(
        label=_("Order number (optional)"), max_length=40, required=False
    )
    subject = forms.CharField(label=_("Subject"), max_length=200, required=False)
    message = forms.CharField(label=_("Message"), widget=forms.Textarea, max_length=20_000)
    website = forms.CharField(
        label=_("Leave this field empty"),
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    def is_spam(self) -> bool:
        return bool(self.cleaned_data.get("website"))


OFFLINE_CHANNELS = [
    (Channel.PHONE, Channel.PHONE.label),
    (Channel.LETTER, Channel.LETTER.label),
    (Channel.SOCIAL, Channel.SOCIAL.label),
    (Channel.IN_PERSON, Channel.IN_PERSON.label),
]


class ContactLogForm(forms.Form):
    channel = forms.ChoiceField(label=_("channel"), choices=OFFLINE_CHANNELS)
    direction = forms.ChoiceField(label=_("direction"), choices=ContactLog.Direction.choices)
    duration_minutes = forms.IntegerField(
        label=_("duration (min)"), min_value=0, max_value=600, required=False
    )
    outcome = forms.ChoiceField(label=_("outcome"), choices=ContactLog.Outcome.choices)
    ticket = forms.ChoiceField(label=_("ticket"), required=False)
    open_ticket = forms.BooleanField(label=_("open a ticket (inbound)"), required=False)
    subject = forms.CharField(label=_("subject"), max_length=200, required=False)
    note = forms.CharField(
        label=_("note"), widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=5000
    )

    def __init__(self, *args: Any, customer: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from stammkunde.service.models import Ticket

        tickets = Ticket.objects.filter(customer=customer).open().order_by("-id")[:20]
        field = self.fields["ticket"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", "–")] + [(str(t.pk), f"{t.number} {t.subject[:40]}") for t in tickets]
