"""Job kinds of the channels: mail polling and the outbox."""

from __future__ import annotations

from datetime import timedelta

from django.utils.translation import gettext_lazy as _

from stammkunde.core.jobs.registry import Every, JobContext, job_kind


@job_kind(
    "channels.outbox_send",
    label=_("Send one mail"),
    record=False,  # the outbox row records attempts; the scheduled run retries
)
def outbox_send(ctx: JobContext, outbox_id: int) -> str:
    """Send one outbox mail now (when due); failures are rescheduled by the service."""
    from .services import outbox_send as send

    return send(outbox_id=outbox_id)


@job_kind(
    "channels.outbox_send_due",
    label=_("Outbox retries"),
    description=_("Sends every due outbox mail, including retries of failed ones."),
    schedule=Every(minutes=1),
    timeout=timedelta(minutes=10),
)
def outbox_send_due(ctx: JobContext) -> dict[str, int]:
    """Send every due outbox mail."""
    from .services import outbox_send_due as send_due

    return send_due()


@job_kind(
    "channels.mail_poll",
    label=_("Mail polling"),
    description=_("Fetches new mail from every active IMAP mailbox."),
    schedule=Every(minutes=1),
    timeout=timedelta(minutes=10),
)
def mail_poll_all(ctx: JobContext) -> dict[str, int]:
    """Poll every active IMAP mailbox."""
    from .imap import mailbox_poll_all

    return mailbox_poll_all()
