"""Ticket use cases: create, reply, change (status, assignment), solve, close, merge, split.

Rules that live here and nowhere else:

* Status changes follow ``models.ALLOWED_TRANSITIONS``.
* A stale save (``expected_version`` differs) raises ``ConflictError``; nothing
  is overwritten.
* A customer message on a **solved** ticket reopens it; on a **closed** ticket it
  opens a new ticket linked to the old one (``follow_up_of``). An agent cannot
  send a public reply on a closed ticket (internal notes are allowed).
* Closing a ticket that was not solved at first contact needs a root cause and
  a resolution.
* Every event lands on the customer timeline.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from stammkunde.core.access import User, acting_user
from stammkunde.core.audit import audit_record, diff, snapshot
from stammkunde.core.errors import ApplicationError, ConflictError, validated
from stammkunde.core.hooks import hook_run
from stammkunde.core.sequences import counter_next
from stammkunde.customers.models import Customer, Interaction
from stammkunde.customers.selectors import customer_matching_email

from .. import sla
from ..fcr import FCR_WINDOW, same_matter_q
from ..models import (
    ALLOWED_TRANSITIONS,
    OPEN_STATUSES,
    Attachment,
    Category,
    Message,
    Priority,
    Queue,
    RootCause,
    Status,
    Team,
    Ticket,
    TicketArticle,
    TicketTag,
)
from .events import timeline_add

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
ALLOWED_ATTACHMENT_TYPES = frozenset(
    {
        "application/pdf",
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/webp",
        "text/plain",
        "text/csv",
        "message/rfc822",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }
)
AUDITED_FIELDS = (
    "subject",
    "customer",
    "type",
    "category",
    "priority",
    "queue",
    "team",
    "assignee",
    "status",
    "root_cause",
    "resolution",
    "order",
    "order_line",
    "product",
)
UNSET: Any = object()


def ticket_number_format(year: int, value: int) -> str:
    return f"{year}-{value:06d}"


def _save(ticket: Ticket, now: datetime) -> None:
    ticket.version += 1
    ticket.updated_at = now
    ticket.save()


def _lock(ticket: Ticket, expected_version: int | None) -> Ticket:
    locked = (
        Ticket.objects.select_for_update(of=("self",))
        .select_related("queue__calendar", "customer", "sla_policy")
        .get(pk=ticket.pk)
    )
    if expected_version is not None and locked.version != expected_version:
        raise ConflictError(
            _(
                "Someone else changed this ticket meanwhile (now version %(v)s); "
                "nothing was saved. Reload and try again."
            )
            % {"v": locked.version},
            code="stale",
        )
    return locked


@dataclass(frozen=True)
class TicketLinks:
    """Order, order line and product a ticket is about (a return links its line)."""

    order: Any = None
    order_line: Any = None
    product: Any = None


@transaction.atomic
def ticket_create(
    *,
    actor: User | None,
    subject: str,
    body: str,
    queue: Queue,
    customer: Customer | None = None,
    sender_email: str = "",
    type: str = Ticket.Type.INQUIRY,
    category: Category | None = None,
    channel: str = "email",
    priority: str = Priority.NORMAL,
    team: Team | None = None,
    assignee: Any = None,
    tags: Iterable[str] = (),
    links: TicketLinks | None = None,
    from_customer: bool = True,
    follow_up_of: Ticket | None = None,
    now: datetime | None = None,
) -> Ticket:
    """Open a ticket with its first message and start the SLA clock.

    A sender email that belongs to a customer is matched at once. A new contact
    about the same matter within 7 days of a solved ticket marks that ticket as
    not solved at first contact (see docs/service-desk.md).
    """
    now = now or timezone.now()
    links = links or TicketLinks()
    if customer is None and sender_email:
        customer = customer_matching_email(address=sender_email)
    order_line, order, product = links.order_line, links.order, links.product
    if order_line is not None:
        order = order or order_line.order
        product = product or order_line.product
        if order_line.order_id != order.pk:
            raise ApplicationError(
                _("The order line belongs to another order."),
                field_errors={"order_line": [_("Not a line of this order.")]},
            )
    if order is not None and customer is not None and order.customer_id != customer.pk:
        raise ApplicationError(
            _("The order belongs to another customer."),
            field_errors={"order": [_("Not an order of this customer.")]},
        )
    if not body.strip():
        raise ApplicationError(
            _("The first message must not be empty."),
            field_errors={"body": [_("This field is required.")]},
        )
    ticket = Ticket(
        number="pending",
        subject=subject.strip(),
        customer=customer,
        sender_email=sender_email.strip().lower(),
        type=type,
        category=category,
        channel=channel,
        priority=priority,
        queue=queue,
        team=team or queue.team,
        assignee=assignee,
        order=order,
        order_line=order_line,
        product=product,
        follow_up_of=follow_up_of,
        created_at=now,
        updated_at=now,
    )
    if customer is None and not ticket.sender_email:
        raise ApplicationError(
            _("A ticket needs a customer or a sender email."),
            field_errors={"customer": [_("Choose a customer or give an email address.")]},
        )
    validated(ticket, exclude=["number"])
    ticket.number = ticket_number_format(now.year, counter_next(f"ticket-{now.year}"))
    sla.sla_start(ticket, now=now)
    ticket.save()
    if tags:
        ticket.tags.set(_tags(tags))
    Message.objects.create(
        ticket=ticket,
        kind=Message.Kind.PUBLIC if from_customer else Message.Kind.INTERNAL,
        direction=Message.Direction.INBOUND if from_customer else Message.Direction.INTERNAL,
        author=None if from_customer else acting_user(actor),
        body=body.strip(),
        channel=channel,
        created_at=now,
    )
    audit_record(
        actor=actor,
        action="create",
        obj=ticket,
        customer_id=ticket.customer_id,
        changes=snapshot(ticket, AUDITED_FIELDS),
    )
    timeline_add(
        ticket,
        kind="created",
        summary=f"{ticket.get_type_display()}: {ticket.subject}",
        actor=actor,
        at=now,
        direction=Interaction.Direction.INBOUND,
    )
    _mark_earlier_not_fcr(ticket, now=now)
    # Every channel (mail, web form, phone, survey follow-up, split) opens tickets here.
    hook_run("ticket_created", ticket=ticket)
    return ticket


def _mark_earlier_not_fcr(ticket: Ticket, *, now: datetime) -> None:
    """A new contact about the same matter breaks FCR of tickets solved within 7 days."""
    if ticket.customer_id is None:
        return
    earlier = (
        Ticket.objects.filter(same_matter_q(ticket))
        .filter(solved_at__gte=now - FCR_WINDOW, solved_at__lte=now)
        .exclude(pk=ticket.pk)
        .filter(first_contact_resolved=True)
    )
    for previous in earlier.select_for_update(of=("self",)):
        previous.first_contact_resolved = False
        previous.save(update_fields=["first_contact_resolved"])
        timeline_add(
            previous,
            kind="fcr_broken",
            summary=_("contacted again about the same matter (%(number)s)")
            % {"number": ticket.number},
            actor=None,
            at=now,
        )
        if ticket.follow_up_of_id is None:
            ticket.follow_up_of = previous
            ticket.save(update_fields=["follow_up_of"])


def _tags(names: Iterable[str]) -> list[TicketTag]:
    clean = sorted({n.strip().lower() for n in names if n and n.strip()})
    TicketTag.objects.bulk_create([TicketTag(name=n) for n in clean], ignore_conflicts=True)
    return list(TicketTag.objects.filter(name__in=clean))


def _transition(ticket: Ticket, new: str, *, actor: User | None, now: datetime) -> None:
    """Move ``ticket`` (locked, unsaved) to status ``new`` and apply the rules of that step."""
    old = ticket.status
    if new == old:
        return
    if new not in ALLOWED_TRANSITIONS.get(old, frozenset()):
        raise ApplicationError(
            _("A ticket cannot go from %(old)s to %(new)s.")
            % {"old": Status(old).label, "new": Status(new).label},
            code="transition",
            field_errors={"status": [_("Not allowed from %(old)s.") % {"old": Status(old).label}]},
        )
    if new == Status.SOLVED:
        inbound = ticket.messages.filter(direction=Message.Direction.INBOUND).count()
        if ticket.first_contact_resolved is not False:
            ticket.first_contact_resolved = inbound <= 1
        ticket.solved_at = now
    elif new == Status.REOPENED:
        ticket.first_contact_resolved = False
        ticket.solved_at = None
    elif new == Status.CLOSED:
        if ticket.merged_into_id is None and ticket.first_contact_resolved is not True:
            errors = {}
            if ticket.root_cause_id is None:
                errors["root_cause"] = [_("Required: the ticket was not solved at first contact.")]
            if not ticket.resolution.strip():
                errors["resolution"] = [_("Required: the ticket was not solved at first contact.")]
            if errors:
                raise ApplicationError(
                    _(
                        "Closing a ticket not solved at first contact needs a root cause "
                        "and a resolution."
                    ),
                    code="root_cause_required",
                    field_errors=errors,
                )
        ticket.closed_at = now
    ticket.status = new
    sla.sla_on_status(ticket, old=old, new=new, now=now)
    timeline_add(
        ticket,
        kind="status",
        summary=_("status %(old)s → %(new)s")
        % {"old": Status(old).label, "new": Status(new).label},
        actor=actor,
        at=now,
    )
    if new == Status.SOLVED:
        hook_run("ticket_solved", ticket=ticket)


@transaction.atomic
def ticket_change(
    *,
    actor: User | None,
    ticket: Ticket,
    expected_version: int | None,
    status: str | None = None,
    assignee: Any = UNSET,
    team: Any = UNSET,
    queue: Queue | None = None,
    priority: str | None = None,
    type: str | None = None,
    category: Any = UNSET,
    customer: Any = UNSET,
    subject: str | None = None,
    tags: Iterable[str] | None = None,
    root_cause: Any = UNSET,
    resolution: str | None = None,
    now: datetime | None = None,
) -> Ticket:
    """Change fields and/or the status of a ticket under optimistic locking.

    Field changes are applied before the status change, so a root cause and a
    resolution given together with ``status="closed"`` count for closing.
    Raises ConflictError on a stale ``expected_version`` and ApplicationError on
    a forbidden transition.
    """
    now = now or timezone.now()
    locked = _lock(ticket, expected_version)
    before = snapshot(locked, AUDITED_FIELDS)
    old_tags = sorted(locked.tags.values_list("name", flat=True))
    plan_before = sla.sla_plan(locked)
    sla_inputs = _sla_inputs(locked)
    for name, value in (
        ("assignee", assignee),
        ("team", team),
        ("category", category),
        ("root_cause", root_cause),
        ("customer", customer),
    ):
        if value is not UNSET:
            setattr(locked, name, value)
    for name, value in (
        ("queue", queue),
        ("priority", priority),
        ("type", type),
        ("subject", subject),
        ("resolution", resolution),
    ):
        if value is not None:
            setattr(locked, name, value.strip() if isinstance(value, str) else value)
    if (
        isinstance(locked.root_cause, RootCause)
        and not locked.root_cause.active
        and (before["root_cause"] != locked.root_cause.pk)
    ):
        raise ApplicationError(
            _("This root cause is no longer in use."),
            field_errors={"root_cause": [_("Inactive root cause.")]},
        )
    validated(locked, exclude=["number"])
    if locked.status in OPEN_STATUSES and _sla_inputs(locked) != sla_inputs:
        sla.sla_replan(locked, plan_before, now=now)
    if status:
        _transition(locked, status, actor=actor, now=now)
    changes: dict[str, Any] = diff(before, snapshot(locked, AUDITED_FIELDS))
    if tags is not None:
        new_tags = _tags(tags)
        if sorted(t.name for t in new_tags) != old_tags:
            locked.tags.set(new_tags)
            changes["tags"] = [old_tags, sorted(t.name for t in new_tags)]
    if changes:
        _save(locked, now)
        audit_record(
            actor=actor,
            action="update",
            obj=locked,
            customer_id=locked.customer_id,
            changes=changes,
        )
        if "assignee" in changes:
            timeline_add(
                locked,
                kind="assigned",
                summary=_("assigned to %(user)s") % {"user": locked.assignee or "–"},
                actor=actor,
                at=now,
            )
        other = sorted(set(changes) - {"status", "assignee"})
        if other:
            timeline_add(
                locked,
                kind="changed",
                summary=_("changed: %(fields)s") % {"fields": ", ".join(other)},
                actor=actor,
                at=now,
            )
    return locked


def _sla_inputs(ticket: Ticket) -> tuple[Any, ...]:
    """What chooses a ticket's SLA policy and calendar."""
    value_class = ticket.customer.value_class if ticket.customer is not None else ""
    return (ticket.queue_id, ticket.priority, value_class)


