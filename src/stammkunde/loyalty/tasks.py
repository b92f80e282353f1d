"""Job kinds of the loyalty app: the nightly and daily ledger jobs."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from stammkunde.core.jobs.registry import Cron, JobContext, job_kind

from . import services


@job_kind(
    "loyalty.points_expire",
    label=_("Points expiry"),
    description=_("Expires the points lots whose date has passed."),
    schedule=Cron(hour="1", minute="15"),
)
def loyalty_points_expire(ctx: JobContext) -> dict[str, int]:
    """Expire the lots whose date has passed."""
    return {"points_expired": services.points_expire()}


@job_kind(
    "loyalty.tiers_review",
    label=_("Tier review"),
    description=_("Reviews the tiers whose review date has come."),
    schedule=Cron(hour="1", minute="30"),
)
def loyalty_tiers_review(ctx: JobContext) -> dict[str, int]:
    """Review the tiers whose review date has come."""
    return {"accounts_reviewed": services.tiers_review()}


@job_kind(
    "loyalty.birthday_bonuses",
    label=_("Birthday bonuses"),
    description=_("Awards today's birthday bonuses."),
    schedule=Cron(hour="6", minute="0"),
)
def loyalty_birthday_bonuses(ctx: JobContext) -> dict[str, int]:
    """Award today's birthday bonuses."""
    return {"members": services.birthday_bonuses_award()}
