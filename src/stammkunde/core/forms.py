"""Form helpers every app's views share."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext as _

from .errors import ApplicationError


def form_errors_apply(form: forms.BaseForm, exc: ApplicationError) -> None:
    """Put a service's refusal on the form: on its field when the form has it, else on top.

    Services raise with English messages; each is shown through gettext, so a
    message that has a German entry in the catalogue is shown in German.
    """
    for field, errors in (exc.field_errors or {"__all__": [exc.message]}).items():
        form.add_error(field if field in form.fields else None, [_(str(e)) for e in errors])
