"""The texts channels write on the customer timeline (keys and parameters, see
``customers.timeline_texts``): registered in ``ChannelsConfig.ready``."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

EMAIL_BOUNCE = "channels.email_bounce"


def timeline_texts_register() -> None:
    from stammkunde.customers.services import timeline_text_register

    timeline_text_register(EMAIL_BOUNCE, _("Email to %(address)s bounced: %(why)s"))
