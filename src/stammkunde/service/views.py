"""The agent UI: inbox, ticket page, forms that post to one service each."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from stammkunde.core.audit import audit_read
from stammkunde.core.errors import ApplicationError
from stammkunde.core.roles import ADMIN, ROUTE_ACCESS, TEAM_LEAD, has_role
from stammkunde.customers.models import Customer

from . import selectors, services
from .forms import ChangeForm, GoodwillForm, ReplyForm, TicketCreateForm
from .models import GoodwillGrant, Macro, ReplyTemplate, Status, Ticket

PAGE_SIZE = 50


def _need(request: HttpRequest, perm: str) -> None:
    if not request.user.has_perm(f"service.{perm}"):
        raise PermissionDenied


def _error(request: HttpRequest, exc: ApplicationError) -> None:
    details = "; ".join(f"{' '.join(v)}" for v in exc.field_errors.values())
    messages.error(
        request,
        f"{exc.message} {details}".strip()
        if details and details not in exc.message
        else exc.message,
    )


def _count_label(count: int | None) -> str | None:
    if count is None:
        return None
    return f"{selectors.COUNT_CAP - 1}+" if count >= selectors.COUNT_CAP else str(count)


@login_required
def inbox_view(request: HttpRequest) -> HttpResponse:
    """The inbox: one view of tickets, keyset-paged; htmx gets the table only."""
    _need(request, "view_ticket")
    queue_raw = request.GET.get("queue", "")
    filters = selectors.InboxFilter(
        view=request.GET.get("view", "mine"),
        q=request.GET.get("q", ""),
        queue=int(queue_raw) if queue_raw.isdigit() else None,
        status=request.GET.get("status", ""),
        type=request.GET.get("type", ""),
    )
    after_raw = request.GET.get("after", "")
    size_raw = request.GET.get("size", "")
    size = min(int(size_raw), 200) if size_raw.isdigit() and int(size_raw) > 0 else PAGE_SIZE
    rows, next_after = selectors.inbox_page(
        selectors.inbox_list(user=request.user, filters=filters),
        after=int(after_raw) if after_raw.isdigit() else None,
        size=size,
        ordered_by_due=filters.view == "breaching",
    )
    audit_read(request, [t.customer_id for t in rows])  # the rows show customer names
    query = request.GET.copy()
    query.pop("after", None)
    context: dict[str, Any] = {
        "tickets": rows,
        "next_after": next_after,
        "filters": filters,
        "query": query.urlencode(),
        "now": timezone.now(),
        "soon": timezone.now() + selectors.BREACHING_WINDOW,
        "can_change": request.user.has_perm("service.change_ticket"),
    }
    htmx = getattr(request, "htmx", None)
    if htmx and not htmx.boosted:
        return render(request, "service/_inbox_rows.html", context)
    counts = selectors.inbox_counts(user=request.user)
    context.update(
        {
            "views": [
                (key, label, _count_label(counts.get(key)))
                for key, label in (
                    ("mine", _("Mine")),
                    ("my_queues", _("My queues")),
                    ("unassigned", _("Unassigned")),
                    ("breaching", _("Breaching soon")),
                    ("waiting", _("Waiting")),
                    ("open", _("All open")),
                )
            ],
            "notifications": selectors.notifications_for(user=request.user),
            "pending_goodwill": selectors.goodwill_pending(user=request.user)
            if has_role(request.user, TEAM_LEAD, ADMIN)
            else [],
            "statuses": Status.choices,
            "types": Ticket.Type.choices,
        }
    )
    return render(request, "service/inbox.html", context)


@login_required
@require_POST
def notifications_read_view(request: HttpRequest) -> HttpResponse:
    """Mark the user's notifications as read."""
    services.notifications_mark_read(user=request.user)
    return redirect("service:inbox")