def ticket_solve(
    *,
    actor: User | None,
    ticket: Ticket,
    expected_version: int | None,
    resolution: str | None = None,
    root_cause: Any = UNSET,
) -> Ticket:
    """Mark a ticket solved (the clock stops; FCR is decided from the contacts so far)."""
    return ticket_change(
        actor=actor,
        ticket=ticket,
        expected_version=expected_version,
        status=Status.SOLVED,
        resolution=resolution,
        root_cause=root_cause,
    )


def ticket_close(
    *,
    actor: User | None,
    ticket: Ticket,
    expected_version: int | None,
    resolution: str | None = None,
    root_cause: Any = UNSET,
) -> Ticket:
    """Close a solved ticket; without FCR a root cause and a resolution are required."""
    return ticket_change(
        actor=actor,
        ticket=ticket,
        expected_version=expected_version,
        status=Status.CLOSED,
        resolution=resolution,
        root_cause=root_cause,
    )


@transaction.atomic
def ticket_reply(
    *,
    actor: User | None,
    ticket: Ticket,
    body: str,
    kind: str = Message.Kind.PUBLIC,
    from_customer: bool = False,
    channel: str | None = None,
    then_status: str | None = None,
    expected_version: int | None = None,
    article_ids: Iterable[int] = (),
    now: datetime | None = None,
) -> Message:
    """Add a public reply, an internal note or a customer message to a ticket.

    A customer message on a solved ticket reopens it; on a closed ticket it
    opens a new ticket linked to the old one, and the returned message belongs
    to that new ticket. Agents cannot reply publicly on a closed ticket.
    ``then_status`` changes the status in the same step (e.g. "waiting for
    customer" or "solved"); ``article_ids`` records knowledge articles used.
    """
    now = now or timezone.now()
    if not body.strip():
        raise ApplicationError(
            _("The message must not be empty."),
            field_errors={"body": [_("This field is required.")]},
        )
    if kind not in Message.Kind.values:
        raise ApplicationError(_("Unknown message kind."), field_errors={"kind": [kind]})
    locked = _lock(ticket, expected_version)
    if from_customer:
        return _customer_message(actor, locked, body, channel or locked.channel, now)
    if locked.status == Status.CLOSED and kind == Message.Kind.PUBLIC:
        raise ApplicationError(
            _(
                "The ticket is closed; a public reply is not possible. The customer's next "
                "message opens a new ticket."
            ),
            code="closed",
            field_errors={"body": [_("The ticket is closed.")]},
        )
    public = kind == Message.Kind.PUBLIC
    message = Message.objects.create(
        ticket=locked,
        kind=kind,
        direction=Message.Direction.OUTBOUND if public else Message.Direction.INTERNAL,
        author=acting_user(actor),
        body=body.strip(),
        channel=channel or locked.channel,
        created_at=now,
    )
    if public:
        # The channels app emails it after commit (core.hooks, no upward import).
        hook_run("ticket_public_reply", message=message)
        sla.sla_on_public_reply(locked, now=now)
        if locked.status in (Status.NEW, Status.REOPENED) and not then_status:
            _transition(locked, Status.OPEN, actor=actor, now=now)
    if then_status:
        _transition(locked, then_status, actor=actor, now=now)
    if locked.assignee_id is None and public and acting_user(actor) is not None:
        locked.assignee = acting_user(actor)
    _articles_use(locked, article_ids, actor, now)
    _save(locked, now)
    timeline_add(
        locked,
        kind="reply" if public else "note",
        summary=body.strip().replace("\n", " ")[:200],
        actor=actor,
        at=now,
        channel=message.channel,
        direction=Interaction.Direction.OUTBOUND if public else Interaction.Direction.INTERNAL,
    )
    return message


