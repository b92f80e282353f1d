"""Forms of the settings pages: they parse and explain; the services decide."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from stammkunde.core.roles import ADMIN, AGENT, ANALYST, MARKETING, PARTNER_AGENT, TEAM_LEAD
from stammkunde.service.services import setup as service_services

ROLE_LABELS = {
    ADMIN: _("Admin (everything, settings included)"),
    TEAM_LEAD: _("Team lead (queues, SLA, approvals)"),
    AGENT: _("Agent (tickets and customers)"),
    PARTNER_AGENT: _("Partner agent (only the partner's queues)"),
    MARKETING: _("Marketing (campaigns, loyalty)"),
    ANALYST: _("Analyst (reports, read only)"),
}
WEEKDAYS = range(7)
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")


class TimeInput(forms.TextInput):
    input_type = "time"


def _set_choices(form: forms.Form, name: str, choices: list[tuple[str, Any]]) -> None:
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField)
    field.choices = choices


def _state_choices() -> list[tuple[str, Any]]:
    return [("", _("no public holidays")), *sorted(service_services.GERMAN_STATES.items())]


class CompanyForm(forms.Form):
    name = forms.CharField(
        label=_("company name"),
        max_length=200,
        help_text=_("As customers know it, e.g. Radhaus Müller."),
    )
    street = forms.CharField(label=_("street and number"), max_length=200, required=False)
    postal_code = forms.CharField(label=_("postal code"), max_length=10, required=False)
    city = forms.CharField(label=_("city"), max_length=100, required=False)
    phone = forms.CharField(label=_("phone"), max_length=40, required=False)
    email = forms.EmailField(
        label=_("service e-mail address"),
        required=False,
        help_text=_("Customers write here; replies are sent from it."),
    )
    imprint_url = forms.URLField(
        label=_("imprint link"),
        required=False,
        assume_scheme="https",
        help_text=_("The page with your legal notice (Impressum); every mail links to it."),
    )
    privacy_url = forms.URLField(
        label=_("privacy policy link"),
        required=False,
        assume_scheme="https",
        help_text=_("The page with your privacy policy; every mail links to it."),
    )


class CompanyLogoForm(CompanyForm):
    logo = forms.FileField(
        label=_("logo"),
        required=False,
        help_text=_("PNG or JPEG, at most 512 KB. Shown in mails and on the customer pages."),
    )


class FirstRunCompanyForm(CompanyForm):
    state = forms.ChoiceField(
        label=_("federal state"),
        choices=_state_choices,
        required=False,
        initial="NW",
        help_text=_("Its public holidays do not count as working time for the SLA."),
    )


class FirstAdminForm(forms.Form):
    first_name = forms.CharField(label=_("first name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("last name"), max_length=150, required=False)
    username = forms.CharField(
        label=_("user name"), max_length=150, help_text=_("For logging in, e.g. anna.")
    )
    email = forms.EmailField(label=_("e-mail address"))
    password = forms.CharField(
        label=_("password"),
        widget=forms.PasswordInput(render_value=False),
        help_text=_("At least 12 characters, not only digits, not like your name."),
    )


class FirstQueueForm(forms.Form):
    queue_name = forms.CharField(
        label=_("name of the first queue"),
        max_length=100,
        initial=_("Customer service"),
        help_text=_("Tickets wait here until someone answers; add more queues later."),
    )


class FirstMailForm(forms.Form):
    email = forms.EmailField(
        label=_("service e-mail address"),
        required=False,
        help_text=_(
            "Where customers write to you. Connecting the mailbox (IMAP/SMTP) comes later in "
            "the settings; you can skip this step."
        ),
    )


class CalendarForm(forms.Form):
    """Up to two opening spans per weekday (a lunch break), the state and closed days."""

    name = forms.CharField(label=_("name"), max_length=100)
    state = forms.ChoiceField(
        label=_("federal state"),
        choices=_state_choices,
        required=False,
        help_text=_("Its public holidays do not count as working time for the SLA."),
    )
    timezone = forms.CharField(label=_("time zone"), max_length=50, initial="Europe/Berlin")
    closed_days = forms.CharField(
        label=_("extra closed days"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One date a line, e.g. 24.12.2026 or 2026-12-24 (company holidays)."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for day in WEEKDAYS:
            label = service_services.weekday_name(day)
            for n in (1, 2):
                self.fields[f"d{day}_open{n}"] = forms.CharField(
                    label=_("%(day)s opens") % {"day": label}
                    if n == 1
                    else _("%(day)s opens again") % {"day": label},
                    required=False,
                    widget=TimeInput(),
                )
                self.fields[f"d{day}_close{n}"] = forms.CharField(
                    label=_("%(day)s closes") % {"day": label}
                    if n == 1
                    else _("%(day)s closes again") % {"day": label},
                    required=False,
                    widget=TimeInput(),
                )

    def weekday_rows(self) -> list[dict[str, Any]]:
        """The weekday fields grouped for the table of the template."""
        return [
            {
                "day": day,
                "name": service_services.weekday_name(day),
                "fields": [
                    self[f"d{day}_open1"],
                    self[f"d{day}_close1"],
                    self[f"d{day}_open2"],
                    self[f"d{day}_close2"],
                ],
                "errors": self.errors.get(f"hours_{day}"),
            }
            for day in WEEKDAYS
        ]

    def clean_closed_days(self) -> list[date]:
        out = []
        for line in self.cleaned_data.get("closed_days", "").split():
            for fmt in ("%d.%m.%Y", "%Y-%m-%d"):
                try:
                    out.append(datetime.strptime(line, fmt).date())  # noqa: DTZ007 (a date)
                    break
                except ValueError:
                    continue
            else:
                raise forms.ValidationError(
                    _("%(value)s is not a date; write it as 24.12.2026.") % {"value": line}
                )
        return out

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        hours: dict[str, list[list[str]]] = {}
        for day in WEEKDAYS:
            spans = []
            for n in (1, 2):
                start = (data.get(f"d{day}_open{n}") or "").strip()[:5]
                end = (data.get(f"d{day}_close{n}") or "").strip()[:5]
                if not start and not end:
                    continue
                if not (start and end) or not (_TIME.match(start) and _TIME.match(end)):
                    self.add_error(
                        f"d{day}_open{n}",
                        _("%(day)s: give both the opening and the closing time (hh:mm).")
                        % {"day": service_services.weekday_name(day)},
                    )
                    continue
                spans.append([start, end])
            if spans:
                hours[str(day)] = spans
        data["opening_hours"] = hours
        return data

    @staticmethod
    def initial_for(calendar: Any) -> dict[str, Any]:
        """The form's initial values from a calendar (or the usual Mon-Fri 9-18)."""
        hours = calendar.opening_hours if calendar else {}
        if calendar is None or not hours:
            hours = {str(d): [["09:00", "18:00"]] for d in range(5)}
        initial: dict[str, Any] = {
            "name": calendar.name if calendar else "",
            "state": calendar.state if calendar else "NW",
            "timezone": calendar.timezone if calendar else "Europe/Berlin",
            "closed_days": "\n".join(
                date.fromisoformat(d).strftime("%d.%m.%Y") for d in (calendar.closed_days or [])
            )
            if calendar
            else "",
        }
        for day, spans in hours.items():
            for n, (start, end) in enumerate(spans[:2], start=1):
                initial[f"d{day}_open{n}"] = start[:5]
                initial[f"d{day}_close{n}"] = end[:5]
        return initial


