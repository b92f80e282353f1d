"""Thin Celery wrappers around the channel services."""

from __future__ import annotations

from celery import shared_task


@shared_task(ignore_result=True)
def outbox_send(outbox_id: int) -> str:
    """Send one outbox mail now (when due); failures are rescheduled by the service."""
    from .services import outbox_send as send

    return send(outbox_id=outbox_id)


@shared_task(ignore_result=True)
def outbox_send_due() -> dict[str, int]:
    """Send every due outbox mail; schedule with celery beat every minute."""
    from .services import outbox_send_due as send_due

    return send_due()


@shared_task(ignore_result=True)
def mail_poll_all() -> dict[str, int]:
    """Poll every active IMAP mailbox; schedule with celery beat every minute."""
    from .imap import mailbox_poll_all

    return mailbox_poll_all()