def _customer_message(
    actor: User | None, ticket: Ticket, body: str, channel: str, now: datetime
) -> Message:
    if ticket.status == Status.CLOSED:
        follow_up = ticket_create(
            actor=actor,
            subject=ticket.subject,
            body=body,
            queue=ticket.queue,
            customer=ticket.customer,
            sender_email=ticket.sender_email,
            type=ticket.type,
            category=ticket.category,
            channel=channel,
            priority=ticket.priority,
            team=ticket.team,
            assignee=ticket.assignee,
            links=TicketLinks(
                order=ticket.order, order_line=ticket.order_line, product=ticket.product
            ),
            follow_up_of=ticket,
            now=now,
        )
        timeline_add(
            ticket,
            kind="follow_up",
            summary=_("new message opened %(number)s") % {"number": follow_up.number},
            actor=actor,
            at=now,
        )
        return follow_up.messages.get()
    message = Message.objects.create(
        ticket=ticket,
        kind=Message.Kind.PUBLIC,
        direction=Message.Direction.INBOUND,
        author=None,
        body=body.strip(),
        channel=channel,
        created_at=now,
    )
    if ticket.status == Status.SOLVED:
        _transition(ticket, Status.REOPENED, actor=actor, now=now)
    elif ticket.status == Status.WAITING_CUSTOMER:
        _transition(ticket, Status.OPEN, actor=actor, now=now)
    sla.sla_on_customer_message(ticket, now=now)
    _save(ticket, now)
    timeline_add(
        ticket,
        kind="customer_message",
        summary=body.strip()[:200],
        actor=actor,
        at=now,
        channel=channel,
        direction=Interaction.Direction.INBOUND,
    )
    return message


