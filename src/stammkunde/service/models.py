"""Tickets, queues, SLA policies, goodwill and the lists agents maintain.

The status workflow (which status may follow which) is ``ALLOWED_TRANSITIONS``
below and nowhere else.
"""

from __future__ import annotations

from datetime import date
from typing import TypeVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from stammkunde.core.access import User, VisibleQuerySet
from stammkunde.core.models import ServicePartner
from stammkunde.core.roles import is_internal, partner_id_of
from stammkunde.customers.models import Channel, Customer

from .calendar import BusinessHours, parse_hours


class Status(models.TextChoices):
    NEW = "new", _("new")
    OPEN = "open", _("open")
    WAITING_CUSTOMER = "waiting_customer", _("waiting for customer")
    WAITING_THIRD_PARTY = "waiting_third_party", _("waiting for third party")
    SOLVED = "solved", _("solved")
    CLOSED = "closed", _("closed")
    REOPENED = "reopened", _("reopened")


_WORKING = {Status.OPEN, Status.WAITING_CUSTOMER, Status.WAITING_THIRD_PARTY, Status.SOLVED}
# The one place that says which status may follow which.
ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    Status.NEW: frozenset(_WORKING),
    Status.OPEN: frozenset(_WORKING - {Status.OPEN}),
    Status.WAITING_CUSTOMER: frozenset(_WORKING - {Status.WAITING_CUSTOMER}),
    Status.WAITING_THIRD_PARTY: frozenset(_WORKING - {Status.WAITING_THIRD_PARTY}),
    Status.REOPENED: frozenset(_WORKING),
    Status.SOLVED: frozenset({Status.REOPENED, Status.CLOSED}),
    Status.CLOSED: frozenset(),
}
# The SLA clock runs in these; it pauses while waiting for the customer and stops when solved.
CLOCK_RUNNING = frozenset({Status.NEW, Status.OPEN, Status.WAITING_THIRD_PARTY, Status.REOPENED})
OPEN_STATUSES = frozenset(ALLOWED_TRANSITIONS) - {Status.SOLVED, Status.CLOSED}
# The same in a fixed order: partial indexes and the inbox queries must use the identical list.
OPEN_STATUS_LIST = tuple(s.value for s in Status if s in OPEN_STATUSES)
_OPEN_Q = Q(status__in=OPEN_STATUS_LIST)


class Priority(models.TextChoices):
    LOW = "low", _("low")
    NORMAL = "normal", _("normal")
    HIGH = "high", _("high")
    URGENT = "urgent", _("urgent")


class BusinessCalendar(models.Model):
    """Opening hours, public holidays of a German state and extra closed days."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    state = models.CharField(
        _("federal state"),
        max_length=10,
        blank=True,
        default="NW",
        help_text=_("Public holidays of this state, e.g. BY, NW, BE."),
    )
    timezone = models.CharField(_("time zone"), max_length=50, default="Europe/Berlin")
    opening_hours = models.JSONField(
        _("opening hours"),
        default=dict,
        blank=True,
        help_text=_('Per weekday (0 = Monday): {"0": [["08:00", "18:00"]]}; empty: Mon-Fri 8-18.'),
    )
    closed_days = models.JSONField(
        _("extra closed days"), default=list, blank=True, help_text=_("ISO dates, e.g. 2026-12-24.")
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("business calendar")
        verbose_name_plural = _("business calendars")

    def __str__(self) -> str:
        return self.name

    def business_hours(self) -> BusinessHours:
        return BusinessHours(
            hours=parse_hours(self.opening_hours),
            state=self.state,
            closed_days=frozenset(date.fromisoformat(d) for d in self.closed_days or []),
            tz=self.timezone,
        )


class Team(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    lead = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="led_teams",
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="service_teams"
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("team")
        verbose_name_plural = _("teams")

    def __str__(self) -> str:
        return self.name


class QueueQuerySet(VisibleQuerySet["Queue"]):
    def visible_to(self, user: User) -> QueueQuerySet:
        """Internal staff see every queue; a partner agent only its partner's queues."""
        if is_internal(user):
            return self.all()
        partner_id = partner_id_of(user)
        if partner_id is not None:
            return self.filter(partner_id=partner_id)
        return self.none()