@login_required
@require_POST
def bulk_view(request: HttpRequest) -> HttpResponse:
    """Assign to me, unassign or close (solved tickets) several tickets at once."""
    _need(request, "change_ticket")
    action = request.POST.get("action", "")
    ids = [int(i) for i in request.POST.getlist("ids") if i.isdigit()]
    done, failed = 0, []
    for ticket in Ticket.objects.visible_to(request.user).filter(pk__in=ids):
        try:
            if action == "assign_me":
                services.ticket_change(
                    actor=request.user, ticket=ticket, expected_version=None, assignee=request.user
                )
            elif action == "unassign":
                services.ticket_change(
                    actor=request.user, ticket=ticket, expected_version=None, assignee=None
                )
            elif action == "close":
                services.ticket_close(actor=request.user, ticket=ticket, expected_version=None)
            else:
                raise ApplicationError(_("Unknown action."))
            done += 1
        except ApplicationError as exc:
            failed.append(f"{ticket.number}: {exc.message}")
    if done:
        messages.success(request, _("%(n)d ticket(s) updated.") % {"n": done})
    for line in failed[:10]:
        messages.error(request, line)
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = ""
    return redirect(target or "service:inbox")


@login_required
def ticket_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The ticket page with the customer 360 sidebar."""
    _need(request, "view_ticket")
    ticket = selectors.ticket_get(user=request.user, pk=pk)
    audit_read(request, [ticket.customer_id])  # written in one insert after the response
    context = selectors.ticket_page_context(user=request.user, ticket=ticket)
    context.update(
        {
            "reply_form": ReplyForm(),
            "change_form": ChangeForm(
                user=request.user,
                initial={
                    "version": ticket.version,
                    "status": ticket.status,
                    "assignee": ticket.assignee_id,
                    "queue": ticket.queue_id,
                    "priority": ticket.priority,
                    "type": ticket.type,
                    "category": ticket.category_id,
                    "tags": ", ".join(context["tags"]),
                    "root_cause": ticket.root_cause_id,
                    "customer": ticket.customer_id,
                    "resolution": ticket.resolution,
                },
            ),
            "goodwill_form": GoodwillForm(),
            "goodwill_limit": services.goodwill_limit_of(request.user),
            "can_change": request.user.has_perm("service.change_ticket"),
            "can_decide": has_role(request.user, TEAM_LEAD, ADMIN),
            # who may open a privacy request: the route's roles (privacy sits above service)
            "can_open_privacy_request": has_role(
                request.user, *ROUTE_ACCESS["privacy:create"].roles
            ),
            "status_labels": dict(Status.choices),
        }
    )
    return render(request, "service/ticket.html", context)


def _ticket_action(perm: str = "change_ticket") -> Callable[..., Any]:
    """Decorate a POST handler: login, permission, visible ticket, errors as messages."""

    def wrap(handler: Callable[[HttpRequest, Ticket], HttpResponse | None]) -> Any:
        @login_required
        @require_POST
        def view(request: HttpRequest, pk: int) -> HttpResponse:
            _need(request, perm)
            ticket = selectors.ticket_get(user=request.user, pk=pk)
            try:
                response = handler(request, ticket)
            except ApplicationError as exc:
                _error(request, exc)
                response = None
            return response or redirect("service:ticket", pk=ticket.pk)

        view.__name__ = handler.__name__
        view.__doc__ = handler.__doc__
        return view

    return wrap


@_ticket_action()
def reply_view(request: HttpRequest, ticket: Ticket) -> HttpResponse | None:
    """Send a public reply or add a note, optionally with a file and a status."""
    form = ReplyForm(request.POST, request.FILES)
    if not form.is_valid():
        raise ApplicationError(
            _("The reply was not sent."),
            field_errors={k: [str(e) for e in v] for k, v in form.errors.items()},
        )
    data = form.cleaned_data
    message = services.ticket_reply(
        actor=request.user,
        ticket=ticket,
        body=data["body"],
        kind=data["kind"],
        then_status=data["then_status"] or None,
        article_ids=data["article_ids"],
    )
    if data.get("file"):
        services.attachment_add(
            actor=request.user, ticket=ticket, upload=data["file"], message=message
        )
    messages.success(request, _("Reply sent.") if data["kind"] == "public" else _("Note added."))
    return None


@_ticket_action()
def change_view(request: HttpRequest, ticket: Ticket) -> HttpResponse | None:
    """Save status, assignment and fields; a stale version is refused."""
    form = ChangeForm(request.POST, user=request.user)
    if not form.is_valid():
        raise ApplicationError(
            _("Nothing was saved."),
            field_errors={k: [str(e) for e in v] for k, v in form.errors.items()},
        )
    d = form.cleaned_data
    customer: Any = services.UNSET
    if d["customer"] is not None and d["customer"] != ticket.customer_id:
        customer = Customer.objects.visible_to(request.user).filter(pk=d["customer"] or 0).first()
        if customer is None:
            raise ApplicationError(
                _("Unknown customer."), field_errors={"customer": [_("Unknown customer.")]}
            )
    services.ticket_change(
        customer=customer,
        actor=request.user,
        ticket=ticket,
        expected_version=d["version"],
        status=d["status"],
        assignee=d["assignee"],
        queue=d["queue"],
        priority=d["priority"],
        type=d["type"],
        category=d["category"],
        tags=[t for t in d["tags"].split(",") if t.strip()],
        root_cause=d["root_cause"],
        resolution=d["resolution"],
    )
    messages.success(request, _("Ticket saved."))
    return None


@_ticket_action()
def goodwill_view(request: HttpRequest, ticket: Ticket) -> HttpResponse | None:
    """Grant goodwill within the limit, or ask a team lead above it."""
    form = GoodwillForm(request.POST)
    if not form.is_valid():
        raise ApplicationError(
            _("No goodwill recorded."),
            field_errors={k: [str(e) for e in v] for k, v in form.errors.items()},
        )
    grant = services.goodwill_request(actor=request.user, ticket=ticket, **form.cleaned_data)
    if grant.status == GoodwillGrant.Status.GRANTED:
        messages.success(request, _("Goodwill granted."))
    else:
        messages.warning(
            request,
            _("Above your limit: a team lead has been asked.")
            + (f" {grant.limit_note}" if grant.limit_note else ""),
        )
    return None


@login_required
@require_POST
def goodwill_decide_view(request: HttpRequest, pk: int) -> HttpResponse:
    """A team lead approves or rejects a goodwill request.

    Anyone else is refused before the request is looked up: the answer (a redirect to
    the ticket) would otherwise tell which ticket a goodwill id belongs to.
    """
    if not has_role(request.user, TEAM_LEAD, ADMIN):
        raise PermissionDenied
    grant = selectors.goodwill_get(user=request.user, pk=pk)
    try:
        services.goodwill_decide(
            actor=request.user,
            grant=grant,
            approve=request.POST.get("decision") == "approve",
            note=request.POST.get("note", ""),
        )
    except ApplicationError as exc:
        _error(request, exc)
    else:
        messages.success(request, _("Decision saved."))
    return redirect("service:ticket", pk=grant.ticket_id)


@_ticket_action()
def handover_view(request: HttpRequest, ticket: Ticket) -> HttpResponse | None:
    """Hand an upsell chance over to sales."""
    services.sales_handover_create(
        actor=request.user, ticket=ticket, note=request.POST.get("note", "")
    )
    messages.success(request, _("Handed over to sales."))
    return None


@_ticket_action()
def macro_view(request: HttpRequest, ticket: Ticket) -> HttpResponse | None:
    """Apply a macro."""
    macro = Macro.objects.filter(pk=request.POST.get("macro") or 0).first()
    if macro is None:
        raise ApplicationError(_("Choose a macro."), field_errors={"macro": [_("Required.")]})
    version = request.POST.get("version", "")
    services.macro_apply(
        actor=request.user,
        ticket=ticket,
        macro=macro,
        expected_version=int(version) if version.isdigit() else None,
    )
    messages.success(request, _("Macro “%(name)s” applied.") % {"name": macro.name})
    return None


@_ticket_action()
def merge_view(request: HttpRequest, ticket: Ticket) -> HttpResponse | None:
    """Merge this ticket into another one, given by number."""
    number = request.POST.get("target", "").strip()
    target = Ticket.objects.visible_to(request.user).filter(number=number).first()
    if target is None:
        raise ApplicationError(
            _("No ticket %(number)s.") % {"number": number},
            field_errors={"target": [_("Unknown ticket.")]},
        )
    merged = services.ticket_merge(actor=request.user, source=ticket, target=target)
    messages.success(request, _("Merged into %(number)s.") % {"number": merged.number})
    return redirect("service:ticket", pk=merged.pk)


@_ticket_action()
def split_view(request: HttpRequest, ticket: Ticket) -> HttpResponse | None:
    """Split chosen messages off into a new ticket."""
    new = services.ticket_split(
        actor=request.user,
        ticket=ticket,
        message_ids=[int(i) for i in request.POST.getlist("messages") if i.isdigit()],
        subject=request.POST.get("subject", ""),
    )
    messages.success(request, _("New ticket %(number)s.") % {"number": new.number})
    return redirect("service:ticket", pk=new.pk)


@login_required
def template_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Return the reply textarea filled with a template (htmx swaps it in)."""
    _need(request, "view_ticket")
    ticket = selectors.ticket_get(user=request.user, pk=pk)
    template = ReplyTemplate.objects.filter(
        pk=request.GET.get("template") or 0, active=True
    ).first()
    text = services.template_render(template=template, ticket=ticket) if template else ""
    current = request.GET.get("body", "").rstrip()
    form = ReplyForm(initial={"body": f"{current}\n\n{text}".strip() if current else text})
    return HttpResponse(str(form["body"]))


