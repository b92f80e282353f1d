"""DSGVO use cases: requests as cases, export, erasure, objection; privacy orchestrates.

Each app owns the rules for its data (``customer_data_export`` in its
selectors, ``customer_data_erase`` in its services); this module only decides
when they run, in which order, inside which transaction, and who may ask.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from stammkunde.analytics import selectors as analytics_selectors
from stammkunde.campaigns import selectors as campaigns_selectors
from stammkunde.campaigns import services as campaigns_services
from stammkunde.channels import selectors as channels_selectors
from stammkunde.channels import services as channels_services
from stammkunde.commerce import selectors as commerce_selectors
from stammkunde.core.access import User, acting_user
from stammkunde.core.audit import audit_customer_rows, audit_customer_scrub, audit_record
from stammkunde.core.errors import ApplicationError
from stammkunde.core.sequences import counter_next
from stammkunde.customers import selectors as customers_selectors
from stammkunde.customers import services as customers_services
from stammkunde.dataio.services import privacy as dataio_privacy
from stammkunde.feedback import selectors as feedback_selectors
from stammkunde.feedback import services as feedback_services
from stammkunde.loyalty import selectors as loyalty_selectors
from stammkunde.loyalty import services as loyalty_services
from stammkunde.service import selectors as service_selectors
from stammkunde.service import services as service_services

from . import jobs
from .models import PrivacyExport, PrivacyRequest
from .selectors import privacy_approver, privacy_staff, retention_days

if TYPE_CHECKING:
    from stammkunde.customers.models import Customer

log = logging.getLogger(__name__)

MAX_EXTENSION = relativedelta(months=2)  # Art. 12(3): "by two further months"


def _refuse_unless(allowed: bool, message: str) -> None:
    if not allowed:
        raise ApplicationError(message, code="forbidden")


# --------------------------------------------------------------------------- requests


def request_number_format(value: int) -> str:
    return f"DS{value:06d}"


@transaction.atomic
def request_open(
    *,
    actor: User | None,
    customer: Customer,
    kind: str,
    channel: str,
    received_on: date | None = None,
    identity_method: str = "",
    note: str = "",
) -> PrivacyRequest:
    """Record a data subject request; its deadline is one month after receipt (Art. 12(3)).

    ``identity_method`` (how the person proved who they are) marks the identity
    as checked by ``actor``; without it nothing can be exported or erased yet.
    """
    if actor is not None and actor.is_authenticated:
        _refuse_unless(privacy_staff(actor), "Only service staff handle privacy requests.")
    if kind not in PrivacyRequest.Kind.values:
        raise ApplicationError("Unknown kind of request.", field_errors={"kind": ["Unknown."]})
    if channel not in PrivacyRequest.Channel.values:
        raise ApplicationError("Unknown channel.", field_errors={"channel": ["Unknown."]})
    if customer.erased_at is not None:
        raise ApplicationError("This customer is already erased.", code="already_erased")
    received = received_on or timezone.localdate()
    if received > timezone.localdate():
        raise ApplicationError(
            "A request cannot be received in the future.",
            field_errors={"received_on": ["The date lies in the future."]},
        )
    request = PrivacyRequest.objects.create(
        number=request_number_format(counter_next("privacy_request")),
        kind=kind,
        channel=channel,
        customer=customer,
        received_on=received,
        due_on=received + relativedelta(months=1),
        identity_checked=bool(identity_method.strip()),
        identity_method=identity_method.strip()[:200],
        identity_checked_by=acting_user(actor) if identity_method.strip() else None,
        handler=acting_user(actor),
        note=note,
    )
    audit_record(
        actor=actor,
        action="create",
        obj=request,
        customer_id=customer.pk,
        changes={"kind": kind, "channel": channel, "due_on": request.due_on.isoformat()},
    )
    return request


@transaction.atomic
def request_identity_confirm(
    *, actor: User, request: PrivacyRequest, method: str
) -> PrivacyRequest:
    """Record that ``actor`` checked the person's identity, and how."""
    _refuse_unless(privacy_staff(actor), "Only service staff handle privacy requests.")
    if not method.strip():
        raise ApplicationError(
            "Say how the identity was checked.",
            field_errors={"identity_method": ["Say how the identity was checked."]},
        )
    request.identity_checked = True
    request.identity_method = method.strip()[:200]
    request.identity_checked_by = actor  # type: ignore[assignment]
    request.save(update_fields=["identity_checked", "identity_method", "identity_checked_by"])
    audit_record(
        actor=actor,
        action="update",
        obj=request,
        customer_id=request.customer_id,
        changes={"identity_checked": [False, True]},
    )
    return request


