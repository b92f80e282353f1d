"""`stammkunde jobs`: list, run (with a progress bar), retry, the schedule, the watchdog."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from stammkunde.core.errors import ApplicationError
from stammkunde.core.jobs import schedule, selectors, services
from stammkunde.core.jobs.models import Job
from stammkunde.core.jobs.registry import kind_get, kinds_all


def _params(pairs: list[str]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise CommandError(f"--param expects KEY=VALUE, got {pair!r}")
        params[key] = int(value) if value.lstrip("-").isdigit() else value
    return params


class Command(BaseCommand):
    help = "Background jobs: list them, run one with a progress bar, retry, schedule."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        listing = sub.add_parser("list", help="running and recent jobs, and the schedule")
        listing.add_argument("--limit", type=int, default=20)
        kinds = sub.add_parser("kinds", help="every registered job kind")
        kinds.set_defaults()
        run = sub.add_parser("run", help="start a job and follow its progress")
        run.add_argument("kind")
        run.add_argument("--param", action="append", default=[], metavar="KEY=VALUE")
        run.add_argument(
            "--here",
            action="store_true",
            help="run in this process instead of handing it to the workers",
        )
        retry = sub.add_parser("retry", help="start a failed or unsent job again")
        retry.add_argument("job_id", type=int)
        sub.add_parser("watchdog", help="fail jobs whose worker stopped")
        sub.add_parser("sync", help="give every scheduled kind its schedule row (idempotent)")
        sub.add_parser("tick", help="start the scheduled jobs that are due, once")

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, f"_{options['action']}")(options)

    def _list(self, options: dict[str, Any]) -> None:
        self.stdout.write("Schedule:")
        for row in selectors.schedule_overview():
            last = row.last_job
            outcome = f"{last.status} {last.finished_at:%Y-%m-%d %H:%M:%S}" if last else "never"
            flag = "  OVERDUE" if row.overdue else ""
            nxt = f"{row.next_run_at:%Y-%m-%d %H:%M:%S}" if row.next_run_at else "-"
            self.stdout.write(f"  {row.kind.name:34} next {nxt}  last {outcome}{flag}")
        self.stdout.write("Jobs:")
        rows = Job.objects.order_by("-id")[: options["limit"]]
        for job in rows:
            progress = selectors.job_progress(job)
            share = f"{progress.done}/{progress.total}" if progress.total else f"{progress.done}"
            self.stdout.write(
                f"  #{job.pk:<6} {job.kind:34} {job.status:9} {share:>12}  {job.error[:60]}"
            )

    def _kinds(self, options: dict[str, Any]) -> None:
        for kind in kinds_all():
            when = str(kind.schedule) if kind.schedule else "on demand"
            self.stdout.write(f"{kind.name:34} {when:22} {kind.label}")

    def _run(self, options: dict[str, Any]) -> None:
        try:
            kind = kind_get(options["kind"])
        except KeyError as exc:
            raise CommandError(str(exc.args[0])) from exc
        params = _params(options["param"])
        if options["here"]:
            from django.test.utils import override_settings

            # A thread of this process runs it while the bar follows its row.
            with override_settings(
                JOBS_INLINE=False, CELERY_BROKER_URL="", CELERY_TASK_ALWAYS_EAGER=True
            ):
                self._follow(self._start(kind.name, params))
        else:
            self._follow(self._start(kind.name, params))

    def _start(self, kind: str, params: dict[str, Any]) -> Job:
        try:
            return services.job_start_checked(kind=kind, params=params, trigger=Job.Trigger.CLI)
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc

    def _follow(self, job: Job) -> None:
        with tqdm(desc=f"{job.kind} #{job.pk}", unit="", disable=None) as bar:
            while True:
                job.refresh_from_db()
                progress = selectors.job_progress(job)
                if progress.total and bar.total != progress.total:
                    bar.total = progress.total
                bar.n = progress.done
                if progress.message:
                    bar.set_postfix_str(progress.message, refresh=False)
                bar.refresh()
                if job.is_finished:
                    break
                time.sleep(0.5)
        if job.status != Job.Status.DONE:
            raise CommandError(f"job #{job.pk} {job.get_status_display()}: {job.error}")
        self.stdout.write(f"job #{job.pk} done in {job.duration_seconds or 0:.1f} s: {job.result}")

    def _retry(self, options: dict[str, Any]) -> None:
        job = Job.objects.filter(pk=options["job_id"]).first()
        if job is None:
            raise CommandError(f"no job #{options['job_id']}")
        try:
            new = services.job_retry(job=job)
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        assert new is not None
        self._follow(new)

    def _watchdog(self, options: dict[str, Any]) -> None:
        self.stdout.write(f"{services.jobs_watchdog()} jobs failed")

    def _sync(self, options: dict[str, Any]) -> None:
        created = schedule.schedule_sync()
        self.stdout.write(f"{len(created)} schedule rows created: {', '.join(created) or '-'}")

    def _tick(self, options: dict[str, Any]) -> None:
        started = schedule.schedule_tick()
        self.stdout.write(f"started: {', '.join(started) or '-'}")
