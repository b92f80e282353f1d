"""Exports of filtered lists as CSV or xlsx, through the access predicate, audited.

A list is registered with ``export_register(ExportSpec(...))``: a permission,
a function that returns the user's filtered queryset (it must start from
``visible_to``) and the columns. Up to ``INLINE_LIMIT`` rows are written while
the user waits; larger exports run as a background job. Every export leaves an
audit entry (``action="export"``) with the list, the filters and the row count.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from stammkunde.commerce.models import Order
from stammkunde.core.access import User, acting_user
from stammkunde.core.audit import audit_reads_write, audit_record
from stammkunde.core.errors import ApplicationError
from stammkunde.core.jobs.registry import JobContext
from stammkunde.core.models import AuditEntry
from stammkunde.customers.models import Address, Customer, EmailAddress, PhoneNumber
from stammkunde.customers.selectors import CustomerFilter, customer_list

from ..exports_format import neutralise
from ..models import ExportJob
from ..values import LOCAL_TZ, CellError, date_value

INLINE_LIMIT = 5000
FORMATS = ("csv", "xlsx")


@dataclass(frozen=True)
class ExportSpec:
    """A list that can be exported: who may, which rows (filtered), which columns."""

    name: str
    label: str | Promise  # for people: a lazy translation
    permission: str
    queryset: Callable[[User, dict[str, str]], models.QuerySet[Any]]
    columns: tuple[tuple[str, Callable[[Any], Any]], ...]
    filters: tuple[str, ...] = ()


_SPECS: dict[str, ExportSpec] = {}


def export_register(spec: ExportSpec) -> None:
    """Make a list exportable (other apps call this in ``AppConfig.ready``)."""
    _SPECS[spec.name] = spec


def export_specs() -> dict[str, ExportSpec]:
    return dict(_SPECS)


def _first(items: Iterable[Any], attr: str) -> str:
    for item in items:
        return str(getattr(item, attr))
    return ""


def _customers(user: User, filters: dict[str, str]) -> models.QuerySet[Customer]:
    known = {k: v for k, v in filters.items() if k in CustomerFilter.__dataclass_fields__}
    return (
        customer_list(user=user, filters=CustomerFilter(**known))  # type: ignore[arg-type]
        .prefetch_related(None)
        .prefetch_related(
            Prefetch("emails", queryset=EmailAddress.objects.order_by("-is_primary", "id")),
            Prefetch("phones", queryset=PhoneNumber.objects.order_by("-is_primary", "id")),
            Prefetch("addresses", queryset=Address.objects.order_by("kind", "id")),
        )
    )


def _date_filter(filters: dict[str, str], name: str) -> date | None:
    raw = (filters.get(name) or "").strip()
    if not raw:
        return None
    try:
        return date_value(raw)
    except CellError as exc:
        raise ApplicationError(str(exc), field_errors={name: [str(exc)]}) from exc


def _orders(user: User, filters: dict[str, str]) -> models.QuerySet[Order]:
    qs = Order.objects.visible_to(user).select_related("customer")
    since, until = _date_filter(filters, "date_from"), _date_filter(filters, "date_to")
    if since:
        qs = qs.filter(ordered_at__gte=datetime.combine(since, datetime.min.time(), LOCAL_TZ))
    if until:
        qs = qs.filter(ordered_at__lt=datetime.combine(until, datetime.max.time(), LOCAL_TZ))
    if filters.get("channel"):
        qs = qs.filter(channel=filters["channel"])
    if filters.get("status"):
        qs = qs.filter(status=filters["status"])
    if filters.get("customer"):
        qs = qs.filter(customer__number=filters["customer"].strip().upper())
    return qs.order_by("-ordered_at", "-id")


def _local(value: datetime | None) -> datetime | None:
    return value.astimezone(LOCAL_TZ).replace(tzinfo=None) if value else None


export_register(
    ExportSpec(
        name="customers",
        label=gettext_lazy("Customers"),
        permission="customers.view_customer",
        queryset=_customers,
        filters=("q", "kind", "value_class", "tag", "prospect"),
        columns=(
            ("number", lambda c: c.number),
            ("external_id", lambda c: c.external_id or ""),
            ("kind", lambda c: c.kind),
            ("salutation", lambda c: c.salutation),
            ("first_name", lambda c: c.first_name),
            ("last_name", lambda c: c.last_name),
            ("company_name", lambda c: c.company_name),
            ("email", lambda c: _first(c.emails.all(), "address")),
            ("phone", lambda c: _first(c.phones.all(), "number")),
            ("street", lambda c: _first(c.addresses.all(), "street")),
            ("postal_code", lambda c: _first(c.addresses.all(), "postal_code")),
            ("city", lambda c: _first(c.addresses.all(), "city")),
            ("value_class", lambda c: c.value_class),
            ("created_at", lambda c: _local(c.created_at)),
            ("first_purchase_at", lambda c: _local(c.first_purchase_at)),
        ),
    )
)
export_register(
    ExportSpec(
        name="orders",
        label=gettext_lazy("Orders"),
        permission="commerce.view_order",
        queryset=_orders,
        filters=("date_from", "date_to", "channel", "status", "customer"),
        columns=(
            ("number", lambda o: o.number),
            ("external_id", lambda o: o.external_id or ""),
            ("customer_number", lambda o: o.customer.number),
            ("customer", lambda o: o.customer.display_name),
            ("ordered_at", lambda o: _local(o.ordered_at)),
            ("channel", lambda o: o.channel),
            ("status", lambda o: o.status),
            ("currency", lambda o: o.currency),
            ("total", lambda o: o.total),
        ),
    )
)


def _cell_for_csv(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, (Decimal, int, float, date)):
        return str(value)
    return neutralise(str(value))


def export_write(*, spec: ExportSpec, rows: Iterable[Any], file_format: str, path: Path) -> int:
    """Write ``rows`` with the spec's columns to ``path``; return the row count."""
    path.parent.mkdir(parents=True, exist_ok=True)
    headers = [name for name, _ in spec.columns]
    getters = [getter for _, getter in spec.columns]
    count = 0
    if file_format == "csv":
        with path.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(headers)
            for obj in rows:
                writer.writerow([_cell_for_csv(g(obj)) for g in getters])
                count += 1
        return count
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(spec.name)
    sheet.append(headers)
    for obj in rows:
        # Text cells with a leading apostrophe stay text in Excel; numbers stay numbers.
        sheet.append([neutralise(g(obj)) for g in getters])
        count += 1
    book.save(path)
    return count


