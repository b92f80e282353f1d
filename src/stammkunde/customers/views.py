from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from stammkunde.core.audit import audit_read
from stammkunde.core.errors import ApplicationError
from stammkunde.core.navigation import customer_list_filters, customer_panels_for
from stammkunde.core.ratelimit import LIMIT_MESSAGE, rate_limited, too_many_requests
from stammkunde.core.roles import ADMIN, TEAM_LEAD, has_role, roles_of

from . import selectors, services
from .duplicates import Duplicate, duplicates_for_new
from .forms import ConsentForm, CustomerForm
from .models import Customer
from .picker import FIELD_NAME, picker_choices, visible_customer

SEARCH_PAGE = 50


def _require_role(request: HttpRequest) -> None:
    if not roles_of(request.user):
        raise PermissionDenied


def _apply_errors(form: CustomerForm | ConsentForm, exc: ApplicationError) -> None:
    for field, errors in (exc.field_errors or {"__all__": [exc.message]}).items():
        form.add_error(field if field in form.fields else None, errors)


@login_required
def customer_list_view(request: HttpRequest) -> HttpResponse:
    """Search and filter customers; htmx requests get only the result table."""
    _require_role(request)
    filters = selectors.CustomerFilter(
        q=request.GET.get("q", ""),
        kind=request.GET.get("kind", ""),
        value_class=request.GET.get("value_class", ""),
        tag=request.GET.get("tag", ""),
        prospect=request.GET.get("prospect", ""),
        extra=tuple((f.param, request.GET.get(f.param, "")) for f in customer_list_filters()),
    )
    qs = selectors.customer_list(user=request.user, filters=filters)
    if filters.q.strip():
        # Ranked by match: one page of the best matches (the search caps its candidates).
        rows, next_after = list(qs[:SEARCH_PAGE]), None
    else:
        after_raw = request.GET.get("after", "")
        after = int(after_raw) if after_raw.isdigit() else None
        rows, next_after = selectors.customer_page(qs, after=after)
    audit_read(request, [c.pk for c in rows])  # search results show names: one bulk insert
    query = request.GET.copy()
    query.pop("after", None)
    context = {
        "customers": rows,
        "next_after": next_after,
        "filters": filters,
        "query": query.urlencode(),
        "kinds": Customer.Kind.choices,
        "extra_filters": [
            (f, dict(filters.extra).get(f.param, "")) for f in customer_list_filters()
        ],
        "can_add": request.user.has_perm("customers.add_customer"),
    }
    is_htmx = bool(getattr(request, "htmx", False))
    template = "customers/_results.html" if is_htmx else "customers/list.html"
    return render(request, template, context)


@login_required
def customer_picker_view(request: HttpRequest) -> HttpResponse:
    """The choices of a customer picker (``customers.picker``) for what was typed.

    ``field`` names the form field; ``<field>_q`` is the text, ``<field>`` the customer
    chosen so far (kept first). HTML for htmx; ``format=json`` answers the same as JSON.
    """
    _require_role(request)
    field = request.GET.get("field", "customer")
    if not FIELD_NAME.fullmatch(field):
        field = "customer"
    as_json = request.GET.get("format") == "json"
    if rate_limited(request, "customer_search", account=request.user.get_username()):
        if as_json:
            return JsonResponse({"detail": str(LIMIT_MESSAGE)}, status=429)
        return too_many_requests(request, "customers/_picker_choices.html")
    q = request.GET.get(f"{field}_q", request.GET.get("q", ""))
    selected = visible_customer(request.user, request.GET.get(field))
    choices = picker_choices(user=request.user, q=q, selected=selected)
    audit_read(request, [c.pk for c in choices])  # the choices show names and e-mails
    if as_json:
        return JsonResponse(
            {
                "results": [
                    {
                        "id": c.pk,
                        "number": c.number,
                        "name": c.display_name,
                        "email": c.picker_email or "",  # type: ignore[attr-defined]
                        "place": c.picker_place or "",  # type: ignore[attr-defined]
                    }
                    for c in choices
                ]
            }
        )
    context = {
        "name": field,
        "choices": choices,
        "selected": selected,
        "searched": bool(q.strip()),
        "required": request.GET.get("required") == "1",
    }
    return render(request, "customers/_picker_choices.html", context)


