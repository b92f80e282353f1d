"""form_errors_apply: a service's refusal lands on the form field it names, in German."""

from __future__ import annotations

from django import forms
from django.utils import translation

from stammkunde.core.errors import ApplicationError
from stammkunde.core.forms import form_errors_apply


class NameForm(forms.Form):
    name = forms.CharField()


def _bound() -> NameForm:
    form = NameForm({"name": "x"})
    assert form.is_valid()
    return form


def test_a_field_error_lands_on_its_field_and_an_unknown_field_on_top() -> None:
    form = _bound()
    form_errors_apply(
        form, ApplicationError("no", field_errors={"name": ["taken"], "colour": ["bad"]})
    )
    assert form.errors["name"] == ["taken"]
    assert form.non_field_errors() == ["bad"]


def test_a_refusal_without_fields_is_shown_above_the_form() -> None:
    form = _bound()
    form_errors_apply(form, ApplicationError("Nothing to send."))
    assert form.non_field_errors() == ["Nothing to send."]


def test_the_message_is_shown_in_german_when_the_catalogue_has_it() -> None:
    form = _bound()
    with translation.override("de"):
        form_errors_apply(form, ApplicationError("Switch the campaign on before sending it."))
        assert form.non_field_errors() == ["Schalten Sie die Kampagne ein, bevor Sie sie senden."]
