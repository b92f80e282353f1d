"""Imports as recorded jobs: saved column mappings of a source, the job row, its run.

``import_job_create`` keeps the uploaded file and records the job;
``import_job_run`` runs ``imports.import_file`` on it and stores the outcome,
never leaving a job "running"; ``import_job_enqueue`` hands it to the job runner.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.cache import cache
from django.core.files.uploadedfile import UploadedFile
from django.db import DatabaseError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from stammkunde.core.access import User, acting_user
from stammkunde.core.errors import ApplicationError
from stammkunde.core.inputs import FORBIDDEN_CHARACTERS

from ..importers import IMPORTERS
from ..models import ImportJob, ImportSource
from .imports import ProgressCallback, import_file

if TYPE_CHECKING:
    from stammkunde.core.jobs.models import Job


@transaction.atomic
def import_source_save(*, name: str, kind: str, mapping: dict[str, str]) -> ImportSource:
    """Create or update the saved column mapping of a source (shop, POS, ERP)."""
    if not name.strip():
        raise ApplicationError(
            _("A source needs a name."), field_errors={"source": [_("Required.")]}
        )
    importer = IMPORTERS.get(kind)
    if importer is None:
        raise ApplicationError(
            _("Unknown import kind “%(kind)s”.") % {"kind": kind},
            field_errors={"kind": [_("Unknown.")]},
        )
    names = {f.name for f in importer.fields}
    if not isinstance(mapping, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()
    ):
        raise ApplicationError(
            _("The mapping must be a JSON object {field: column}."),
            field_errors={"mapping": [_('Expected {"field": "column"}.')]},
        )
    unknown = sorted(set(mapping) - names)
    if unknown:
        raise ApplicationError(
            _("Unknown field(s) in the mapping: %(fields)s") % {"fields": ", ".join(unknown)},
            field_errors={
                "mapping": [_("Known fields: %(fields)s") % {"fields": ", ".join(sorted(names))}]
            },
        )
    source, created = ImportSource.objects.get_or_create(
        name=name.strip(), kind=kind, defaults={"mapping": mapping}
    )
    if not created and mapping and source.mapping != mapping:
        source.mapping = mapping
        source.save(update_fields=["mapping", "updated_at"])
    return source


def _stored_path(name: str) -> Path:
    folder = Path(settings.MEDIA_ROOT) / "dataio" / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in Path(name).name)[-100:]
    return folder / f"{uuid.uuid4().hex}-{safe}"


@transaction.atomic
def import_job_create(
    *,
    actor: User | None,
    kind: str,
    file_name: str,
    upload: UploadedFile | None = None,
    path: str | None = None,
    source_name: str = "",
    mapping: dict[str, str] | None = None,
    mode: str = ImportJob.Mode.ALL_OR_NOTHING,
    dry_run: bool = False,
    language: str | None = None,
) -> ImportJob:
    """Record an import (the uploaded file is kept under MEDIA_ROOT) before it runs.

    With a source, an explicit mapping is saved to it and a missing one is
    taken from it. The import runs (later, in a worker) in ``language``: by
    default the active language, i.e. the one of the user who uploads.
    """
    if kind not in IMPORTERS:
        raise ApplicationError(_("Unknown import kind."), field_errors={"kind": [_("Unknown.")]})
    if mode not in ImportJob.Mode.values:
        raise ApplicationError(_("Unknown mode."), field_errors={"mode": [_("Unknown.")]})
    from ..readers import format_of

    format_of(file_name)  # refuses unknown file types before anything is stored
    source = None
    if source_name.strip():
        source = import_source_save(name=source_name, kind=kind, mapping=mapping or {})
        mapping = mapping or source.mapping
    if upload is not None:
        target = _stored_path(file_name)
        with target.open("wb") as handle:
            for chunk in upload.chunks():
                handle.write(chunk)
        path = str(target)
    if not path:
        raise ApplicationError(_("No file given."), field_errors={"file": [_("Required.")]})
    return ImportJob.objects.create(
        kind=kind,
        source=source,
        file_name=Path(file_name).name,
        file_path=path,
        mapping=mapping or {},
        mode=mode,
        dry_run=dry_run,
        created_by=acting_user(actor),
        language=_language_of(language),
    )


def _language_of(language: str | None) -> str:
    """Return a language of LANGUAGES for ``language`` (default: the active one)."""
    code = language or translation.get_language() or settings.LANGUAGE_CODE
    try:
        return translation.get_supported_language_variant(code)
    except LookupError:
        return str(settings.LANGUAGE_CODE)


def _progress_key(job_id: int) -> str:
    return f"dataio:import:{job_id}:progress"


def import_job_progress(job: ImportJob) -> dict[str, Any]:
    """Return live progress: from the cache while a transaction hides the job row's updates."""
    live = cache.get(_progress_key(job.pk))
    if live and not job.is_finished:
        return live
    return {"rows": job.rows_read, "fraction": job.progress if not job.is_finished else 1.0}


