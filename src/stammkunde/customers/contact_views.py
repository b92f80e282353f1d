"""Rectification (DSGVO Art. 16) of addresses and contact persons on the customer page."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from stammkunde.core.errors import ApplicationError

from . import selectors, services
from .forms import AddressForm, ContactPersonForm
from .models import Customer


def _editable(request: HttpRequest, pk: int) -> Customer:
    customer = selectors.customer_get(user=request.user, pk=pk)
    if not request.user.has_perm("customers.change_customer"):
        raise PermissionDenied
    if customer.erased_at is not None:
        raise Http404("erased")
    return customer


def _errors(form: Any, exc: ApplicationError) -> None:
    for field, errors in (exc.field_errors or {"__all__": [exc.message]}).items():
        form.add_error(field if field in form.fields else None, errors)


@login_required
def address_edit_view(request: HttpRequest, pk: int, address_id: int | None = None) -> HttpResponse:
    """Add an address, or correct one (``address_id``)."""
    customer = _editable(request, pk)
    address = None
    if address_id is not None:
        address = customer.addresses.filter(pk=address_id).first()
        if address is None:
            raise Http404("no such address")
    initial = (
        {f: getattr(address, f) for f in services.ADDRESS_FIELDS} if address else {"country": "DE"}
    )
    form = AddressForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.address_save(
                actor=request.user, customer=customer, address=address, data=form.cleaned_data
            )
        except ApplicationError as exc:
            _errors(form, exc)
        else:
            messages.success(request, _("Address saved."))
            return redirect(customer)
    return render(
        request,
        "customers/contact_form.html",
        {"form": form, "customer": customer, "title": _("Address"), "obj": address},
    )


@login_required
@require_POST
def address_delete_view(request: HttpRequest, pk: int, address_id: int) -> HttpResponse:
    customer = _editable(request, pk)
    address = customer.addresses.filter(pk=address_id).first()
    if address is None:
        raise Http404("no such address")
    services.address_delete(actor=request.user, address=address)
    messages.success(request, _("Address removed."))
    return redirect(customer)


@login_required
def contact_person_edit_view(
    request: HttpRequest, pk: int, person_id: int | None = None
) -> HttpResponse:
    """Add a contact person to a company, or correct one (``person_id``)."""
    customer = _editable(request, pk)
    person = None
    if person_id is not None:
        person = customer.contact_persons.filter(pk=person_id).first()
        if person is None:
            raise Http404("no such contact person")
    initial = {f: getattr(person, f) for f in services.CONTACT_PERSON_FIELDS} if person else {}
    form = ContactPersonForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            if person is None:
                services.contact_person_add(
                    actor=request.user, customer=customer, **form.cleaned_data
                )
            else:
                services.contact_person_update(
                    actor=request.user, person=person, data=form.cleaned_data
                )
        except ApplicationError as exc:
            _errors(form, exc)
        else:
            messages.success(request, _("Contact person saved."))
            return redirect(customer)
    return render(
        request,
        "customers/contact_form.html",
        {"form": form, "customer": customer, "title": _("Contact person"), "obj": person},
    )


@login_required
@require_POST
def contact_person_delete_view(request: HttpRequest, pk: int, person_id: int) -> HttpResponse:
    customer = _editable(request, pk)
    person = customer.contact_persons.filter(pk=person_id).first()
    if person is None:
        raise Http404("no such contact person")
    services.contact_person_delete(actor=request.user, person=person)
    messages.success(request, _("Contact person removed."))
    return redirect(customer)
