"""Mailboxes, every inbound message with its raw bytes, the outbox, and logged contacts.

The raw bytes of every inbound message are kept (``InboundMessage.raw``) so a
message can be reparsed after a fix; quarantine is not a separate table but
the result ``quarantined`` of an inbound message, which keeps the reason.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from stammkunde.core.access import User, VisibleQuerySet
from stammkunde.core.roles import ADMIN, has_role
from stammkunde.customers.models import Channel, Customer


class Mailbox(models.Model):
    """An address we receive mail for; with a host it is polled over IMAP."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    address = models.EmailField(
        _("address"), unique=True, help_text=_("Mail to this address lands here (LMTP/SMTP).")
    )
    queue = models.ForeignKey(
        "service.Queue",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("queue for new tickets"),
    )
    host = models.CharField(_("IMAP host"), max_length=200, blank=True)
    port = models.PositiveIntegerField(_("IMAP port"), default=993)
    use_ssl = models.BooleanField(_("IMAP over TLS"), default=True)
    username = models.CharField(_("IMAP user"), max_length=200, blank=True)
    password_env = models.CharField(
        _("password environment variable"),
        max_length=100,
        blank=True,
        help_text=_("Name of the environment variable holding the IMAP password."),
    )
    # The IMAP password typed on the settings page, Fernet-encrypted (core.crypto);
    # when set it wins over ``password_env``. Never shown again.
    password_encrypted = models.TextField(blank=True, editable=False)
    folder = models.CharField(_("IMAP folder"), max_length=200, default="INBOX")
    active = models.BooleanField(_("active"), default=True)
    # Where polling stands: a UIDVALIDITY change means the folder was rebuilt.
    uidvalidity = models.BigIntegerField(null=True, blank=True)
    last_uid = models.BigIntegerField(default=0)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("mailbox")
        verbose_name_plural = _("mailboxes")

    def __str__(self) -> str:
        return f"{self.name} <{self.address}>"

    @property
    def has_stored_password(self) -> bool:
        return bool(self.password_encrypted)