@login_required
def customer_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The customer 360 page: master data, consents, purchases, timeline and app panels."""
    customer = selectors.customer_get(user=request.user, pk=pk)
    audit_read(request, [customer.pk])
    context = {
        "customer": customer,
        "consents": selectors.consent_current(customer=customer),
        "timeline": selectors.timeline(user=request.user, customer=customer),
        "panels": customer_panels_for(customer, request.user),
        "audit": selectors.audit_entries_for_customer(customer=customer)
        if has_role(request.user, "admin")
        else None,
        "consent_form": ConsentForm(),
        "can_edit": request.user.has_perm("customers.change_customer"),
    }
    return render(request, "customers/detail.html", context)


@login_required
def customer_timeline_view(request: HttpRequest, pk: int) -> HttpResponse:
    customer = selectors.customer_get(user=request.user, pk=pk)
    offset_raw = request.GET.get("offset", "0")
    offset = int(offset_raw) if offset_raw.isdigit() else 0
    entries = selectors.timeline(user=request.user, customer=customer, offset=offset)
    audit_read(request, [customer.pk])
    return render(
        request,
        "customers/_timeline.html",
        {"customer": customer, "timeline": entries, "offset": offset},
    )


@login_required
def customer_create_view(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("customers.add_customer"):
        raise PermissionDenied
    form = CustomerForm(
        request.POST or None,
        initial={"kind": "person", "preferred_language": "de", "preferred_channel": "email"},
    )
    duplicates: list[Duplicate] = []
    if request.method == "POST" and form.is_valid():
        address = form.address_data()
        if request.POST.get("confirm_duplicate") != "1":
            duplicates = duplicates_for_new(
                user=request.user,
                emails=form.service_data()["emails"],
                first_name=form.cleaned_data["first_name"],
                last_name=form.cleaned_data["last_name"],
                postal_code=address["postal_code"] if address else "",
            )
        if not duplicates:
            try:
                customer = services.customer_create(
                    actor=request.user,
                    addresses=[address] if address else [],
                    **form.service_data(),
                )
            except ApplicationError as exc:
                _apply_errors(form, exc)
            else:
                messages.success(
                    request, _("Customer %(number)s created.") % {"number": customer.number}
                )
                return redirect(customer)
    context = {
        "form": form,
        "customer": None,
        "duplicates": duplicates,
        # Merging is a data tool of Import/Export (team leads and admins).
        "can_merge": has_role(request.user, ADMIN, TEAM_LEAD),
    }
    return render(request, "customers/form.html", context)


@login_required
def customer_edit_view(request: HttpRequest, pk: int) -> HttpResponse:
    customer = selectors.customer_get(user=request.user, pk=pk)
    if not request.user.has_perm("customers.change_customer"):
        raise PermissionDenied
    initial = {
        "kind": customer.kind,
        "salutation": customer.salutation,
        "first_name": customer.first_name,
        "last_name": customer.last_name,
        "company_name": customer.company_name,
        "birthday": customer.birthday,
        "emails": "\n".join(e.address for e in customer.emails.all()),
        "phones": "\n".join(p.number for p in customer.phones.all()),
        "tags": ", ".join(t.name for t in customer.tags.all()),
        "preferred_language": customer.preferred_language,
        "preferred_channel": customer.preferred_channel,
        "version": customer.version,
    }
    address = customer.addresses.filter(kind="billing").first() or customer.addresses.first()
    if address is not None:
        initial.update(
            street=address.street,
            postal_code=address.postal_code,
            city=address.city,
            country=address.country,
        )
    form = CustomerForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                services.customer_update(
                    actor=request.user,
                    customer=customer,
                    data=form.service_data(),
                    expected_version=form.cleaned_data.get("version"),
                )
                if (address_data := form.address_data()) is not None:
                    services.address_save(
                        actor=request.user, customer=customer, data=address_data, address=address
                    )
        except ApplicationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("Changes saved."))
            return redirect(customer)
    return render(request, "customers/form.html", {"form": form, "customer": customer})


@login_required
@require_POST
def consent_add_view(request: HttpRequest, pk: int) -> HttpResponse:
    customer = selectors.customer_get(user=request.user, pk=pk)
    if not request.user.has_perm("customers.add_consent"):
        raise PermissionDenied
    form = ConsentForm(request.POST)
    if form.is_valid():
        try:
            services.consent_record(actor=request.user, customer=customer, **form.cleaned_data)
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Consent recorded."))
    else:
        messages.error(
            request,
            _("Consent not recorded: %(errors)s")
            % {
                "errors": "; ".join(
                    f"{k}: {' '.join(str(e) for e in v)}" for k, v in form.errors.items()
                )
            },
        )
    return redirect(customer)