@login_required
def attachment_view(request: HttpRequest, pk: int) -> FileResponse:
    """Download an attachment through its ticket's access predicate."""
    _need(request, "view_ticket")
    attachment = selectors.attachment_get(user=request.user, pk=pk)
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404("File missing") from exc
    return FileResponse(
        handle, as_attachment=True, filename=attachment.name, content_type=attachment.content_type
    )


@login_required
def ticket_create_view(request: HttpRequest) -> HttpResponse:
    """Log a contact (phone, letter, counter) as a new ticket."""
    _need(request, "add_ticket")
    initial = {"customer": request.GET.get("customer", "")}
    form = TicketCreateForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            customer = None
            if d["customer"]:
                customer = (
                    Customer.objects.visible_to(request.user).filter(pk=d["customer"]).first()
                )
                if customer is None:
                    raise ApplicationError(
                        _("Unknown customer."), field_errors={"customer": [_("Unknown customer.")]}
                    )
            links = services.TicketLinks()
            if d["order_number"]:
                from stammkunde.commerce.models import Order

                order = (
                    Order.objects.visible_to(request.user).filter(number=d["order_number"]).first()
                )
                if order is None:
                    raise ApplicationError(
                        _("Unknown order."), field_errors={"order_number": [_("Unknown order.")]}
                    )
                links = services.TicketLinks(order=order)
            ticket = services.ticket_create(
                actor=request.user,
                subject=d["subject"],
                body=d["body"],
                queue=d["queue"],
                customer=customer,
                sender_email=d["sender_email"] or "",
                type=d["type"],
                category=d["category"],
                channel=d["channel"],
                priority=d["priority"],
                links=links,
            )
        except ApplicationError as exc:
            for field, errors in (exc.field_errors or {"__all__": [exc.message]}).items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, _("Ticket %(number)s created.") % {"number": ticket.number})
            return redirect(ticket)
    return render(request, "service/ticket_form.html", {"form": form})


@login_required
def reports_view(request: HttpRequest) -> HttpResponse:
    """FCR per channel, agent, queue and category; SLA breaches; root causes."""
    _need(request, "view_ticket")
    days_raw = request.GET.get("days", "30")
    days = int(days_raw) if days_raw.isdigit() and 0 < int(days_raw) <= 3650 else 30
    since = timezone.now() - timedelta(days=days)
    user = request.user
    context = {
        "days": days,
        "fcr_total": selectors.fcr_total(user=user, since=since),
        "fcr": {
            label: selectors.fcr_report(user=user, by=by, since=since)
            for by, label in (
                ("channel", _("Channel")),
                ("agent", _("Agent")),
                ("queue", _("Queue")),
                ("category", _("Category")),
            )
        },
        "sla": selectors.sla_report(user=user, since=since),
        "root_causes": selectors.root_cause_report(user=user, since=since),
    }
    return render(request, "service/reports.html", context)
