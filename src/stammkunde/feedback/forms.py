"""Forms of the survey builder, the trigger editor and the answer page."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from stammkunde.core.errors import ApplicationError

from .models import CHOICE_TYPES, SCALE_RANGES, QuestionType, Survey, SurveyVersion, Trigger

PHASES = [
    ("", "—"),
    ("new", _("new")),
    ("established", _("established")),
    ("churn_prone", _("churn-prone")),
    ("churning", _("churning")),
    ("lost", _("lost")),
]


def apply_errors(form: forms.BaseForm, exc: ApplicationError) -> None:
    """Show a service's field errors on the form (unknown fields as form errors)."""
    for field, errors in (exc.field_errors or {"__all__": [exc.message]}).items():
        form.add_error(field if field in form.fields else None, errors)


class SurveyForm(forms.Form):
    name = forms.CharField(label=_("name"), max_length=120)
    kind = forms.ChoiceField(label=_("kind"), choices=Survey.Kind.choices)
    title_de = forms.CharField(label=_("title (German)"), max_length=200)
    title_en = forms.CharField(label=_("title (English)"), max_length=200, required=False)
    intro_de = forms.CharField(
        label=_("introduction (German)"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    intro_en = forms.CharField(
        label=_("introduction (English)"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    thank_you_de = forms.CharField(
        label=_("thank-you text (German)"),
        initial="Vielen Dank für Ihre Rückmeldung!",
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    thank_you_en = forms.CharField(
        label=_("thank-you text (English)"),
        initial="Thank you for your feedback!",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    follow_up_queue: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        label=_("queue for follow-ups"),
        queryset=None,
        required=False,
        help_text=_("Detractor follow-ups go here; empty: the queue of the surveyed ticket."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from stammkunde.service.models import Queue

        self.fields["follow_up_queue"].queryset = Queue.objects.order_by("name")  # type: ignore[attr-defined]


class QuestionForm(forms.Form):
    type = forms.ChoiceField(
        label=_("type"), choices=[("", "—"), *QuestionType.choices], required=False
    )
    text_de = forms.CharField(label=_("question (German)"), max_length=300, required=False)
    text_en = forms.CharField(label=_("question (English)"), max_length=300, required=False)
    choices = forms.CharField(
        label=_("choices"),
        required=False,
        help_text=_('For choice questions: "Preis|price; Service|service".'),
    )
    optional = forms.BooleanField(label=_("optional"), required=False)


QuestionFormSet = forms.formset_factory(QuestionForm, extra=3, max_num=30)


def question_initial(version: SurveyVersion | None) -> list[dict[str, Any]]:
    if version is None:
        return []
    return [
        {
            "type": q.type,
            "text_de": q.text_de,
            "text_en": q.text_en,
            "optional": q.optional,
            "choices": "; ".join(f"{c.get('de', '')}|{c.get('en', '')}" for c in q.choices),
        }
        for q in version.questions.all()
    ]


def questions_from(formset: Any) -> list[dict[str, Any]]:
    return [f.cleaned_data for f in formset.forms if f.cleaned_data]


class TriggerForm(forms.ModelForm):
    phase = forms.ChoiceField(label=_("lifecycle phase"), choices=PHASES, required=False)

    class Meta:
        model = Trigger
        fields = ["event", "delay_days", "period_days", "phase", "min_gap_days", "expiry_days"]


def scale_hint(qtype: str) -> str:
    """What the ends of a scale mean, in the active language (call inside the override)."""
    hints: dict[str, str] = {
        QuestionType.NPS: gettext("0 = not at all likely, 10 = extremely likely"),
        QuestionType.CSAT: gettext("1 = very dissatisfied, 5 = very satisfied"),
        QuestionType.CES: gettext("1 = strongly disagree, 7 = strongly agree"),
    }
    return str(hints.get(qtype, ""))


class AnswerForm(forms.Form):
    """The questions of one frozen version as form fields ``q<id>``, labelled in ``language``."""

    def __init__(self, *args: Any, version: SurveyVersion, language: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.questions = list(version.questions.all())
        for q in self.questions:
            label = q.text(language)
            required = not q.optional
            if q.type in SCALE_RANGES:
                lo, hi = SCALE_RANGES[q.type]
                field: forms.Field = forms.TypedChoiceField(
                    label=label,
                    required=required,
                    help_text=scale_hint(q.type),
                    coerce=int,
                    empty_value=None,
                    choices=[(str(v), str(v)) for v in range(lo, hi + 1)],
                    widget=forms.RadioSelect(attrs={"class": "scale"}),
                )
            elif q.type in CHOICE_TYPES:
                choices = q.choice_labels(language)
                field = (
                    forms.ChoiceField(
                        label=label, required=required, choices=choices, widget=forms.RadioSelect
                    )
                    if q.type == QuestionType.SINGLE
                    else forms.MultipleChoiceField(
                        label=label,
                        required=required,
                        choices=choices,
                        widget=forms.CheckboxSelectMultiple,
                    )
                )
            else:
                field = forms.CharField(
                    label=label,
                    required=required,
                    max_length=5000,
                    widget=forms.Textarea(attrs={"rows": 3}),
                )
            field.question = q  # type: ignore[attr-defined]
            self.fields[f"q{q.pk}"] = field

    def answers(self) -> dict[str, Any]:
        return {k: v for k, v in self.cleaned_data.items() if v not in (None, "", [])}


class TriggerRuleForm(forms.Form):
    """A survey rule of the settings page: which survey, on which event, with which days.

    It only parses; ``services.trigger_save`` checks the rules and says what to change.
    """

    survey = forms.ChoiceField(label=_("survey"))
    event = forms.ChoiceField(label=_("event"), choices=Trigger.Event.choices)
    delay_days = forms.IntegerField(
        label=_("delay (days)"), initial=0, help_text=_("Days after the ticket or order.")
    )
    period_days = forms.IntegerField(
        label=_("period (days)"), initial=180, help_text=_("For periodic surveys.")
    )
    phase = forms.ChoiceField(
        label=_("lifecycle phase"),
        choices=PHASES,
        required=False,
        help_text=_("For phase triggers."),
    )
    min_gap_days = forms.IntegerField(
        label=_("minimum gap per customer (days)"),
        initial=30,
        help_text=_("No invitation if the customer was invited to any survey within this gap."),
    )
    expiry_days = forms.IntegerField(label=_("link valid (days)"), initial=14)

    def __init__(self, *args: Any, surveys: list[Survey], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["survey"].choices = [("", "—"), *((str(s.pk), s.name) for s in surveys)]  # type: ignore[attr-defined]
