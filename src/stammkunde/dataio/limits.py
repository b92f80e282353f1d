"""How big an import file may be: one setting, checked by the upload form, the API and the CLI.

``IMPORT_MAX_MB`` (env ``STAMMKUNDE_IMPORT_MAX_MB``, default 200) bounds the
disk an upload takes under MEDIA_ROOT and the time one job holds a worker.
Django's own upload settings do not: ``FILE_UPLOAD_MAX_MEMORY_SIZE`` only
decides when an upload is spooled to a temporary file, and
``DATA_UPLOAD_MAX_MEMORY_SIZE`` bounds bodies that are not files (forms, JSON).
"""

from __future__ import annotations

from django.conf import settings
from django.utils.formats import number_format
from django.utils.translation import gettext as _


def import_max_mb() -> int:
    return int(settings.IMPORT_MAX_MB)


def import_max_bytes() -> int:
    return import_max_mb() * 1024 * 1024


def import_size_problem(size: int) -> str | None:
    """Return why a file of ``size`` bytes is refused, or None when it may be imported."""
    if size <= import_max_bytes():
        return None
    return _("The file is %(size)s MB, larger than the limit of %(max)d MB for imports.") % {
        "size": number_format(size / (1024 * 1024), 1),
        "max": import_max_mb(),
    }
