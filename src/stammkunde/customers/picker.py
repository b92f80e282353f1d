"""The customer picker: choose a customer by what people know of them, never by an id.

A form field and its widget. The widget is a search box and a list of radio
choices named like the field. With htmx, typing asks ``customers:picker`` for the
choices (the search of ``selectors.customer_search``); without JavaScript, the
"Suchen" button (or Enter) submits the form, the field answers "choose from the
list" and the form comes back with the choices. Picking a choice sets the field.

Use::

    customer = CustomerPickerField(label=_("customer"), required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"].user = user

``cleaned_data["customer"]`` is the id of a customer the user may see, or None.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from stammkunde.core.access import User

from .models import Customer

FIELD_NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")


def picker_choices(
    *, user: User | None, q: str, selected: Customer | None, limit: int = 10
) -> list[Customer]:
    """The customers to offer: the chosen one first, then the best matches of ``q``."""
    from .selectors import customer_search

    found = customer_search(user=user, q=q, limit=limit) if user is not None and q.strip() else []
    if selected is None:
        return found
    return [selected, *(c for c in found if c.pk != selected.pk)]


def visible_customer(user: User | None, raw: Any) -> Customer | None:
    """The customer with id ``raw`` if ``user`` may see it (merged records never)."""
    text = str(raw or "").strip()
    if user is None or not (text.isascii() and text.isdigit()) or len(text) > 18:
        return None
    from .selectors import with_contact_summary

    visible = Customer.objects.visible_to(user).filter(pk=int(text), merged_into__isnull=True)
    return with_contact_summary(visible).first()


class CustomerPicker(forms.Widget):
    """Search box plus radio choices; the chosen radio carries the customer."""

    template_name = "customers/_picker.html"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs)
        self.user: User | None = None

    def value_from_datadict(self, data: Any, files: Any, name: str) -> dict[str, Any]:
        return {
            "pk": data.get(name, ""),
            "q": data.get(f"{name}_q", ""),
            "search": f"{name}_search" in data,
        }

    def value_omitted_from_data(self, data: Any, files: Any, name: str) -> bool:
        return name not in data and f"{name}_q" not in data

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        if isinstance(value, dict):
            pk, q = value.get("pk", ""), str(value.get("q", ""))
        else:
            pk, q = getattr(value, "pk", value), ""
        selected = visible_customer(self.user, pk)
        choices = picker_choices(user=self.user, q=q, selected=selected)
        context["widget"].update(
            {
                "q": q,
                "selected": selected,
                "choices": choices,
                "searched": bool(q.strip()),
            }
        )
        return context


class CustomerPickerField(forms.Field):
    """A customer chosen with the picker; cleans to the id of a visible customer."""

    widget = CustomerPicker
    default_error_messages = {
        "required": _("Please choose a customer."),
        "not_found": _("Customer not found."),
        "choose": _("Please choose the customer from the list."),
    }

    def __init__(self, *, user: User | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.user = user

    @property
    def user(self) -> User | None:
        return self._user

    @user.setter
    def user(self, value: User | None) -> None:
        self._user = value
        self.widget.user = value  # type: ignore[attr-defined]

    def __deepcopy__(self, memo: dict[int, Any]) -> CustomerPickerField:
        result = super().__deepcopy__(memo)
        result.user = self._user  # the copied widget learns the user too
        return result

    def to_python(self, value: Any) -> int | None:
        if not isinstance(value, dict):
            value = {"pk": value, "q": "", "search": False}
        pk = str(value.get("pk") or "").strip()
        q = str(value.get("q") or "").strip()
        if value.get("search"):
            # The search button of the picker without JavaScript: show the choices, save nothing.
            raise ValidationError(self._nothing_found(q) or self.error_messages["choose"])
        if pk:
            customer = visible_customer(self.user, pk)
            if customer is None:
                raise ValidationError(self.error_messages["not_found"], code="not_found")
            return int(customer.pk)
        if q:
            raise ValidationError(self._nothing_found(q) or self.error_messages["choose"])
        return None

    def _nothing_found(self, q: str) -> str:
        """The "not found" message when ``q`` finds nobody, else ``""``."""
        if q and not picker_choices(user=self.user, q=q, selected=None, limit=1):
            return str(self.error_messages["not_found"])
        return ""
