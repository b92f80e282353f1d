"""Every write of the feedback app; import from here (``from stammkunde.feedback import services``).

Rules that live here and nowhere else:

* Answers are tied to the frozen ``SurveyVersion`` they answered; publishing
  freezes the draft, later edits start a new draft (``surveys``).
* No invitation without the latest consent purpose "feedback" on email, to an
  address marked undeliverable, or within the minimum gap after the
  customer's last invitation to *any* survey (``invitations``).
* Survey mail goes through the channels outbox like every other mail: sent
  after commit, retried, bounces recorded, failures shown (``invitations``).
* One response per invitation (database constraint); a second submit returns
  the stored response and stores nothing (``responses``).
* A detractor (NPS 0–6) or a CSAT of 1–2 opens a follow-up ticket (priority
  high, so the SLA policy for high priority applies) for the responsible team
  (``responses``).
* Triggers select whom to invite when (``triggers``); personal data is erased
  and expired in ``personal``; the report's theme cache, which quotes texts, is
  cleared through ``themes_cache`` when texts go.
"""

from .invitations import (
    InvitationSuppressed,
    invitation_create,
    invitation_mail,
    invitation_mark_sent,
    invitation_refusal_check,
    invitation_send,
)
from .personal import answer_texts_expire, customer_data_erase
from .responses import (
    DETRACTOR_NPS_MAX,
    PROMOTER_NPS_MIN,
    UNHAPPY_CSAT_MAX,
    SubmitResult,
    follow_up_ticket_open,
    is_unhappy,
    referral_code_for,
    response_submit,
)
from .rules import *  # noqa: F403  (the survey rules of the settings page: rules.__all__)
from .surveys import (
    SURVEY_FIELDS,
    VERSION_TEXT_FIELDS,
    survey_create,
    survey_publish,
    survey_update,
    trigger_create,
    trigger_set_active,
)
from .themes_cache import (
    THEMES_CACHE_SECONDS,
    THEMES_DAYS_MAX,
    THEMES_DAYS_MIN,
    THEMES_SOURCES,
    themes_cache_clear,
    themes_cache_key,
)
from .triggers import (
    TRIGGER_LOOKBACK,
    invitation_for_solved_ticket,
    ticket_solved_triggers,
    triggers_run,
)

__all__ = [
    "DETRACTOR_NPS_MAX",
    "PROMOTER_NPS_MIN",
    "SURVEY_FIELDS",
    "THEMES_CACHE_SECONDS",
    "THEMES_DAYS_MAX",
    "THEMES_DAYS_MIN",
    "THEMES_SOURCES",
    "TRIGGER_LOOKBACK",
    "UNHAPPY_CSAT_MAX",
    "VERSION_TEXT_FIELDS",
    "InvitationSuppressed",
    "SubmitResult",
    "answer_texts_expire",
    "customer_data_erase",
    "follow_up_ticket_open",
    "invitation_create",
    "invitation_for_solved_ticket",
    "invitation_mail",
    "invitation_mark_sent",
    "invitation_refusal_check",
    "invitation_send",
    "is_unhappy",
    "referral_code_for",
    "response_submit",
    "survey_create",
    "survey_publish",
    "survey_update",
    "themes_cache_clear",
    "themes_cache_key",
    "ticket_solved_triggers",
    "trigger_create",
    "trigger_set_active",
    "triggers_run",
]
