"""Quarantine for admins, the public contact form, contact logging, originals of mails."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_POST

from stammkunde.core.audit import audit_read
from stammkunde.core.errors import ApplicationError
from stammkunde.core.ratelimit import LIMIT_MESSAGE, rate_limited
from stammkunde.core.roles import ADMIN, has_role, is_internal
from stammkunde.customers.selectors import customer_get

from . import parsing, selectors, services
from .forms import ContactForm, ContactLogForm
from .models import InboundMessage


def _require_admin(request: HttpRequest) -> None:
    if not has_role(request.user, ADMIN):
        raise PermissionDenied


# Raw mails carry everything a customer wrote: only the roles that work the service desk
# read them (``core.roles.ROLE_PERMISSIONS["channels"]``), and only for tickets they see.
MAIL_PERMISSION = "channels.view_inboundmessage"


def _mail_get(request: HttpRequest, pk: int) -> InboundMessage:
    """The inbound mail ``pk`` if the user's role reads mails and it sees the ticket, else 404."""
    if not request.user.has_perm(MAIL_PERMISSION):
        raise Http404("Not found")
    return selectors.inbound_get(user=request.user, pk=pk)


@login_required
def quarantine_view(request: HttpRequest) -> HttpResponse:
    """Messages the pipeline could not process, with the reason (admins only)."""
    _require_admin(request)
    rows = list(selectors.quarantine_list(user=request.user)[:200])
    return render(request, "channels/quarantine.html", {"rows": rows})


@login_required
@require_POST
def reprocess_view(request: HttpRequest, pk: int) -> HttpResponse:
    _require_admin(request)
    inbound = selectors.inbound_get(user=request.user, pk=pk)
    try:
        result = services.mail_reprocess(inbound_id=inbound.pk, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("Message %(id)s: %(result)s %(reason)s")
            % {"id": inbound.pk, "result": result.result, "reason": result.reason},
        )
    return redirect("channels:quarantine")


@login_required
def inbound_raw_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The original message as received (.eml), for those who may see its ticket."""
    inbound = _mail_get(request, pk)
    response = HttpResponse(bytes(inbound.raw), content_type="message/rfc822")
    response["Content-Disposition"] = f'attachment; filename="message-{inbound.pk}.eml"'
    return response


@login_required
def inbound_attachment_view(request: HttpRequest, pk: int, index: int) -> HttpResponse:
    """An attachment of the original message (also those the ticket did not take, e.g. TNEF)."""
    inbound = _mail_get(request, pk)
    try:
        parsed = parsing.parse_message(bytes(inbound.raw), limits=services.mail_limits())
        attachment = parsed.attachments[index - 1]
    except (parsing.MailRejected, IndexError) as exc:
        raise Http404("No such attachment") from exc
    response = HttpResponse(attachment.payload, content_type="application/octet-stream")
    response["Content-Disposition"] = f'attachment; filename="{attachment.filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
def ticket_mail_view(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """The mails of a ticket: originals received and outbound state (failed ones stand out)."""
    from stammkunde.service.models import Ticket

    if not request.user.has_perm(MAIL_PERMISSION):
        raise Http404("Not found")
    if not Ticket.objects.visible_to(request.user).filter(pk=ticket_id).exists():
        raise Http404("Not found")
    context = selectors.ticket_mail_state(user=request.user, ticket_id=ticket_id)
    return render(request, "channels/_ticket_mail.html", context)


def _rate_limited(request: HttpRequest) -> bool:
    """Count a submission per address and per sender address; True when over the limit."""
    return rate_limited(request, "contact", account=str(request.POST.get("email", "")))


@csrf_protect
def contact_view(request: HttpRequest) -> HttpResponse:
    """The public contact form (no login): complaint, return or question."""
    form = ContactForm(request.POST or None)
    if request.method == "POST":
        if _rate_limited(request):
            return render(
                request, "channels/contact.html", {"form": form, "error": LIMIT_MESSAGE}, status=429
            )
        if form.is_valid():
            if form.is_spam():
                # Answer like a success so that bots learn nothing.
                return render(request, "channels/contact_done.html", {"number": None})
            data = form.cleaned_data
            try:
                ticket = services.contact_form_submit(
                    name=data["name"],
                    email=data["email"],
                    type=data["type"],
                    message=data["message"],
                    subject=data["subject"],
                    order_number=data["order_number"],
                    language=translation.get_language() or "de",
                )
            except ApplicationError as exc:
                for field, errors in (exc.field_errors or {"__all__": [exc.message]}).items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                return render(request, "channels/contact_done.html", {"number": ticket.number})
    return render(request, "channels/contact.html", {"form": form})


@login_required
@require_POST
def outbox_retry_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Queue a failed or deferred mail of a ticket again (from the message on the ticket page)."""
    outbox = selectors.outbox_get(user=request.user, pk=pk)
    if not request.user.has_perm("service.change_ticket") or outbox.ticket is None:
        raise Http404("Not found")
    try:
        services.outbox_retry(actor=request.user, outbox=outbox)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The mail to %(to)s is queued again.") % {"to": outbox.to})
    return redirect(outbox.ticket)


@login_required
def contact_log_view(request: HttpRequest, customer_id: int) -> HttpResponse:
    """Record a phone call, letter or social-media contact from the customer page.

    GET shows the form on its own page, with ``?ticket=`` preselected (the
    "log a call instead" link of an undeliverable mail).
    """
    customer = customer_get(user=request.user, pk=customer_id)
    if not is_internal(request.user):
        raise PermissionDenied
    if request.method != "POST":
        ticket_id = request.GET.get("ticket", "")
        form = ContactLogForm(
            customer=customer,
            initial={"ticket": ticket_id, "channel": "phone", "direction": "out"},
        )
        audit_read(request, [customer.pk])  # the page names the customer
        return render(request, "channels/contact_log.html", {"form": form, "customer": customer})
    form = ContactLogForm(request.POST, customer=customer)
    if not form.is_valid():
        messages.error(
            request,
            _("Contact not recorded: %(errors)s")
            % {
                "errors": "; ".join(
                    f"{k}: {' '.join(str(e) for e in v)}" for k, v in form.errors.items()
                )
            },
        )
        return redirect(customer)
    data = form.cleaned_data
    ticket = None
    if data["ticket"]:
        from stammkunde.service.models import Ticket

        ticket = (
            Ticket.objects.visible_to(request.user)
            .filter(pk=data["ticket"], customer=customer)
            .first()
        )
        if ticket is None:
            raise Http404("Not found")
    minutes = data.get("duration_minutes")
    try:
        services.contact_log_record(
            actor=request.user,
            customer=customer,
            channel=data["channel"],
            direction=data["direction"],
            outcome=data["outcome"],
            note=data["note"],
            duration_seconds=minutes * 60 if minutes is not None else None,
            ticket=ticket,
            open_ticket=data["open_ticket"],
            subject=data["subject"],
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Contact recorded."))
    return redirect(customer)
