"""``stammkunde import orders FILE``: import a file with a progress bar and a summary."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from tqdm import tqdm

from stammkunde.core.errors import ApplicationError
from stammkunde.dataio.importers import IMPORTERS
from stammkunde.dataio.limits import import_size_problem
from stammkunde.dataio.models import ImportJob
from stammkunde.dataio.services.import_jobs import import_job_create, import_job_run


class Command(BaseCommand):
    requires_system_checks: list[str] = []  # a data command; URL checks do not concern it
    help = "Import customers, products, orders, returns or subscriptions from CSV, xlsx or JSONL."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=sorted(IMPORTERS))
        parser.add_argument("file", help="a .csv, .xlsx or .jsonl file")
        parser.add_argument("--source", default="", help="source name; its saved mapping is used")
        parser.add_argument(
            "--mapping", default="", help='JSON {"field": "column"}; saved to --source'
        )
        parser.add_argument("--dry-run", action="store_true", help="check and count, write nothing")
        parser.add_argument(
            "--mode", choices=ImportJob.Mode.values, default=ImportJob.Mode.ALL_OR_NOTHING
        )
        parser.add_argument("--report", default="", help="write the bad rows (CSV) to this file")

    def handle(self, *args: Any, **opts: Any) -> None:
        path = Path(opts["file"])
        if not path.is_file():
            raise CommandError(_("%(file)s: no such file") % {"file": path})
        too_big = import_size_problem(path.stat().st_size)
        if too_big:
            raise CommandError(f"{path}: {too_big} (STAMMKUNDE_IMPORT_MAX_MB)")
        mapping: dict[str, str] = {}
        if opts["mapping"]:
            try:
                mapping = json.loads(opts["mapping"])
            except json.JSONDecodeError as exc:
                raise CommandError(_("--mapping is not JSON: %(error)s") % {"error": exc}) from exc
            if not isinstance(mapping, dict):
                raise CommandError(_('--mapping must be a JSON object {"field": "column"}'))
        try:
            job = import_job_create(
                actor=None,
                kind=opts["kind"],
                file_name=path.name,
                path=str(path.resolve()),
                source_name=opts["source"],
                mapping=mapping,
                mode=opts["mode"],
                dry_run=opts["dry_run"],
            )
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        with tqdm(total=100, unit="%", disable=None, bar_format="{l_bar}{bar}| {postfix}") as bar:

            def progress(rows: int, fraction: float) -> None:
                bar.n = round(fraction * 100, 1)
                bar.set_postfix_str(_("%(rows)s rows read") % {"rows": rows})

            job = import_job_run(job_id=job.pk, on_progress=progress)
        if job.status == ImportJob.Status.FAILED:
            raise CommandError(job.message)
        self.stdout.write(job.message)
        for error in job.errors[:20]:
            self.stdout.write(f"  {error['text']}")
        if job.rows_failed > 20:
            self.stdout.write(
                "  "
                + _("... and more: %(failed)s rows failed in total") % {"failed": job.rows_failed}
            )
        if opts["report"] and job.report_path:
            shutil.copyfile(job.report_path, opts["report"])
            self.stdout.write(_("Bad rows written to %(path)s") % {"path": opts["report"]})
        elif job.report_path:
            self.stdout.write(_("Bad rows: %(path)s") % {"path": job.report_path})
        if job.rows_failed:
            raise CommandError(
                ngettext("%(failed)s row failed", "%(failed)s rows failed", job.rows_failed)
                % {"failed": job.rows_failed}
            )