class Queue(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    partner = models.ForeignKey(
        ServicePartner,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="queues",
        verbose_name=_("service partner"),
    )
    calendar = models.ForeignKey(
        BusinessCalendar,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="queues",
        verbose_name=_("business calendar"),
    )
    team = models.ForeignKey(
        Team,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="queues",
        verbose_name=_("team"),
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="service_queues"
    )

    objects = QueueQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("queue")
        verbose_name_plural = _("queues")

    def __str__(self) -> str:
        return self.name

    def business_hours(self) -> BusinessHours:
        return self.calendar.business_hours() if self.calendar else BusinessHours()


class Category(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("category")
        verbose_name_plural = _("categories")

    def __str__(self) -> str:
        return self.name


class RootCause(models.Model):
    """A maintained list of why a matter was not solved at first contact."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    description = models.CharField(_("description"), max_length=300, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("root cause")
        verbose_name_plural = _("root causes")

    def __str__(self) -> str:
        return self.name


class TicketTag(models.Model):
    name = models.CharField(_("name"), max_length=60, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class SLAPolicy(models.Model):
    """Targets in working minutes; empty queue, value class or priority match any."""

    name = models.CharField(_("name"), max_length=100)
    queue = models.ForeignKey(
        Queue, null=True, blank=True, on_delete=models.CASCADE, related_name="sla_policies"
    )
    value_class = models.CharField(
        _("value class"), max_length=1, blank=True, choices=Customer.ValueClass.choices
    )
    priority = models.CharField(_("priority"), max_length=10, blank=True, choices=Priority.choices)
    first_response_minutes = models.PositiveIntegerField(_("first response (working min)"))
    next_response_minutes = models.PositiveIntegerField(_("next response (working min)"))
    resolution_minutes = models.PositiveIntegerField(_("resolution (working min)"))

    class Meta:
        ordering = ["name"]
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        constraints = [
            models.UniqueConstraint(
                fields=["queue", "value_class", "priority"], name="sla_policy_unique_scope"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class TicketQuerySet(VisibleQuerySet["Ticket"]):
    def visible_to(self, user: User) -> TicketQuerySet:
        """Internal staff see every ticket; a partner agent only those in its partner's queues."""
        if is_internal(user):
            return self.all()
        partner_id = partner_id_of(user)
        if partner_id is not None:
            # A subquery, not a join: the planner can then use the (queue, -id) index.
            return self.filter(
                queue_id__in=Queue.objects.filter(partner_id=partner_id).values("id")
            )
        return self.none()

    def open(self) -> TicketQuerySet:
        """Tickets that still need work (not solved, not closed)."""
        return self.filter(status__in=OPEN_STATUS_LIST)


class Ticket(models.Model):
    class Type(models.TextChoices):
        COMPLAINT = "complaint", _("complaint")
        RETURN = "return", _("return")
        CLAIM = "claim", _("claim (Reklamation)")
        INQUIRY = "inquiry", _("product inquiry")
        OTHER = "other", _("other")

    class FcrReason(models.TextChoices):
        """Why ``first_contact_resolved`` is what it is (set where it is decided)."""

        ONE_CONTACT = "one_contact", _("solved after one customer contact")
        SEVERAL_CONTACTS = "several_contacts", _("the customer wrote more than once")
        REOPENED = "reopened", _("reopened after it was solved")
        CONTACTED_AGAIN = "contacted_again", _("contacted again about the same matter")

    number = models.CharField(_("ticket number"), max_length=20, unique=True)
    subject = models.CharField(_("subject"), max_length=200)
    customer = models.ForeignKey(
        Customer,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tickets",
        verbose_name=_("customer"),
    )
    sender_email = models.EmailField(
        _("sender email"), blank=True, help_text=_("For a sender not yet matched to a customer.")
    )
    type = models.CharField(_("type"), max_length=10, choices=Type.choices, default=Type.INQUIRY)
    category = models.ForeignKey(
        Category,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tickets",
        verbose_name=_("category"),
    )
    product = models.ForeignKey(
        "commerce.Product", null=True, blank=True, on_delete=models.PROTECT, related_name="tickets"
    )
    order = models.ForeignKey(
        "commerce.Order", null=True, blank=True, on_delete=models.PROTECT, related_name="tickets"
    )
    order_line = models.ForeignKey(
        "commerce.OrderLine",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tickets",
    )
    channel = models.CharField(
        _("channel of first contact"), max_length=20, choices=Channel.choices, default=Channel.EMAIL
    )
    priority = models.CharField(
        _("priority"), max_length=10, choices=Priority.choices, default=Priority.NORMAL
    )
    queue = models.ForeignKey(
        Queue, on_delete=models.PROTECT, related_name="tickets", verbose_name=_("queue")
    )
    team = models.ForeignKey(
        Team,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tickets",
        verbose_name=_("team"),
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_tickets",
        verbose_name=_("assignee"),
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.NEW
    )
    tags = models.ManyToManyField(TicketTag, blank=True, related_name="tickets")
    version = models.PositiveIntegerField(default=1)
    root_cause = models.ForeignKey(
        RootCause,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tickets",
        verbose_name=_("root cause"),
    )
    resolution = models.TextField(_("resolution"), blank=True)
    first_contact_resolved = models.BooleanField(
        _("solved at first contact"), null=True, blank=True
    )
    fcr_reason = models.CharField(
        _("reason for FCR"), max_length=20, choices=FcrReason.choices, blank=True
    )
    follow_up_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="follow_ups"
    )
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged_from"
    )
    split_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="split_into"
    )
    created_at = models.DateTimeField(_("created"), db_index=True)
    updated_at = models.DateTimeField(_("updated"))
    first_response_at = models.DateTimeField(_("first response"), null=True, blank=True)
    solved_at = models.DateTimeField(_("solved"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    # SLA state, kept by service.sla: due times move while the clock is paused.
    sla_policy = models.ForeignKey(
        SLAPolicy, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    first_response_due = models.DateTimeField(null=True, blank=True)
    next_response_due = models.DateTimeField(null=True, blank=True)
    resolution_due = models.DateTimeField(null=True, blank=True)
    sla_due = models.DateTimeField(
        _("next SLA due"), null=True, blank=True, help_text=_("The earliest pending due time.")
    )
    sla_paused_at = models.DateTimeField(null=True, blank=True)
    first_response_breached = models.BooleanField(default=False)
    next_response_breached = models.BooleanField(default=False)
    resolution_breached = models.BooleanField(default=False)
    sla_warned_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)

    objects = TicketQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        indexes = [
            models.Index(fields=["status", "-id"], name="ticket_status_id"),
            # Partial indexes over open tickets only: the inbox views stay small and
            # ordered at a million tickets (most tickets are closed).
            models.Index(fields=["-id"], condition=_OPEN_Q, name="ticket_open_id"),
            models.Index(
                fields=["assignee", "-id"], condition=_OPEN_Q, name="ticket_open_assignee"
            ),
            models.Index(fields=["queue", "-id"], condition=_OPEN_Q, name="ticket_open_queue"),
            models.Index(fields=["sla_due"], condition=_OPEN_Q, name="ticket_open_sla_due"),
            models.Index(fields=["customer", "-created_at"], name="ticket_customer"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(customer__isnull=False) | ~Q(sender_email=""),
                name="ticket_has_customer_or_sender",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.subject}"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("service:ticket", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def any_breach(self) -> bool:
        return (
            self.first_response_breached or self.next_response_breached or self.resolution_breached
        )


_Child = TypeVar("_Child", bound=models.Model)


class TicketChildQuerySet(VisibleQuerySet[_Child]):
    def visible_to(self, user: User) -> TicketChildQuerySet[_Child]:
        """Visible with its ticket."""
        return self.filter(ticket__in=Ticket.objects.visible_to(user).values("id"))


class MessageQuerySet(TicketChildQuerySet["Message"]):
    pass


class AttachmentQuerySet(TicketChildQuerySet["Attachment"]):
    pass


class GoodwillQuerySet(TicketChildQuerySet["GoodwillGrant"]):
    pass


class Message(models.Model):
    class Kind(models.TextChoices):
        PUBLIC = "public", _("public reply")
        INTERNAL = "internal", _("internal note")

    class Direction(models.TextChoices):
        INBOUND = "in", _("from customer")
        OUTBOUND = "out", _("to customer")
        INTERNAL = "internal", _("internal")

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    direction = models.CharField(_("direction"), max_length=10, choices=Direction.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = models.TextField(_("text"))
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    created_at = models.DateTimeField(_("time"), db_index=True)

    objects = MessageQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["ticket", "created_at"], name="message_ticket")]

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.get_kind_display()}"


def _attachment_path(instance: Attachment, filename: str) -> str:
    return f"tickets/{instance.ticket_id}/{filename}"


class Attachment(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="attachments")
    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="attachments"
    )
    file = models.FileField(_("file"), upload_to=_attachment_path, max_length=300)
    name = models.CharField(_("file name"), max_length=200)
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    content_type = models.CharField(_("type"), max_length=100)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("time"))

    objects = AttachmentQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.name


