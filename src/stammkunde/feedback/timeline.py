"""The texts feedback writes on the customer timeline (keys and parameters, see
``customers.timeline_texts``): registered in ``FeedbackConfig.ready``."""

from __future__ import annotations

from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

RESPONSE = "feedback.survey_response"  # survey name and scores ("NPS 9, CSAT 5")
RESPONSE_WITHOUT_SCORES = "feedback.survey_answered"
REFERRAL_ASK = "feedback.referral_ask"
REFERRAL_ASK_CODE = "feedback.referral_ask_code"
INVITATION = "feedback.survey_invitation"


def timeline_texts_register() -> None:
    from stammkunde.customers.services import timeline_text_register

    timeline_text_register(RESPONSE, "%(survey)s: %(scores)s")
    timeline_text_register(RESPONSE_WITHOUT_SCORES, format_lazy("%(survey)s: {}", _("answered")))
    asked = _("Promoter: asked for a referral")
    timeline_text_register(REFERRAL_ASK, asked)
    timeline_text_register(REFERRAL_ASK_CODE, format_lazy("{} (%(code)s)", asked))
    timeline_text_register(INVITATION, _("Survey invitation: %(s)s"))
