"""What Import/Export holds about a person, for the privacy app (DSGVO Art. 15, 17).

A list export already written may name the person; which rows a file holds is
not recorded, so erasure deletes every list file written before it (the job
row stays, with a message saying why the file is gone).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils.translation import gettext_noop

from ..models import ExportJob
from . import dedup

if TYPE_CHECKING:
    from stammkunde.customers.models import Customer

EXPORT_ERASED = gettext_noop(
    "The file was deleted because a customer was erased (Art. 17 DSGVO); export the list again."
)


def customer_data_export(customer: Customer) -> dict[str, Any]:
    """The person's data held by Import/Export (duplicate suspicions)."""
    return dedup.customer_data_export(customer)


def customer_data_erase(*, customer: Customer) -> dict[str, int]:
    """Delete the duplicate suspicions about ``customer`` and every list file written so far.

    Files go after the commit, so an erasure that rolls back leaves them in place.
    """
    counts = dedup.customer_data_erase(customer=customer)
    written = ExportJob.objects.exclude(file_path="")
    paths = list(written.values_list("file_path", flat=True))
    counts["list_exports"] = written.update(file_path="", message=EXPORT_ERASED)

    def unlink() -> None:
        for name in paths:
            Path(name).unlink(missing_ok=True)

    transaction.on_commit(unlink)
    return counts
