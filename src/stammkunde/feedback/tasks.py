"""Job kinds of the feedback app: thin wrappers around the services."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from stammkunde.core.jobs.registry import Every, JobContext, job_kind

from . import services


@job_kind(
    "feedback.run_triggers",
    label=_("Survey triggers"),
    description=_("Sends the survey invitations whose trigger fired."),
    schedule=Every(hours=1),
)
def feedback_run_triggers(ctx: JobContext) -> dict[str, int]:
    """Evaluate the survey triggers."""
    return services.triggers_run()