def _articles_use(
    ticket: Ticket, article_ids: Iterable[int], actor: User | None, now: datetime
) -> None:
    from stammkunde.knowledge.models import Article

    ids = {int(i) for i in article_ids}
    if not ids or actor is None:
        return
    visible = Article.objects.visible_to(actor).filter(pk__in=ids).values_list("pk", flat=True)
    TicketArticle.objects.bulk_create(
        [
            TicketArticle(ticket=ticket, article_id=pk, used_by=acting_user(actor), used_at=now)
            for pk in visible
        ],
        ignore_conflicts=True,
    )


@transaction.atomic
def attachment_add(
    *,
    actor: User | None,
    ticket: Ticket,
    upload: UploadedFile,
    message: Message | None = None,
    now: datetime | None = None,
) -> Attachment:
    """Store a file on a ticket through Django's storage; refuse large or unknown types.

    The type is taken from the file name, not from what the client claims, so
    that an executable cannot pass as a PDF by its header alone.
    """
    name = (upload.name or "").rsplit("/", 1)[-1].rsplit("\\", 1)[-1][:200]
    size = upload.size or 0
    if size > MAX_ATTACHMENT_BYTES:
        raise ApplicationError(
            _("The file is %(size).1f MB; at most %(max)d MB are allowed.")
            % {"size": size / 1024 / 1024, "max": MAX_ATTACHMENT_BYTES // 1024 // 1024},
            code="too_large",
            field_errors={"file": [_("File too large.")]},
        )
    if size == 0:
        raise ApplicationError(
            _("The file is empty."), code="empty", field_errors={"file": [_("The file is empty.")]}
        )
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    if content_type not in ALLOWED_ATTACHMENT_TYPES:
        raise ApplicationError(
            _(
                "Files of type %(type)s are not allowed (allowed: PDF, images, text, CSV, "
                "Word, Excel, email)."
            )
            % {"type": content_type},
            code="file_type",
            field_errors={"file": [_("File type not allowed.")]},
        )
    now = now or timezone.now()
    attachment = Attachment(
        ticket=ticket,
        message=message,
        name=name,
        size=size,
        content_type=content_type,
        created_at=now,
        uploaded_by=acting_user(actor),
    )
    attachment.file.save(name, upload, save=False)
    try:
        attachment.save()
    except Exception:
        attachment.file.delete(save=False)
        raise
    timeline_add(ticket, kind="attachment", summary=name, actor=actor, at=now)
    return attachment


@transaction.atomic
def ticket_merge(
    *,
    actor: User | None,
    source: Ticket,
    target: Ticket,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Ticket:
    """Move everything of ``source`` into ``target`` and close ``source`` as merged.

    Both must be about the same customer (or the source has none yet).
    """
    now = now or timezone.now()
    if source.pk == target.pk:
        raise ApplicationError(
            _("A ticket cannot be merged into itself."),
            field_errors={"target": [_("Choose another ticket.")]},
        )
    first, second = sorted([source.pk, target.pk])
    locked = {
        t.pk: t
        for t in Ticket.objects.select_for_update(of=("self",))
        .select_related("queue__calendar", "customer")
        .filter(pk__in=[first, second])
        .order_by("pk")
    }
    src, dst = locked[source.pk], locked[target.pk]
    if expected_version is not None and src.version != expected_version:
        raise ConflictError(_("Someone else changed this ticket meanwhile; reload."), code="stale")
    if dst.status == Status.CLOSED or src.status == Status.CLOSED:
        raise ApplicationError(
            _("Closed tickets cannot be merged."),
            code="closed",
            field_errors={"target": [_("The ticket is closed.")]},
        )
    if src.customer_id and dst.customer_id and src.customer_id != dst.customer_id:
        raise ApplicationError(
            _("The tickets belong to different customers."),
            field_errors={"target": [_("Another customer's ticket.")]},
        )
    src.messages.update(ticket=dst)
    src.attachments.update(ticket=dst)
    src.goodwill.update(ticket=dst)
    for use in TicketArticle.objects.filter(ticket=src):
        TicketArticle.objects.get_or_create(
            ticket=dst,
            article_id=use.article_id,
            defaults={"used_by": use.used_by, "used_at": use.used_at},
        )
    Message.objects.create(
        ticket=dst,
        kind=Message.Kind.INTERNAL,
        direction=Message.Direction.INTERNAL,
        author=acting_user(actor),
        body=_("Merged from %(number)s: %(subject)s")
        % {"number": src.number, "subject": src.subject},
        channel=dst.channel,
        created_at=now,
    )
    if dst.customer_id is None and src.customer_id:
        dst.customer = src.customer
    src.merged_into = dst
    old = src.status
    src.status = Status.CLOSED
    src.closed_at = now
    sla.sla_on_status(src, old=old, new=Status.CLOSED, now=now)
    _save(src, now)
    _save(dst, now)
    audit_record(
        actor=actor,
        action="merge",
        obj=dst,
        customer_id=dst.customer_id,
        changes={"merged": src.number},
    )
    timeline_add(
        dst,
        kind="merged",
        summary=_("%(source)s merged into this ticket") % {"source": src.number},
        actor=actor,
        at=now,
    )
    return dst


@transaction.atomic
def ticket_split(
    *,
    actor: User | None,
    ticket: Ticket,
    message_ids: Iterable[int],
    subject: str,
    now: datetime | None = None,
) -> Ticket:
    """Move some customer messages of a ticket into a new ticket about a separate matter."""
    now = now or timezone.now()
    locked = _lock(ticket, None)
    ids = {int(i) for i in message_ids}
    messages = list(locked.messages.filter(pk__in=ids).order_by("created_at", "id"))
    if not messages or len(messages) != len(ids):
        raise ApplicationError(
            _("Choose messages of this ticket to split off."),
            field_errors={"message_ids": [_("Unknown messages.")]},
        )
    if locked.messages.exclude(pk__in=ids).count() == 0:
        raise ApplicationError(
            _("At least one message must stay on the ticket."),
            field_errors={"message_ids": [_("Leave one message.")]},
        )
    new = ticket_create(
        actor=actor,
        subject=subject or locked.subject,
        body=messages[0].body,
        queue=locked.queue,
        customer=locked.customer,
        sender_email=locked.sender_email,
        type=locked.type,
        category=locked.category,
        channel=messages[0].channel,
        priority=locked.priority,
        team=locked.team,
        now=now,
        from_customer=messages[0].direction == Message.Direction.INBOUND,
    )
    new.messages.all().delete()  # the moved messages keep their original time and author
    Message.objects.filter(pk__in=ids).update(ticket=new)
    Attachment.objects.filter(message_id__in=ids).update(ticket=new)
    new.split_from = locked
    new.save(update_fields=["split_from"])
    _save(locked, now)
    timeline_add(
        locked,
        kind="split",
        summary=_("split into %(number)s") % {"number": new.number},
        actor=actor,
        at=now,
    )
    return new
