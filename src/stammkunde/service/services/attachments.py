"""Files on a ticket: size and type checks, storage."""

from __future__ import annotations

import mimetypes
from datetime import datetime
from typing import TYPE_CHECKING

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from stammkunde.core.access import User, acting_user
from stammkunde.core.errors import ApplicationError

from ..models import (
    Attachment,
    Message,
    Ticket,
)
from .events import timeline_add

if TYPE_CHECKING:
    pass


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
