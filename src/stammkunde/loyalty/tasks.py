"""Celery tasks: thin wrappers around the loyalty jobs (nightly by Celery beat or cron)."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(name="loyalty.points_expire")
def loyalty_points_expire() -> int:
    """Expire the lots whose date has passed; return the points expired."""
    return services.points_expire()


@shared_task(name="loyalty.tiers_review")
def loyalty_tiers_review() -> int:
    """Review the tiers whose review date has come; return the accounts reviewed."""
    return services.tiers_review()


@shared_task(name="loyalty.birthday_bonuses")
def loyalty_birthday_bonuses() -> int:
    """Award today's birthday bonuses; return how many members got one."""
    return services.birthday_bonuses_award()
