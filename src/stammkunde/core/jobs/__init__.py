"""The one job runner: every app's background and recurring work goes through it.

Apps declare a kind with :func:`stammkunde.core.jobs.registry.job_kind` in their
``tasks.py`` and start it with :func:`stammkunde.core.jobs.services.job_start`;
see ``docs/operations.md`` and ``docs/adr/0001-one-job-runner.md``.
"""