@transaction.atomic
def request_extend(
    *, actor: User, request: PrivacyRequest, until: date, reason: str
) -> PrivacyRequest:
    """Extend the deadline by up to two further months, with the reason (Art. 12(3))."""
    _refuse_unless(privacy_approver(actor), "Only team leads and admins extend a deadline.")
    if not reason.strip():
        raise ApplicationError(
            "An extension needs a reason.", field_errors={"reason": ["Give the reason."]}
        )
    if until <= request.due_on or until > request.due_on + MAX_EXTENSION:
        raise ApplicationError(
            "The extension must lie after the deadline and at most two months beyond it.",
            field_errors={"until": ["At most two months after the deadline."]},
        )
    before = request.extended_until
    request.extended_until = until
    request.extension_reason = reason.strip()[:300]
    request.save(update_fields=["extended_until", "extension_reason"])
    audit_record(
        actor=actor,
        action="update",
        obj=request,
        customer_id=request.customer_id,
        changes={"extended_until": [before and before.isoformat(), until.isoformat()]},
    )
    return request


@transaction.atomic
def request_close(
    *, actor: User, request: PrivacyRequest, status: str, note: str = ""
) -> PrivacyRequest:
    """Mark a request done or rejected (an erasure is done by its approval)."""
    _refuse_unless(privacy_staff(actor), "Only service staff handle privacy requests.")
    if status not in (PrivacyRequest.Status.DONE, PrivacyRequest.Status.REJECTED):
        raise ApplicationError("A request is closed as done or rejected.", code="invalid")
    if not request.is_open:
        raise ApplicationError("This request is already closed.", code="closed")
    if request.kind == PrivacyRequest.Kind.ERASURE and status == PrivacyRequest.Status.DONE:
        raise ApplicationError(
            "An erasure is done by its approval, not by closing.", code="needs_approval"
        )
    request.status = status
    request.completed_at = timezone.now()
    if note:
        request.note = f"{request.note}\n{note}".strip()
    request.save(update_fields=["status", "completed_at", "note"])
    audit_record(
        actor=actor,
        action="update",
        obj=request,
        customer_id=request.customer_id,
        changes={"status": ["open", status]},
    )
    return request


def _identity_required(request: PrivacyRequest) -> None:
    if not request.identity_checked:
        raise ApplicationError(
            "Check the person's identity first (Art. 12(6)).", code="identity_unchecked"
        )


# --------------------------------------------------------------------------- export


def customer_data_collect(customer: Customer, *, language: str = "de") -> dict[str, Any]:
    """Everything the system holds about ``customer``, app by app (Art. 15, 20)."""
    contacts = customers_selectors.customer_data_export(customer)
    emails = [e["address"] for e in contacts["emails"]]
    sections: dict[str, Any] = {
        "customers": contacts,
        "commerce": commerce_selectors.customer_data_export(customer),
        "service": service_selectors.customer_data_export(customer, emails=emails),
        "channels": channels_selectors.customer_data_export(customer, emails=emails),
        "loyalty": loyalty_selectors.customer_data_export(customer),
        "feedback": feedback_selectors.customer_data_export(customer),
        "analytics": analytics_selectors.customer_data_export(customer, language=language),
        "campaigns": campaigns_selectors.customer_data_export(customer, emails=emails),
        "dataio": dataio_privacy.customer_data_export(customer),
        "audit": {"audit_entries": audit_customer_rows(customer.pk)},
    }
    return {
        "format": "stammkunde-dsgvo-export/1",
        "generated_at": timezone.now().isoformat(),
        "customer_number": customer.number,
        "language": language,
        "data": sections,
    }


def export_dir() -> Path:
    """Where export files live: outside MEDIA_ROOT, served only by the download view."""
    path = Path(getattr(settings, "PRIVACY_EXPORT_DIR", "") or (settings.VAR_DIR / "privacy"))
    path.mkdir(parents=True, exist_ok=True)
    return path


@transaction.atomic
def export_start(
    *,
    actor: User | None,
    customer: Customer,
    request: PrivacyRequest | None = None,
    language: str = "de",
) -> PrivacyExport:
    """Queue an export of ``customer``'s data; a job writes JSON and PDF with progress."""
    if actor is not None and actor.is_authenticated:
        _refuse_unless(privacy_staff(actor), "Only service staff export personal data.")
    if request is not None:
        _identity_required(request)
        if request.customer_id != customer.pk:
            raise ApplicationError("The request is about another customer.", code="invalid")
    if customer.erased_at is not None:
        raise ApplicationError("This customer is already erased.", code="already_erased")
    export = PrivacyExport.objects.create(
        request=request,
        customer=customer,
        language=language if language in ("de", "en") else "de",
        created_by=acting_user(actor),
    )
    audit_record(actor=actor, action="export", obj=export, customer_id=customer.pk)
    jobs.job_dispatch("privacy.export", user=actor, export_id=export.pk)
    return export


