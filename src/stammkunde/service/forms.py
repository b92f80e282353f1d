"""Forms of the agent UI; they parse, the services decide."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from stammkunde.customers.picker import CustomerPickerField
from stammkunde.customers.selectors import Channel

from .models import Category, GoodwillGrant, Message, Priority, Queue, RootCause, Status, Ticket


class ReplyForm(forms.Form):
    body = forms.CharField(
        label=_("Reply"),
        widget=forms.Textarea(
            attrs={"rows": 8, "id": "reply-body", "accesskey": "r", "aria-label": _("Reply")}
        ),
    )
    kind = forms.ChoiceField(
        label=_("kind"), choices=Message.Kind.choices, initial=Message.Kind.PUBLIC
    )
    then_status = forms.ChoiceField(
        label=_("then set status"),
        required=False,
        choices=[
            ("", _("(keep)")),
            (Status.WAITING_CUSTOMER, Status.WAITING_CUSTOMER.label),
            (Status.WAITING_THIRD_PARTY, Status.WAITING_THIRD_PARTY.label),
            (Status.SOLVED, Status.SOLVED.label),
        ],
    )
    article_ids = forms.CharField(
        required=False, widget=forms.HiddenInput(attrs={"id": "article-ids"})
    )
    file = forms.FileField(label=_("attachment"), required=False)

    def clean_article_ids(self) -> list[int]:
        raw = self.cleaned_data.get("article_ids") or ""
        return [int(p) for p in raw.split(",") if p.strip().isdigit()]


class ChangeForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    customer = CustomerPickerField(
        label=_("customer"), required=False, help_text=_("Link an unknown sender.")
    )
    status = forms.ChoiceField(label=_("status"), choices=Status.choices)
    assignee = forms.ModelChoiceField(
        label=_("assignee"), required=False, queryset=get_user_model().objects.none()
    )
    queue = forms.ModelChoiceField(label=_("queue"), queryset=Queue.objects.none())
    priority = forms.ChoiceField(label=_("priority"), choices=Priority.choices)
    type = forms.ChoiceField(label=_("type"), choices=Ticket.Type.choices)
    category = forms.ModelChoiceField(
        label=_("category"), required=False, queryset=Category.objects.filter(active=True)
    )
    tags = forms.CharField(label=_("tags"), required=False, help_text=_("comma-separated"))
    root_cause = forms.ModelChoiceField(
        label=_("root cause"), required=False, queryset=RootCause.objects.filter(active=True)
    )
    resolution = forms.CharField(
        label=_("resolution"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["queue"].queryset = Queue.objects.visible_to(user)  # type: ignore[attr-defined]
        self.fields["customer"].user = user  # type: ignore[attr-defined]
        # The ticket page shows its customer; the picker only links another one (empty: keep).
        self.initial.pop("customer", None)
        users = (
            get_user_model()
            .objects.filter(
                is_active=True, groups__name__in=["agent", "team_lead", "partner_agent"]
            )
            .distinct()
        )
        partner = getattr(getattr(user, "profile", None), "partner_id", None)
        if partner is not None:
            users = users.filter(profile__partner_id=partner)
        self.fields["assignee"].queryset = users.order_by("username")  # type: ignore[attr-defined]


class GoodwillForm(forms.Form):
    kind = forms.ChoiceField(label=_("kind"), choices=GoodwillGrant.Kind.choices)
    amount = forms.DecimalField(
        label=_("value (EUR)"), max_digits=10, decimal_places=2, min_value=0.01
    )
    reason = forms.CharField(label=_("reason"), max_length=300)
    # A new key per rendered form: a double click or a resend grants once.
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=120, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial["idempotency_key"] = f"goodwill:{uuid.uuid4()}"


class TicketCreateForm(forms.Form):
    subject = forms.CharField(label=_("subject"), max_length=200)
    body = forms.CharField(
        label=_("message of the customer"), widget=forms.Textarea(attrs={"rows": 6})
    )
    customer = CustomerPickerField(
        label=_("customer"),
        required=False,
        help_text=_("Search by name, customer number, e-mail, phone or postcode."),
    )
    sender_email = forms.EmailField(label=_("sender email"), required=False)
    type = forms.ChoiceField(
        label=_("type"), choices=Ticket.Type.choices, initial=Ticket.Type.INQUIRY
    )
    channel = forms.ChoiceField(label=_("channel"), choices=Channel.choices, initial=Channel.PHONE)
    priority = forms.ChoiceField(
        label=_("priority"), choices=Priority.choices, initial=Priority.NORMAL
    )
    queue = forms.ModelChoiceField(label=_("queue"), queryset=Queue.objects.none())
    category = forms.ModelChoiceField(
        label=_("category"), required=False, queryset=Category.objects.filter(active=True)
    )
    order_number = forms.CharField(label=_("order number"), required=False, max_length=40)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["queue"].queryset = Queue.objects.visible_to(user)  # type: ignore[attr-defined]
        self.fields["customer"].user = user  # type: ignore[attr-defined]