class GoodwillGrant(models.Model):
    """A gesture of goodwill; above the agent's limit a team lead decides."""

    class Kind(models.TextChoices):
        VOUCHER = "voucher", _("voucher")
        CREDIT = "credit", _("credit note")
        FREE_SERVICE = "free_service", _("free service")
        POINTS = "points", _("loyalty points")

    class Status(models.TextChoices):
        REQUESTED = "requested", _("requested")
        APPROVED = "approved", _("approved")
        REJECTED = "rejected", _("rejected")
        GRANTED = "granted", _("granted")

    ticket = models.ForeignKey(Ticket, on_delete=models.PROTECT, related_name="goodwill")
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.PROTECT, related_name="goodwill_grants"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    amount = models.DecimalField(_("value (EUR)"), max_digits=10, decimal_places=2)
    reason = models.CharField(_("reason"), max_length=300)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(_("decision note"), max_length=300, blank=True)
    # ``<ticket id>:<key of the rendered form>``: the same form sent twice grants once.
    request_key = models.CharField(max_length=160, null=True, blank=True, unique=True)
    # Which cumulative limit sent the request to a team lead, and what was left of it.
    limit_note = models.CharField(_("limit"), max_length=300, blank=True)

    objects = GoodwillQuerySet.as_manager()

    class Meta:
        ordering = ["-requested_at", "-id"]
        verbose_name = _("goodwill")
        verbose_name_plural = _("goodwill")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="goodwill_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount} EUR ({self.status})"