def export_run(*, export_id: int, ctx: Any = None) -> PrivacyExport:
    """The export job: collect, write JSON and PDF, record progress; failures are stored."""
    from .documents import pdf_write

    def progress(percent: int, message: str) -> None:
        PrivacyExport.objects.filter(pk=export_id).update(progress=percent)
        if ctx is not None:
            ctx.progress(done=percent, total=100, message=message)

    export = PrivacyExport.objects.select_related("customer").get(pk=export_id)
    PrivacyExport.objects.filter(pk=export_id).update(status=PrivacyExport.Status.RUNNING)
    try:
        progress(5, "collecting")
        data = customer_data_collect(export.customer, language=export.language)
        progress(50, "writing JSON")
        folder = export_dir() / str(export.pk)
        folder.mkdir(parents=True, exist_ok=True)
        base = f"{export.customer.number}-{timezone.now():%Y%m%d}"
        json_path = folder / f"{base}.json"
        _json_write(data, json_path)
        progress(70, "writing PDF")
        pdf_path = folder / f"{base}.pdf"
        pdf_write(data, pdf_path, language=export.language)
    except Exception as exc:  # noqa: BLE001 - the job records why instead of vanishing
        log.exception("privacy export %s failed", export_id)
        PrivacyExport.objects.filter(pk=export_id).update(
            status=PrivacyExport.Status.FAILED, error=f"{type(exc).__name__}: {exc}"[:1000]
        )
    else:
        days = retention_days()["exports"]
        PrivacyExport.objects.filter(pk=export_id).update(
            status=PrivacyExport.Status.DONE,
            progress=100,
            json_path=str(json_path),
            pdf_path=str(pdf_path),
            finished_at=timezone.now(),
            expires_at=timezone.now() + timedelta(days=days),
        )
    export.refresh_from_db()
    return export


def _json_write(data: dict[str, Any], path: Path) -> None:
    import json

    with path.open("w", encoding="utf-8") as fh:
        json.dump(data, fh, ensure_ascii=False, indent=1, default=str)


def customer_export_files(*, customer: Customer, out: Path, language: str = "de") -> dict[str, str]:
    """Write the JSON and the PDF of ``customer`` into ``out`` (the CLI; no stored copy)."""
    from .documents import pdf_write

    if customer.erased_at is not None:
        raise ApplicationError("This customer is already erased.", code="already_erased")
    out.mkdir(parents=True, exist_ok=True)
    data = customer_data_collect(customer, language=language)
    base = f"{customer.number}-{timezone.now():%Y%m%d}"
    json_path, pdf_path = out / f"{base}.json", out / f"{base}.pdf"
    _json_write(data, json_path)
    pdf_write(data, pdf_path, language=language)
    audit_record(
        actor=None,
        action="export",
        obj=customer,
        customer_id=customer.pk,
        changes={"via": "cli"},
    )
    return {"json": str(json_path), "pdf": str(pdf_path)}


def export_file_delete(export: PrivacyExport, *, which: str = "both") -> None:
    """Delete an export's file(s); with both gone the export is marked deleted."""
    for field in ("json_path", "pdf_path"):
        if which in ("both", field.split("_")[0]):
            name = getattr(export, field)
            if name:
                Path(name).unlink(missing_ok=True)
                setattr(export, field, "")
    if not export.json_path and not export.pdf_path:
        export.status = PrivacyExport.Status.DELETED
    export.save(update_fields=["json_path", "pdf_path", "status"])


@transaction.atomic
def export_downloaded(*, actor: User, export: PrivacyExport, which: str) -> Path:
    """Hand out one file of a finished export once: it is deleted after the download.

    Returns the path to stream; the caller reads it before the deletion runs
    (the file is removed when the response is closed, see the view).
    """
    _refuse_unless(privacy_staff(actor), "Only service staff download exports.")
    if which not in ("json", "pdf"):
        raise ApplicationError("Unknown file.", code="invalid")
    name = getattr(export, f"{which}_path")
    if export.status != PrivacyExport.Status.DONE or not name or not Path(name).exists():
        raise ApplicationError("This file is not (or no longer) available.", code="gone")
    export.downloaded_at = timezone.now()
    export.save(update_fields=["downloaded_at"])
    audit_record(
        actor=actor,
        action="export",
        obj=export,
        customer_id=export.customer_id,
        changes={"downloaded": which},
    )
    return Path(name)