class OutgoingServer(models.Model):
    """One row (pk 1): the SMTP server the outbox sends through, set on the settings page.

    Without a host the Django settings ``EMAIL_*`` apply, as before.
    """

    host = models.CharField(_("SMTP host"), max_length=200, blank=True)
    port = models.PositiveIntegerField(_("SMTP port"), default=587)
    use_starttls = models.BooleanField(_("STARTTLS"), default=True)
    use_tls = models.BooleanField(_("TLS from the start (SMTPS)"), default=False)
    username = models.CharField(_("SMTP user"), max_length=200, blank=True)
    password_encrypted = models.TextField(blank=True, editable=False)
    sender = models.CharField(_("sender address"), max_length=254, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("outgoing mail server")
        verbose_name_plural = _("outgoing mail server")

    def __str__(self) -> str:
        return f"{self.host}:{self.port}" if self.host else "EMAIL_*"

    @property
    def has_stored_password(self) -> bool:
        return bool(self.password_encrypted)


class Result(models.TextChoices):
    NEW_TICKET = "new_ticket", _("new ticket")
    APPENDED = "appended", _("appended to ticket")
    DUPLICATE = "duplicate", _("duplicate")
    AUTO_REPLY = "auto_reply", _("auto-reply")
    BOUNCE = "bounce", _("bounce")
    QUARANTINED = "quarantined", _("quarantined")


class InboundMessageQuerySet(VisibleQuerySet["InboundMessage"]):
    def visible_to(self, user: User) -> InboundMessageQuerySet:
        """Admins see every message (the quarantine); others those of tickets they see."""
        if has_role(user, ADMIN):
            return self.all()
        from stammkunde.service.models import Ticket

        return self.filter(ticket__in=Ticket.objects.visible_to(user).values("id"))


class InboundMessage(models.Model):
    class Source(models.TextChoices):
        FILE = "file", _("file / pipe")
        LMTP = "lmtp", _("LMTP")
        SMTP = "smtp", _("SMTP")
        IMAP = "imap", _("IMAP")

    mailbox = models.ForeignKey(
        Mailbox, null=True, blank=True, on_delete=models.PROTECT, related_name="messages"
    )
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.FILE)
    uidvalidity = models.BigIntegerField(null=True, blank=True)
    uid = models.BigIntegerField(null=True, blank=True)
    raw = models.BinaryField(_("raw message"))
    size = models.PositiveIntegerField(_("size (bytes)"))
    sha256 = models.CharField(max_length=64, db_index=True)
    # Content digest; unique among non-duplicates, so a retried delivery can never
    # create a second ticket or message (the database refuses it under concurrency).
    dedupe_key = models.CharField(max_length=80, null=True, blank=True, unique=True)
    message_id = models.CharField(_("Message-ID"), max_length=255, blank=True, db_index=True)
    from_address = models.CharField(_("from"), max_length=254, blank=True)
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    result = models.CharField(_("result"), max_length=12, choices=Result.choices)
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    ticket = models.ForeignKey(
        "service.Ticket",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="inbound_mails",
    )
    service_message = models.ForeignKey(
        "service.Message",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="inbound_mails",
    )
    duplicate_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    received_at = models.DateTimeField(_("received"), db_index=True)
    parsed_at = models.DateTimeField(_("parsed"), null=True, blank=True)
    attempts = models.PositiveIntegerField(default=1)

    objects = InboundMessageQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        verbose_name = _("inbound message")
        verbose_name_plural = _("inbound messages")
        constraints = [
            models.UniqueConstraint(
                fields=["mailbox", "uidvalidity", "uid"], name="inbound_mailbox_uid_once"
            ),
        ]
        indexes = [models.Index(fields=["result", "-id"], name="inbound_result")]

    def __str__(self) -> str:
        return f"{self.pk} {self.result}: {self.subject}"


class OutboxQuerySet(VisibleQuerySet["OutboxMessage"]):
    def visible_to(self, user: User) -> OutboxQuerySet:
        """An outbound mail is visible with its ticket (admins see all)."""
        if has_role(user, ADMIN):
            return self.all()
        from stammkunde.service.models import Ticket

        return self.filter(ticket__in=Ticket.objects.visible_to(user).values("id"))