def _storable(message: str) -> str:
    """The message without control characters: it may quote the file (a header read in
    the wrong encoding is full of NULs), and a NUL would make storing the failure fail,
    leaving the job "running" for ever."""
    return FORBIDDEN_CHARACTERS.sub("\ufffd", message)[:4000]


def import_job_run(*, job_id: int, on_progress: ProgressCallback | None = None) -> ImportJob:
    """Run a recorded import and store its outcome on the job (status, counts, errors).

    Not atomic itself: ``import_file`` decides the transactions by mode. The
    messages are made and stored in the job's language (the one it was created
    in), whichever language the worker that runs it has.
    """
    job = ImportJob.objects.only("language").get(pk=job_id)
    with translation.override(job.language or settings.LANGUAGE_CODE):
        return _import_job_run(job_id=job_id, on_progress=on_progress)


def _import_job_run(*, job_id: int, on_progress: ProgressCallback | None) -> ImportJob:
    job = ImportJob.objects.select_related("created_by").get(pk=job_id)
    if job.status != ImportJob.Status.PENDING:
        return job
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.RUNNING, started_at=timezone.now()
    )

    def progress(rows: int, fraction: float) -> None:
        cache.set(_progress_key(job.pk), {"rows": rows, "fraction": fraction}, 3600)
        ImportJob.objects.filter(pk=job.pk).update(rows_read=rows, progress=fraction)
        if on_progress:
            on_progress(rows, fraction)

    report = Path(settings.MEDIA_ROOT) / "dataio" / "reports" / f"job-{job.pk}-bad-rows.csv"
    try:
        result = import_file(
            kind=job.kind,
            path=job.file_path,
            file_name=job.file_name,
            mapping=job.mapping,
            mode=job.mode,
            dry_run=job.dry_run,
            actor=job.created_by,
            job_id=job.pk,
            report_path=report,
            on_progress=progress,
        )
    except (ApplicationError, DatabaseError) as exc:
        # A database error (a constraint the checks did not foresee) must not leave
        # the job "running" forever; the import's transaction was rolled back.
        message = (
            exc.message
            if isinstance(exc, ApplicationError)
            else _("database error: %(error)s") % {"error": exc}
        )
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportJob.Status.FAILED,
            message=_storable(message),
            finished_at=timezone.now(),
            progress=1.0,
        )
    except Exception:
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportJob.Status.FAILED,
            message=_("internal error; see the server log"),
            finished_at=timezone.now(),
        )
        raise
    else:
        ImportJob.objects.filter(pk=job.pk).update(
            status=result.status,
            progress=1.0,
            rows_read=result.rows_read,
            rows_created=result.created,
            rows_updated=result.updated,
            rows_unchanged=result.unchanged,
            rows_failed=result.failed,
            errors=[
                {k: _storable(v) if isinstance(v, str) else v for k, v in e.items()}
                for e in result.errors
            ],
            message=_storable(result.summary()),
            report_path=result.report_path,
            finished_at=timezone.now(),
        )
    cache.delete(_progress_key(job.pk))
    job.refresh_from_db()
    return job


def import_job_enqueue(job: ImportJob, *, user: User | None = None) -> Job | None:
    """Run the job in the background (a job of ``core.jobs``) once its transaction commits.

    Returns the runner's job row; raises ``background.QueueUnavailable`` when
    the job queue is down (the import stays waiting and can be started again).
    """
    from .background import import_start

    return import_start(job, user=user)