# --------------------------------------------------------------------------- erasure


@transaction.atomic
def erasure_submit(*, actor: User, request: PrivacyRequest) -> PrivacyRequest:
    """Ask for the erasure of the request's customer; a second person must approve it."""
    _refuse_unless(privacy_staff(actor), "Only service staff handle privacy requests.")
    if request.kind != PrivacyRequest.Kind.ERASURE:
        raise ApplicationError("Only an erasure request can be submitted.", code="invalid")
    if request.status != PrivacyRequest.Status.OPEN:
        raise ApplicationError("This request is not open.", code="closed")
    _identity_required(request)
    request.status = PrivacyRequest.Status.AWAITING_APPROVAL
    request.erasure_requested_by = actor  # type: ignore[assignment]
    request.save(update_fields=["status", "erasure_requested_by"])
    audit_record(
        actor=actor,
        action="update",
        obj=request,
        customer_id=request.customer_id,
        changes={"status": ["open", "awaiting_approval"]},
    )
    return request


@transaction.atomic
def erasure_approve(*, actor: User, request: PrivacyRequest) -> dict[str, Any]:
    """The second person's approval: erase the customer and close the request."""
    _refuse_unless(privacy_approver(actor), "Only team leads and admins approve an erasure.")
    locked = PrivacyRequest.objects.select_for_update().get(pk=request.pk)
    if locked.status != PrivacyRequest.Status.AWAITING_APPROVAL:
        raise ApplicationError("This erasure is not waiting for approval.", code="not_waiting")
    if locked.erasure_requested_by_id == actor.pk:
        raise ApplicationError(
            "A second person must approve the erasure (four-eyes principle).",
            code="same_person",
        )
    locked.approved_by = actor  # type: ignore[assignment]
    locked.approved_at = timezone.now()
    locked.save(update_fields=["approved_by", "approved_at"])
    result = customer_erase(actor=actor, customer=locked.customer, request=locked)
    request.refresh_from_db()
    return result


@transaction.atomic
def customer_erase(
    *, actor: User | None, customer: Customer, request: PrivacyRequest | None = None
) -> dict[str, Any]:
    """Erase ``customer``'s personal data everywhere, in one transaction (Art. 17).

    Higher apps run first (they find rows by the person's addresses, which the
    customers app deletes last). What tax law keeps is counted in ``kept``: the
    answer to the person lists it. A customer already erased is refused with
    ``already_erased`` and nothing changes.
    """
    locked = customers_selectors.customer_for_update(pk=customer.pk)
    if locked.erased_at is not None:
        raise ApplicationError("This customer is already erased.", code="already_erased")
    emails = list(locked.emails.values_list("address", flat=True)) + [
        e for e in locked.contact_persons.values_list("email", flat=True) if e
    ]
    kept = {
        **commerce_selectors.customer_data_kept(locked),
        **loyalty_selectors.customer_data_kept(locked),
    }
    erased: dict[str, int] = {}
    # A duplicate merged into this record is the same person: it goes too.
    merged = list(customers_selectors.customers_merged_into(locked))
    for duplicate in merged:
        for what, count in customer_erase(actor=actor, customer=duplicate)["erased"].items():
            erased[what] = erased.get(what, 0) + count
    erased["merged_records"] = len(merged)
    parts: list[dict[str, int]] = [
        campaigns_services.customer_data_erase(customer=locked, emails=emails),
        dataio_privacy.customer_data_erase(customer=locked),
        feedback_services.customer_data_erase(customer=locked),
        loyalty_services.customer_data_erase(customer=locked),
        channels_services.customer_data_erase(customer=locked, emails=emails),
        service_services.customer_data_erase(customer=locked, emails=emails),
        {"exports": _exports_erase(locked)},
        {
            "privacy_request_notes": PrivacyRequest.objects.filter(customer=locked).update(
                note="", identity_method=""
            )
        },
        customers_services.customer_data_erase(customer=locked),
        {"audit_entries": audit_customer_scrub(locked.pk)},
    ]
    for part in parts:
        for what, count in part.items():
            erased[what] = erased.get(what, 0) + count
    # The feedback report caches themes quoting answers and ticket messages: after commit
    # (a rollback keeps the texts) every cached theme goes, the next report recomputes.
    transaction.on_commit(feedback_services.themes_cache_clear)
    result = {"customer_number": locked.number, "erased": erased, "kept": kept}
    audit_record(actor=actor, action="erase", obj=locked, customer_id=locked.pk, changes=result)
    if request is not None:
        PrivacyRequest.objects.filter(pk=request.pk).update(
            status=PrivacyRequest.Status.DONE, completed_at=timezone.now(), result=result
        )
    customer.erased_at = locked.erased_at
    return result