class ReplyTemplate(models.Model):
    """A canned reply; placeholders {customer_name} {ticket_number} {order_number}."""

    name = models.CharField(_("name"), max_length=100)
    language = models.CharField(_("language"), max_length=5, choices=settings.LANGUAGES)
    body = models.TextField(_("text"))
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name", "language"]
        verbose_name = _("reply template")
        verbose_name_plural = _("reply templates")
        constraints = [
            models.UniqueConstraint(fields=["name", "language"], name="template_name_language"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.language})"


class Macro(models.Model):
    """Set fields and reply in one step."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    set_status = models.CharField(_("status"), max_length=20, choices=Status.choices, blank=True)
    set_priority = models.CharField(
        _("priority"), max_length=10, choices=Priority.choices, blank=True
    )
    set_team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    add_tags = models.JSONField(_("tags to add"), default=list, blank=True)
    template = models.ForeignKey(
        ReplyTemplate,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Replied in the customer's language if it exists."),
    )
    reply_kind = models.CharField(
        _("reply kind"), max_length=10, choices=Message.Kind.choices, default=Message.Kind.PUBLIC
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("macro")
        verbose_name_plural = _("macros")

    def __str__(self) -> str:
        return self.name


class TicketArticle(models.Model):
    """A knowledge article inserted into a reply on a ticket (for the usage count)."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="articles")
    article = models.ForeignKey(
        "knowledge.Article", on_delete=models.CASCADE, related_name="ticket_uses"
    )
    used_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    used_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["ticket", "article"], name="ticket_article_once"),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id}: article {self.article_id}"


class Notification(models.Model):
    """Something a person must look at: SLA warnings, breaches, goodwill requests."""

    class Kind(models.TextChoices):
        SLA_WARNING = "sla_warning", _("SLA breach soon")
        SLA_BREACH = "sla_breach", _("SLA breached")
        ESCALATION = "escalation", _("escalated")
        GOODWILL = "goodwill", _("goodwill to decide")
        GOODWILL_DECIDED = "goodwill_decided", _("goodwill decided")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="service_notifications"
    )
    ticket = models.ForeignKey(
        Ticket, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    text = models.CharField(max_length=300)
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at"], name="notification_unread")]

    def __str__(self) -> str:
        return f"{self.kind}: {self.text}"