class QueueForm(forms.Form):
    name = forms.CharField(label=_("name"), max_length=100)
    calendar = forms.ChoiceField(
        label=_("business hours"),
        required=False,
        help_text=_("The SLA clock runs only in these hours; empty: Mon-Fri 8-18."),
    )
    partner = forms.ChoiceField(
        label=_("service partner"),
        required=False,
        help_text=_("An outsourced partner whose agents work this queue; empty: your own team."),
    )
    members = forms.MultipleChoiceField(
        label=_("members"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Who works on this queue's tickets."),
    )

    def __init__(
        self, *args: Any, calendars: Any, partners: Any, users: Any, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        _set_choices(self, "calendar", [("", "—"), *[(str(c.pk), c.name) for c in calendars]])
        _set_choices(self, "partner", [("", "—"), *[(str(p.pk), p.name) for p in partners]])
        _set_choices(
            self, "members", [(str(u.pk), u.get_full_name() or u.get_username()) for u in users]
        )


class SLAPolicyForm(forms.Form):
    name = forms.CharField(label=_("name"), max_length=100)
    queue = forms.ChoiceField(label=_("queue"), required=False, help_text=_("Empty: any queue."))
    value_class = forms.ChoiceField(
        label=_("customer class"),
        required=False,
        choices=[("", _("any")), ("A", "A"), ("B", "B"), ("C", "C")],
        help_text=_("A: the most valuable customers (by revenue). Empty: any class."),
    )
    priority = forms.ChoiceField(label=_("priority"), required=False)
    first_response_minutes = forms.IntegerField(
        label=_("first response (working minutes)"),
        min_value=1,
        help_text=_("Counted in business hours only: 480 = one working day of 8 hours."),
    )
    next_response_minutes = forms.IntegerField(
        label=_("next response (working minutes)"),
        min_value=1,
        help_text=_("After each customer reply."),
    )
    resolution_minutes = forms.IntegerField(
        label=_("resolution (working minutes)"),
        min_value=1,
        help_text=_("Until the ticket is solved; at least as long as the responses."),
    )

    def __init__(self, *args: Any, queues: Any, priorities: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _set_choices(self, "queue", [("", _("any")), *[(str(q.pk), q.name) for q in queues]])
        _set_choices(self, "priority", [("", _("any")), *priorities])


class ReplyTemplateForm(forms.Form):
    name = forms.CharField(label=_("name"), max_length=100)
    language = forms.ChoiceField(label=_("language"), choices=settings.LANGUAGES)
    body = forms.CharField(
        label=_("text"),
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_(
            "Placeholders: {customer_name}, {ticket_number}, {order_number}; they are filled "
            "in when an agent uses the template."
        ),
    )
    active = forms.BooleanField(label=_("active"), required=False, initial=True)


class _RolesForm(forms.Form):
    roles = forms.MultipleChoiceField(
        label=_("roles"),
        choices=list(ROLE_LABELS.items()),
        widget=forms.CheckboxSelectMultiple,
    )
    partner = forms.ChoiceField(
        label=_("service partner"),
        required=False,
        help_text=_("Only for partner agents: the partner they work for."),
    )
    goodwill_limit = forms.DecimalField(
        label=_("goodwill limit (EUR)"),
        required=False,
        min_value=Decimal("0"),
        max_digits=10,
        decimal_places=2,
        help_text=_(
            "What this user may grant alone; empty: the role's limit "
            "(team lead 500 €, agent 50 €, partner agent 25 €)."
        ),
    )

    def __init__(self, *args: Any, partners: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _set_choices(self, "partner", [("", "—"), *[(str(p.pk), p.name) for p in partners]])


class InviteForm(_RolesForm):
    first_name = forms.CharField(label=_("first name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("last name"), max_length=150, required=False)
    username = forms.CharField(
        label=_("user name"), max_length=150, help_text=_("For logging in, e.g. tom.")
    )
    email = forms.EmailField(
        label=_("e-mail address"), help_text=_("The link to choose a password goes here.")
    )
    field_order = ["first_name", "last_name", "username", "email", "roles"]


class UserRolesForm(_RolesForm):
    pass


# --------------------------------------------------------------------------- mail accounts
class _PasswordFields(forms.Form):
    """A password that is never shown back: empty keeps the stored one."""

    password = forms.CharField(
        label=_("password"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )
    clear_password = forms.BooleanField(label=_("remove the stored password"), required=False)

    def __init__(self, *args: Any, has_password: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["password"].help_text = (
            _("A password is stored (encrypted). Leave empty to keep it.")
            if has_password
            else _("Stored encrypted; it is never shown again.")
        )
        if not has_password:
            del self.fields["clear_password"]


class MailboxForm(_PasswordFields):
    name = forms.CharField(label=_("name"), max_length=100, help_text=_("e.g. Kundenservice."))
    address = forms.CharField(
        label=_("address"),
        max_length=254,
        help_text=_("Mail to this address lands in this mailbox, e.g. service@your-shop.de."),
    )
    queue = forms.ChoiceField(
        label=_("queue for new tickets"),
        required=False,
        help_text=_("Empty: the default queue (the first one of your own team)."),
    )
    host = forms.CharField(
        label=_("IMAP host"),
        max_length=200,
        required=False,
        help_text=_(
            "e.g. imap.your-provider.de. Empty: this mailbox is not fetched (mail arrives "
            "by LMTP or SMTP)."
        ),
    )
    port = forms.IntegerField(
        label=_("IMAP port"), initial=993, help_text=_("993 with TLS, 143 without.")
    )
    use_ssl = forms.BooleanField(label=_("IMAP over TLS"), required=False, initial=True)
    username = forms.CharField(
        label=_("IMAP user"),
        max_length=200,
        required=False,
        help_text=_("Often the mail address."),
    )
    password_env = forms.CharField(
        label=_("password environment variable"),
        max_length=100,
        required=False,
        help_text=_(
            "Instead of a password: the name of an environment variable of the server that "
            "holds it. A typed password wins."
        ),
    )
    folder = forms.CharField(label=_("IMAP folder"), max_length=200, initial="INBOX")
    field_order = [
        "name",
        "address",
        "queue",
        "host",
        "port",
        "use_ssl",
        "username",
        "password",
        "clear_password",
        "password_env",
        "folder",
    ]

    def __init__(self, *args: Any, queues: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _set_choices(self, "queue", [("", "—"), *[(str(q.pk), q.name) for q in queues]])

    @staticmethod
    def initial_for(mailbox: Any) -> dict[str, Any]:
        if mailbox is None:
            return {"port": 993, "use_ssl": True, "folder": "INBOX"}
        return {
            "name": mailbox.name,
            "address": mailbox.address,
            "queue": str(mailbox.queue_id or ""),
            "host": mailbox.host,
            "port": mailbox.port,
            "use_ssl": mailbox.use_ssl,
            "username": mailbox.username,
            "password_env": mailbox.password_env,
            "folder": mailbox.folder,
        }


class OutgoingServerForm(_PasswordFields):
    host = forms.CharField(
        label=_("SMTP host"),
        max_length=200,
        required=False,
        help_text=_(
            "e.g. smtp.your-provider.de. Empty: mail goes out by the server's EMAIL_* settings."
        ),
    )
    port = forms.IntegerField(
        label=_("SMTP port"),
        initial=587,
        help_text=_("587 with STARTTLS, 465 with TLS from the start, 25 for a local relay."),
    )
    use_starttls = forms.BooleanField(label=_("STARTTLS"), required=False, initial=True)
    use_tls = forms.BooleanField(
        label=_("TLS from the start (SMTPS)"), required=False, initial=False
    )
    username = forms.CharField(
        label=_("SMTP user"),
        max_length=200,
        required=False,
        help_text=_("Empty for a server that needs no login."),
    )
    sender = forms.CharField(
        label=_("sender address"),
        max_length=254,
        required=False,
        help_text=_(
            "The From of every mail, e.g. service@your-shop.de or "
            "Radhaus Müller <service@radhaus.de>."
        ),
    )
    field_order = [
        "host",
        "port",
        "use_starttls",
        "use_tls",
        "username",
        "password",
        "clear_password",
        "sender",
    ]

    @staticmethod
    def initial_for(server: Any) -> dict[str, Any]:
        if server is None:
            return {"port": 587, "use_starttls": True, "use_tls": False}
        return {
            "host": server.host,
            "port": server.port,
            "use_starttls": server.use_starttls,
            "use_tls": server.use_tls,
            "username": server.username,
            "sender": server.sender,
        }