def _spec_for(user: User, kind: str, file_format: str) -> ExportSpec:
    spec = _SPECS.get(kind)
    if spec is None:
        raise ApplicationError(_("Unknown list."), field_errors={"kind": [_("Unknown list.")]})
    if file_format not in FORMATS:
        raise ApplicationError(
            _("Unknown format."), field_errors={"file_format": [_("csv or xlsx.")]}
        )
    if not user.has_perm(spec.permission):  # type: ignore[union-attr]
        raise PermissionDenied
    return spec


def export_create(
    *, actor: User, kind: str, file_format: str, filters: dict[str, str]
) -> ExportJob:
    """Export a filtered list; small lists are written at once, large ones run as a job.

    Raises PermissionDenied when the user may not read the list and
    ApplicationError for an unknown list, format or filter value.
    """
    spec = _spec_for(actor, kind, file_format)
    clean = {k: str(v) for k, v in filters.items() if k in spec.filters and v not in ("", None)}
    rows = spec.queryset(actor, clean).count()
    with transaction.atomic():
        job = ExportJob.objects.create(
            kind=kind, file_format=file_format, filters=clean, created_by=acting_user(actor)
        )
        audit_record(
            actor=actor,
            action="export",
            obj=job,
            changes={"list": kind, "filters": clean, "rows": rows, "format": file_format},
        )
    if rows > INLINE_LIMIT:
        from .background import export_start

        # After the commit above; a queue that is down raises QueueUnavailable and the
        # export stays waiting (it can be started again).
        export_start(job, user=actor)
        return job
    return export_job_run(job_id=job.pk)


def export_job_run(*, job_id: int, ctx: JobContext | None = None) -> ExportJob:
    """Write the file of an export job with the filters and rights of the user who asked.

    ``ctx`` (a job's context) gets the rows written as progress. A job that is
    no longer waiting (done, failed, or taken by another run) is returned as it is.
    """
    ctx = ctx or JobContext()
    job = ExportJob.objects.get(pk=job_id)
    user = job.created_by or get_user_model()()
    spec = _SPECS[job.kind]
    if not ExportJob.objects.filter(pk=job.pk, status=ExportJob.Status.PENDING).update(
        status=ExportJob.Status.RUNNING
    ):
        return job
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    path = (
        Path(settings.MEDIA_ROOT)
        / "dataio"
        / "exports"
        / f"{job.kind}-{stamp}-{job.pk}.{job.file_format}"
    )
    shown: list[int] = []  # whose personal data went into the file (read audit)

    def noted(rows: Iterable[Any]) -> Iterable[Any]:
        for count, row in enumerate(rows, 1):
            cid = row.pk if isinstance(row, Customer) else getattr(row, "customer_id", None)
            if cid is not None:
                shown.append(cid)
            if count % 1000 == 0:
                ctx.progress(done=count)
            yield row

    try:
        queryset = spec.queryset(user, job.filters)
        ctx.progress(done=0, total=queryset.count())
        rows = queryset.iterator(chunk_size=2000)
        count = export_write(spec=spec, rows=noted(rows), file_format=job.file_format, path=path)
        audit_reads_write(
            actor_id=job.created_by_id,
            customer_ids=sorted(set(shown)),
            where=path.name,
            action=AuditEntry.Action.EXPORT,
        )
    except ApplicationError as exc:
        ExportJob.objects.filter(pk=job.pk).update(
            status=ExportJob.Status.FAILED, message=exc.message, finished_at=timezone.now()
        )
    except Exception:
        # Never left "running": the job runner records the error and traceback.
        ExportJob.objects.filter(pk=job.pk).update(
            status=ExportJob.Status.FAILED,
            message=_("internal error; see the server log"),
            finished_at=timezone.now(),
        )
        raise
    else:
        ExportJob.objects.filter(pk=job.pk).update(
            status=ExportJob.Status.DONE,
            rows=count,
            file_path=str(path),
            finished_at=timezone.now(),
        )
    job.refresh_from_db()
    return job
