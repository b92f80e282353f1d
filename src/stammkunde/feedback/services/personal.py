"""Personal data in the feedback app: erasure (Art. 17) and retention of free texts."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from ..models import Answer, Invitation, Response


@transaction.atomic
def customer_data_erase(*, customer: Any) -> dict[str, int]:
    """Erase survey free texts and invitation addresses of ``customer`` (Art. 17).

    Scores (NPS, CSAT, CES) and sentiment stay, so the feedback report's figures
    do not change; the texts and the address an invitation went to go.
    """
    responses = Response.objects.filter(customer=customer).values("id")
    return {
        "survey_answers": Answer.objects.filter(response__in=responses)
        .exclude(text="")
        .update(text=""),
        "survey_invitations": Invitation.objects.filter(customer=customer).update(email=""),
    }


def answer_texts_expire(*, before: Any, dry_run: bool) -> int:
    """Blank free-text answers submitted before ``before`` (retention); return how many."""
    qs = Answer.objects.filter(response__submitted_at__lt=before).exclude(text="")
    return qs.count() if dry_run else qs.update(text="")