class OutboxMessage(models.Model):
    """One mail to send; the Message-ID is fixed at enqueue time so a resend is harmless."""

    class Kind(models.TextChoices):
        REPLY = "reply", _("reply")
        CONFIRMATION = "confirmation", _("confirmation")
        CAMPAIGN = "campaign", _("campaign mail")
        SURVEY = "survey", _("survey mail")

    class Status(models.TextChoices):
        # "deferred" is not stored: it is a queued mail with failed attempts
        # (see ``delivery_state``), so the claim query stays one condition.
        QUEUED = "queued", _("queued")
        SENDING = "sending", _("sending")
        SENT = "sent", _("sent")
        FAILED = "failed", _("failed")
        BOUNCED = "bounced", _("bounced")
        CANCELLED = "cancelled", _("cancelled")

    ticket = models.ForeignKey(
        "service.Ticket", null=True, blank=True, on_delete=models.CASCADE, related_name="outbox"
    )
    service_message = models.OneToOneField(
        "service.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="outbox"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.REPLY)
    message_id = models.CharField(max_length=255, unique=True)
    in_reply_to = models.CharField(max_length=255, blank=True)
    references = models.TextField(blank=True)
    sender = models.CharField(max_length=254)
    to = models.CharField(max_length=1000)
    subject = models.CharField(max_length=300)
    body_text = models.TextField()
    body_html = models.TextField(blank=True)
    attachment_ids = models.JSONField(default=list, blank=True)
    # Extra header lines (List-Unsubscribe of a campaign mail).
    headers = models.JSONField(default=dict, blank=True)
    # The row of the higher app the mail belongs to (a campaign contact's id for
    # kind "campaign", a survey invitation's for kind "survey"); a plain id
    # because channels sits below those apps.
    reference_id = models.BigIntegerField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(db_index=True)
    sending_since = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    objects = OutboxQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        verbose_name = _("outbound mail")
        verbose_name_plural = _("outbound mails")
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="outbox_due"),
            models.Index(fields=["kind", "reference_id"], name="outbox_reference"),
        ]

    def __str__(self) -> str:
        return f"{self.to}: {self.subject} ({self.status})"

    @property
    def delivery_state(self) -> str:
        """queued, sending, deferred (an attempt failed, another is due), sent, failed, bounced
        or cancelled."""
        if self.status == self.Status.QUEUED and self.attempts:
            return DELIVERY_DEFERRED
        return str(self.status)

    @property
    def delivery_label(self) -> str:
        """The delivery state as people read it (translated)."""
        return str(DELIVERY_LABELS.get(self.delivery_state, self.delivery_state))

    @property
    def delivery_reason(self) -> str:
        """Why a mail is deferred, failed or bounced, in words (raw error: ``last_error``)."""
        error = self.last_error.lower()
        if not error or self.delivery_state in (self.Status.SENT, self.Status.QUEUED):
            return ""
        if self.status == self.Status.BOUNCED or error.startswith("bounced"):
            return str(_("The recipient's mail server returned the mail as undeliverable."))
        if "suppression" in error:
            return str(_("The recipient address was erased (data protection)."))
        if "consent" in error:
            return str(_("The recipient withdrew consent before sending."))
        if "refused" in error and "recipient" in error:
            return str(_("The mail server refused the recipient address."))
        if "connection refused" in error or "timed out" in error or "errno" in error:
            return str(_("The mail server could not be reached."))
        if "authentication" in error:
            return str(_("The mail server refused the login."))
        return str(_("The mail server did not accept the mail."))

    @property
    def retryable(self) -> bool:
        """A failed or deferred mail may be queued again by an agent."""
        return self.delivery_state in (DELIVERY_DEFERRED, self.Status.FAILED, self.Status.BOUNCED)


DELIVERY_DEFERRED = "deferred"
DELIVERY_LABELS = {
    "queued": _("queued"),
    "sending": _("sending"),
    DELIVERY_DEFERRED: _("deferred"),
    "sent": _("sent"),
    "failed": _("failed"),
    "bounced": _("bounced"),
    "cancelled": _("cancelled"),
}


class ContactLogQuerySet(VisibleQuerySet["ContactLog"]):
    def visible_to(self, user: User) -> ContactLogQuerySet:
        """A logged contact is visible with its customer."""
        return self.filter(customer__in=Customer.objects.visible_to(user))


class ContactLog(models.Model):
    """A phone call, letter or social-media contact an agent recorded."""

    class Direction(models.TextChoices):
        INBOUND = "in", _("inbound")
        OUTBOUND = "out", _("outbound")

    class Outcome(models.TextChoices):
        RESOLVED = "resolved", _("resolved")
        FOLLOW_UP = "follow_up", _("follow-up needed")
        NO_ANSWER = "no_answer", _("no answer / voicemail")
        INFORMATION = "information", _("information given")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="contact_logs")
    ticket = models.ForeignKey(
        "service.Ticket",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="contact_logs",
    )
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    direction = models.CharField(_("direction"), max_length=3, choices=Direction.choices)
    duration_seconds = models.PositiveIntegerField(_("duration (s)"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices)
    note = models.TextField(_("note"), blank=True)
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    occurred_at = models.DateTimeField(_("time"))

    objects = ContactLogQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(channel__in=["phone", "letter", "social", "in_person"]),
                name="contact_log_offline_channel",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.direction} {self.occurred_at:%Y-%m-%d}"