def _exports_erase(customer: Customer) -> int:
    """Delete export files already written for ``customer`` (after commit: all or nothing)."""
    exports = list(PrivacyExport.objects.filter(customer=customer))
    names = [n for e in exports for n in (e.json_path, e.pdf_path) if n]
    PrivacyExport.objects.filter(customer=customer).update(
        status=PrivacyExport.Status.DELETED, json_path="", pdf_path=""
    )

    def unlink() -> None:
        for name in names:
            Path(name).unlink(missing_ok=True)

    transaction.on_commit(unlink)
    return len(exports)


# --------------------------------------------------------------------------- objection


def consent_withdraw(*, actor: User, customer: Customer, purpose: str, channel: str) -> bool:
    """Withdraw one consent with one click (Art. 7(3), 21): campaigns and surveys stop.

    Returns False when the consent was not granted (already withdrawn).
    """
    _refuse_unless(privacy_staff(actor), "Only service staff record an objection.")
    if customer.erased_at is not None:
        raise ApplicationError("This customer is already erased.", code="already_erased")
    consent = customers_services.consent_withdraw(
        actor=actor, customer=customer, purpose=purpose, channel=channel, source="staff (objection)"
    )
    return consent is not None


# --------------------------------------------------------------------------- retention


@transaction.atomic
def retention_set(*, actor: User, days: dict[str, int]) -> dict[str, int]:
    """Set retention periods in days per kind of data (admins and team leads)."""
    from .models import RetentionPeriod

    _refuse_unless(privacy_approver(actor), "Only team leads and admins set retention periods.")
    errors = {
        kind: ["Give a whole number of days from 1 to 36500."]
        for kind, value in days.items()
        if kind not in RetentionPeriod.Kind.values or not 1 <= int(value) <= 36500
    }
    if errors:
        raise ApplicationError("Invalid retention period.", field_errors=errors)
    before = retention_days()
    for kind, value in days.items():
        RetentionPeriod.objects.update_or_create(kind=kind, defaults={"days": int(value)})
    after = retention_days()
    changes = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    if changes:
        audit_record(
            actor=actor,
            action="update",
            obj=RetentionPeriod.objects.get(kind=next(iter(changes))),
            changes=changes,
        )
    return after


def retention_apply(*, dry_run: bool = False, now: Any = None) -> dict[str, int]:
    """Apply every retention period; with ``dry_run`` only count what would go.

    Each kind runs in its own transaction, so that one large kind does not hold
    locks on the others; a failure leaves the kinds already done applied.
    """
    from stammkunde.core.audit import audit_expire

    now = now or timezone.now()
    days = retention_days()

    def cut(kind: str) -> Any:
        return now - timedelta(days=days[kind])

    out: dict[str, int] = {}
    out["raw_mail"] = channels_services.inbound_expire(
        before=cut("raw_mail"), quarantine=False, dry_run=dry_run
    )
    out["quarantine"] = channels_services.inbound_expire(
        before=cut("quarantine"), quarantine=True, dry_run=dry_run
    )
    out["closed_tickets"] = service_services.closed_ticket_texts_expire(
        before=cut("closed_tickets"), dry_run=dry_run
    )
    out["survey_text"] = feedback_services.answer_texts_expire(
        before=cut("survey_text"), dry_run=dry_run
    )
    if not dry_run and (out["closed_tickets"] or out["survey_text"]):
        transaction.on_commit(feedback_services.themes_cache_clear)
    prospects = customers_selectors.inactive_prospects(before=cut("prospects"))
    if dry_run:
        out["prospects"] = prospects.count()
    else:
        out["prospects"] = 0
        for customer in prospects.iterator(chunk_size=500):
            customer_erase(actor=None, customer=customer)
            out["prospects"] += 1
    expired = PrivacyExport.objects.filter(status=PrivacyExport.Status.DONE, expires_at__lt=now)
    out["exports"] = expired.count()
    if not dry_run:
        for export in expired:
            export_file_delete(export)
    # Audit entries last: the erasures above write their own entries.
    out["audit"] = audit_expire(before=cut("audit"), dry_run=dry_run)
    return out
