"""The texts campaigns write on the customer timeline (keys and parameters, see
``customers.timeline_texts``): registered in ``CampaignsConfig.ready``."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

LETTER = "campaigns.letter"
CALL_TASK = "campaigns.call_task"
EMAIL = "campaigns.email"


def timeline_texts_register() -> None:
    from stammkunde.customers.services import timeline_text_register

    timeline_text_register(LETTER, _("Letter: %(campaign)s"))
    timeline_text_register(CALL_TASK, _("Call task %(ticket)s: %(campaign)s"))
    timeline_text_register(EMAIL, _("Email: %(subject)s"))
