"""The import engine: stream a file, check every row, write in set-based batches.

``import_file`` is the one use case; the CLI, the UI (through an ImportJob and
a background task) and tests call it. Two modes:

* all-or-nothing: every batch is written inside one transaction; one bad row
  rolls the whole file back (the remaining rows are still checked so that the
  report lists every error).
* good-rows: each batch commits on its own; bad rows are skipped and written
  with their errors to a CSV report.

A dry run is an all-or-nothing run that always rolls back, so its counts of
creates/updates are exactly what a real run would do.
"""

from __future__ import annotations

import csv
import gc
import json
import queue
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import formats, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from stammkunde.core.access import User, acting_user
from stammkunde.core.errors import ApplicationError

from ..exports_format import neutralise
from ..importers import (
    IMPORTERS,
    BatchOutcome,
    Context,
    Importer,
    Row,
    RowIssue,
    normalize_header,
)
from ..models import ImportJob, Kind
from ..readers import FileError, Table, open_table
from ..values import CellError
from .webhooks import webhook_emit

if TYPE_CHECKING:
    pass

PREFETCH = 2  # parsed batches waiting for the writer
MAX_STORED_ERRORS = 500
ProgressCallback = Callable[[int, float], None]


@dataclass
class ImportResult:
    """What one run did (counts are rows of the file)."""

    file_name: str
    kind: str
    dry_run: bool
    mode: str
    rows_read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    report_path: str = ""
    status: str = ImportJob.Status.DONE
    message: str = ""
    seconds: float = 0.0

    @property
    def rows_per_second(self) -> float:
        return self.rows_read / self.seconds if self.seconds else 0.0

    def summary(self) -> str:
        """Return the counts as one sentence in the active language (and the message)."""
        counts = {
            "file": self.file_name,
            "read": self.rows_read,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "failed": self.failed,
            "seconds": formats.number_format(self.seconds, 1),
            "speed": formats.number_format(self.rows_per_second, 0, force_grouping=True),
        }
        if self.dry_run:
            text = ngettext(
                "%(file)s: %(read)s row read; %(created)s would be created, "
                "%(updated)s updated, %(unchanged)s unchanged, %(failed)s failed "
                "(%(seconds)s s, %(speed)s rows/s).",
                "%(file)s: %(read)s rows read; %(created)s would be created, "
                "%(updated)s updated, %(unchanged)s unchanged, %(failed)s failed "
                "(%(seconds)s s, %(speed)s rows/s).",
                self.rows_read,
            )
        else:
            text = ngettext(
                "%(file)s: %(read)s row read; %(created)s were created, "
                "%(updated)s updated, %(unchanged)s unchanged, %(failed)s failed "
                "(%(seconds)s s, %(speed)s rows/s).",
                "%(file)s: %(read)s rows read; %(created)s were created, "
                "%(updated)s updated, %(unchanged)s unchanged, %(failed)s failed "
                "(%(seconds)s s, %(speed)s rows/s).",
                self.rows_read,
            )
        text = text % counts
        return f"{text} {self.message}".strip()


def error_text(file_name: str, issue: RowIssue) -> str:
    """Return ``file, line N, column “X”: message`` as shown to people (active language)."""
    where = {"file": file_name, "line": issue.line, "column": issue.column}
    if issue.column:
        place = _("%(file)s, line %(line)s, column “%(column)s”") % where
    else:
        place = _("%(file)s, line %(line)s") % where
    return _("%(place)s: %(message)s") % {"place": place, "message": issue.message}


def mapping_resolve(
    importer: type[Importer], columns: list[str], mapping: dict[str, str] | None
) -> dict[str, str]:
    """Return ``{target field: file column}``: the saved/explicit mapping, then header names.

    Raises FileError when the mapping names a missing column, names an unknown
    field, or a required field has no column.
    """
    mapping = dict(mapping or {})
    targets = {f.name: f for f in importer.fields}
    unknown = sorted(set(mapping) - set(targets))
    if unknown:
        raise FileError(
            _("the mapping names unknown field(s) %(unknown)s; known: %(known)s")
            % {"unknown": ", ".join(unknown), "known": ", ".join(targets)}
        )
    resolved: dict[str, str] = {}
    for target, column in mapping.items():
        if column and column not in columns:
            raise FileError(
                _("the mapping uses column “%(column)s”, which the file does not have")
                % {"column": column}
            )
        if column:
            resolved[target] = column
    by_header = {normalize_header(c): c for c in columns if c}
    used = set(resolved.values())
    for spec in importer.fields:
        if spec.name in resolved:
            continue
        for candidate in (spec.name, *spec.aliases):
            found = by_header.get(normalize_header(candidate))
            if found and found not in used:
                resolved[spec.name] = found
                used.add(found)
                break
    missing = [f.name for f in importer.fields if f.required and f.name not in resolved]
    for group in importer.one_of:
        if not any(t in resolved for t in group):
            missing.append(pgettext("between field names", " or ").join(group))
    if missing:
        raise FileError(
            _(
                "no column for required field(s): %(missing)s "
                "(columns in the file: %(columns)s; map them with --mapping)"
            )
            % {"missing": ", ".join(missing), "columns": ", ".join(columns)}
        )
    return resolved


_PLANS: dict[tuple[type[Importer], tuple[tuple[str, str], ...]], list[tuple[Any, ...]]] = {}


def _plan(importer: type[Importer], mapping: dict[str, str]) -> list[tuple[Any, ...]]:
    """Return (field, column, parser, required) per field, computed once per mapping."""
    key = (importer, tuple(sorted(mapping.items())))
    plan = _PLANS.get(key)
    if plan is None:
        # Unmapped optional fields are skipped: they cannot have a value.
        plan = [
            (f.name, mapping.get(f.name) or f.name, f.parse, f.required)
            for f in importer.fields
            if f.name in mapping or f.required
        ]
        _PLANS[key] = plan
    return plan


def _parse(
    importer: type[Importer],
    line: int,
    raw: dict[str, Any],
    mapping: dict[str, str],
    comma: bool,
    last: dict[str, tuple[Any, Any]],
    plan: list[tuple[Any, ...]] | None = None,
) -> tuple[Row, list[RowIssue]]:
    """Parse one record; ``plan`` is ``_plan(importer, mapping)`` if the caller has it.

    ``last`` holds each field's previous cell and value.
    The lines of one order repeat its id, customer, date and channel: a cell
    equal to the one above takes its value without parsing it again (values
    are immutable: text, numbers, dates).
    """
    values: dict[str, Any] = {}
    row = Row(line=line, raw=raw, values=values)
    if "__error__" in raw:
        return row, [RowIssue(line, "", str(raw["__error__"]))]
    issues: list[RowIssue] = []
    for name, column, parse, required in plan or _plan(importer, mapping):
        cell = raw.get(column)
        if type(cell) is str:
            before = last.get(name)
            if before is not None and before[0] == cell:
                values[name] = before[1]
                continue
            blank = not cell or cell.isspace()
        else:
            blank = cell is None or (isinstance(cell, str) and not cell.strip())
        if blank:
            if required:
                issues.append(RowIssue(line, column, _("is required")))
            continue
        try:
            values[name] = value = parse(cell, comma)
        except CellError as exc:
            issues.append(RowIssue(line, column, str(exc)))
        else:
            last[name] = (cell, value)
    for group in importer.one_of:
        for target in group:  # a loop, not any(<generator>): this runs for every row
            if values.get(target):
                break
        else:
            if any(i.column in {mapping.get(t) for t in group} for i in issues):
                continue
            issues.append(
                RowIssue(
                    line,
                    mapping.get(group[0], group[0]),
                    _("one of %(fields)s is required") % {"fields": ", ".join(group)},
                )
            )
    return row, issues


def _records(table: Table, kind: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield file rows; a JSON order with a ``lines`` list becomes one row per line."""
    not_an_object = _("each entry of “lines” must be an object")
    for line, raw in table.rows():
        nested = raw.get("lines") if kind == Kind.ORDERS and table.fmt == "jsonl" else None
        if isinstance(nested, list) and nested:
            head = {k: v for k, v in raw.items() if k != "lines"}
            for item in nested:
                yield (
                    line,
                    {**head, **item} if isinstance(item, dict) else {"__error__": not_an_object},
                )
        else:
            yield line, raw


class _Report:
    """The bad rows with their errors, as a CSV people can open, fix and import again."""

    def __init__(self, path: Path, columns: list[str]) -> None:
        self.path = path
        self.columns = columns
        self._handle: Any = None
        self._writer: Any = None

    def write(self, row: Row, issue: RowIssue) -> None:
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._handle = self.path.open("w", encoding="utf-8-sig", newline="")
            self._writer = csv.writer(self._handle, delimiter=";")
            # The report's own columns, named in the import's language.
            head = [_("line"), _("column"), _("error")]
            self._writer.writerow([*(self.columns or [_("data")]), *head])
        if self.columns:
            cells = [row.raw.get(c, "") for c in self.columns]
        else:
            cells = [json.dumps(row.raw, ensure_ascii=False, default=str)]
        self._writer.writerow(
            [neutralise(c) for c in cells] + [issue.line, issue.column, neutralise(issue.message)]
        )

    def close(self) -> str:
        if self._handle is not None:
            self._handle.close()
            return str(self.path)
        return ""


def import_file(
    *,
    kind: str,
    path: str | Path,
    file_name: str | None = None,
    mapping: dict[str, str] | None = None,
    mode: str = ImportJob.Mode.ALL_OR_NOTHING,
    dry_run: bool = False,
    actor: User | None = None,
    job_id: int | None = None,
    report_path: str | Path | None = None,
    batch_size: int | None = None,
    on_progress: ProgressCallback | None = None,
    language: str | None = None,
) -> ImportResult:
    """Import one file of ``kind``; return counts, the first errors and the report path.

    Raises FileError (an ApplicationError) when the file as a whole is unusable
    (type, encoding, header, mapping); row problems never raise, they are counted
    and reported with file, line and column. Every message is in ``language``
    (default: the active language), also those made in the worker threads.
    """
    with translation.override(language or translation.get_language()):
        return _import_file(
            kind=kind,
            path=path,
            file_name=file_name,
            mapping=mapping,
            mode=mode,
            dry_run=dry_run,
            actor=actor,
            job_id=job_id,
            report_path=report_path,
            batch_size=batch_size,
            on_progress=on_progress,
        )


def _import_file(
    *,
    kind: str,
    path: str | Path,
    file_name: str | None,
    mapping: dict[str, str] | None,
    mode: str,
    dry_run: bool,
    actor: User | None,
    job_id: int | None,
    report_path: str | Path | None,
    batch_size: int | None,
    on_progress: ProgressCallback | None,
) -> ImportResult:
    if kind not in IMPORTERS:
        raise ApplicationError(
            _("Unknown import kind “%(kind)s”.") % {"kind": kind},
            field_errors={"kind": [_("Unknown.")]},
        )
    if mode not in ImportJob.Mode.values:
        raise ApplicationError(
            _("Unknown mode “%(mode)s”.") % {"mode": mode}, field_errors={"mode": [_("Unknown.")]}
        )
    started = time.perf_counter()
    importer_cls = IMPORTERS[kind]
    table = open_table(path, file_name=file_name)
    result = ImportResult(file_name=table.file_name, kind=kind, dry_run=dry_run, mode=mode)
    try:
        if table.fmt == "jsonl":
            resolved: dict[str, str] = {}
        else:
            resolved = mapping_resolve(importer_cls, table.columns, mapping)
        report = _Report(
            Path(report_path)
            if report_path
            else Path(settings.MEDIA_ROOT) / "dataio" / "reports" / f"{uuid.uuid4().hex}.csv",
            table.columns,
        )
        actor_user = acting_user(actor)
        ctx = Context(
            job_id=job_id, actor_id=actor_user.pk if actor_user else None, columns=resolved
        )
        importer = importer_cls(ctx)
        single_transaction = dry_run or mode == ImportJob.Mode.ALL_OR_NOTHING
        runner = _Runner(
            importer,
            table,
            resolved,
            mapping or {},
            result,
            report,
            batch_size or importer_cls.batch_size,
            on_progress,
            single_transaction,
        )
        with _interpreter_tuned():
            if single_transaction:
                with transaction.atomic():
                    _relax_commit()
                    runner.run()
                    if dry_run or result.failed:
                        transaction.set_rollback(True)
            else:
                runner.run()
        result.report_path = report.close()
    finally:
        table.close()
    if result.failed and not dry_run and mode == ImportJob.Mode.ALL_OR_NOTHING:
        result.status = ImportJob.Status.ROLLED_BACK
        result.message = ngettext(
            "%(failed)s row failed; nothing was imported (all or nothing).",
            "%(failed)s rows failed; nothing was imported (all or nothing).",
            result.failed,
        ) % {"failed": result.failed}
        result.created = result.updated = result.unchanged = 0
    elif dry_run:
        result.message = _("Dry run: nothing was written.")
    result.seconds = time.perf_counter() - started
    return result


_DONE = object()


@contextmanager
def _in_background(items: Iterator[Any], depth: int) -> Iterator[Iterator[Any]]:
    """Run ``items`` in a worker thread, ``depth`` results ahead of the consumer.

    The worker must not touch the database (connections are per thread). Its
    exceptions (e.g. FileError for a broken file) are raised in the consumer;
    leaving the block early stops the worker before the file is closed. It
    speaks the consumer's language (a new thread has none activated).
    """
    language = translation.get_language()
    results: queue.Queue[Any] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: Any) -> bool:
        while not stop.is_set():
            try:
                results.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        try:
            with translation.override(language), _no_database():
                for item in items:
                    if not put(item):
                        return
        except BaseException as exc:  # handed to the consumer, raised there
            put(_Failure(exc))
            return
        put(_DONE)

    def consume() -> Iterator[Any]:
        while (item := results.get()) is not _DONE:
            if isinstance(item, _Failure):
                raise item.exc
            yield item

    worker = threading.Thread(target=work, name="dataio-parse", daemon=True)
    worker.start()
    try:
        yield consume()
    finally:
        stop.set()
        worker.join()


@contextmanager
def _no_database() -> Iterator[None]:
    """Refuse queries in a worker thread: it would get its own connection, outside the import's
    transaction (reads would miss the import's own rows, writes would escape a rollback)."""

    def refuse(*args: Any) -> Any:
        raise RuntimeError("the import's worker threads must not use the database")

    with connection.execute_wrapper(refuse):
        yield


def _checked_without_database(language: str | None, check: Callable[..., Any], *args: Any) -> Any:
    """Run a check in a worker thread: no database, the import's language."""
    with translation.override(language), _no_database():
        return check(*args)


@dataclass
class _Failure:
    exc: BaseException


@contextmanager
def _interpreter_tuned() -> Iterator[None]:
    """Tune the interpreter for the import's three threads; restore it afterwards.

    - Each full collection of the cyclic garbage collector walks every object
      of the process (Django, all apps: about a million); an import allocates
      enough rows to trigger hundreds of them, which cost a third of the
      importer's CPU time. ``gc.freeze`` moves the existing objects out of the
      collector's generations for the duration, and a higher first threshold
      lets the young rows (which form no cycles: reference counting frees
      them) be scanned less often.
    - The thread that talks to the database gives up the GIL on every
      statement and waits for it afterwards while the parse and check threads
      compute; the database idles meanwhile. A shorter switch interval (0.5 ms
      instead of 5 ms) hands it back sooner.
    """
    threshold = gc.get_threshold()
    interval = sys.getswitchinterval()
    gc.freeze()
    gc.set_threshold(max(threshold[0], 20_000), *threshold[1:])
    sys.setswitchinterval(min(interval, 0.0005))
    try:
        yield
    finally:
        sys.setswitchinterval(interval)
        gc.set_threshold(*threshold)
        gc.unfreeze()


def _relax_commit() -> None:
    """Let PostgreSQL confirm the import's commits before the WAL reaches the disk.

    A crash right after a commit may lose that last batch (never corrupt
    anything); re-running the file repairs it because every write is an upsert.
    This makes each batch's commit cheap instead of waiting for an fsync.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


class _Runner:
    """Reads, parses, batches and hands batches to the importer."""

    def __init__(
        self,
        importer: Importer,
        table: Table,
        resolved: dict[str, str],
        explicit: dict[str, str],
        result: ImportResult,
        report: _Report,
        batch_size: int,
        on_progress: ProgressCallback | None,
        single: bool,
    ) -> None:
        self.importer = importer
        self.table = table
        self.resolved = resolved
        self.explicit = explicit
        self.result = result
        self.report = report
        self.batch_size = batch_size
        self.on_progress = on_progress
        self.single = single
        self.write = True
        self._jsonl_mappings: dict[frozenset[str], dict[str, str]] = {}

    def _mapping_for(self, raw: dict[str, Any]) -> dict[str, str]:
        if self.table.fmt != "jsonl":
            return self.resolved
        keys = frozenset(raw)
        found = self._jsonl_mappings.get(keys)
        if found is None:
            try:
                found = mapping_resolve(type(self.importer), sorted(keys), self.explicit)
            except FileError:
                # Missing fields are reported per row ("is required") below.
                found = {f.name: f.name for f in self.importer.fields}
                found.update(self.explicit)
            self._jsonl_mappings[keys] = found
        return found

    def run(self) -> None:
        """Parse in a second thread while this one checks and writes the previous batch.

        The database calls release the GIL, so reading and parsing the next
        batch overlaps with PostgreSQL's work on the current one. At most
        ``PREFETCH`` parsed batches wait, so memory stays flat.
        """
        with _in_background(self._batches(), PREFETCH) as batches:
            if self.importer.pipelined:
                self._run_pipelined(batches)
            else:
                for batch in batches:
                    good, failures = self._split(batch)
                    self._finish(len(batch), failures, good, self.importer.process)
        if self.single:
            self.importer.finish(write=self.write)
            return
        with transaction.atomic():
            _relax_commit()
            self.importer.finish(write=self.write)

    def _run_pipelined(self, batches: Iterator[list[tuple[Row, list[RowIssue]]]]) -> None:
        """Check batch n+1 in a worker thread while batch n is written.

        Per batch: ``prepare`` (reads, this thread) → ``check`` (rules, worker)
        → ``write_checked`` (this thread). Batch n+1 is read before batch n is
        written, so its check gets batch n's check: orders created there count
        as stored. If the database refuses batch n, batch n+1 is read and
        checked again.
        """
        importer = self.importer
        check = partial(_checked_without_database, translation.get_language())
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="dataio-check") as worker:
            pending: tuple[int, list[Any], list[Row], Any] | None = None
            for batch in batches:
                good, failures = self._split(batch)
                before = pending[3].result() if pending and pending[3] else None
                checking = (
                    worker.submit(check, importer.check, good, importer.prepare(good), before)
                    if good
                    else None
                )
                if pending and not self._finish_checked(pending, before) and good:
                    checking = worker.submit(
                        check, importer.check, good, importer.prepare(good), None
                    )
                pending = (len(batch), failures, good, checking)
            if pending:
                last = pending[3].result() if pending[3] else None
                self._finish_checked(pending, last)

    def _finish_checked(self, pending: tuple[int, list[Any], list[Row], Any], checked: Any) -> bool:
        size, failures, good, _checking = pending
        return self._finish(
            size,
            failures,
            good,
            lambda rows, write: self.importer.write_checked(checked, write=write),
        )

    def _finish(
        self,
        size: int,
        failures: list[tuple[Row, RowIssue, bool]],
        good: list[Row],
        process: Callable[..., BatchOutcome],
    ) -> bool:
        """Report a batch's bad rows, write its good ones; False if the database refused them."""
        self.result.rows_read += size
        for row, issue, counted in failures:
            if counted:
                self._fail(row, issue)
            else:
                self._note(issue)
        written = self._process(good, process) if good else True
        if self.on_progress:
            self.on_progress(self.result.rows_read, self.table.fraction())
        return written

    def _batches(self) -> Iterator[list[tuple[Row, list[RowIssue]]]]:
        """Yield parsed rows in batches; the rows of one group never straddle two batches."""
        importer = type(self.importer)
        group_by = importer.group_by
        batch: list[tuple[Row, list[RowIssue]]] = []
        last_key: Any = object()
        comma = self.table.decimal_comma
        last: dict[str, tuple[Any, Any]] = {}
        mapping: dict[str, str] | None = None
        plan: list[tuple[Any, ...]] = []
        for line, raw in _records(self.table, self.importer.kind):
            if (found := self._mapping_for(raw)) is not mapping:
                mapping, plan = found, _plan(importer, found)
            row, issues = _parse(importer, line, raw, found, comma, last, plan)
            key = row.values.get(group_by) if group_by else None
            if len(batch) >= self.batch_size and (group_by is None or key != last_key):
                yield batch
                batch = []
            batch.append((row, issues))
            last_key = key
        if batch:
            yield batch

    def _fail(self, row: Row, issue: RowIssue) -> None:
        self.result.failed += 1
        if len(self.result.errors) < MAX_STORED_ERRORS:
            self.result.errors.append(
                {
                    "line": issue.line,
                    "column": issue.column,
                    "message": issue.message,
                    "text": error_text(self.table.file_name, issue),
                }
            )
        self.report.write(row, issue)

    def _split(
        self, batch: list[tuple[Row, list[RowIssue]]]
    ) -> tuple[list[Row], list[tuple[Row, RowIssue, bool]]]:
        """Return the rows to check and the failures (row, issue, counts as a failed row)."""
        group_by = type(self.importer).group_by
        bad_groups: dict[Any, int] = {}
        good: list[Row] = []
        failures: list[tuple[Row, RowIssue, bool]] = []
        for row, issues in batch:
            if issues:
                failures.append((row, issues[0], True))
                failures.extend((row, issue, False) for issue in issues[1:])
                if group_by and row.values.get(group_by) is not None:
                    bad_groups.setdefault(row.values[group_by], row.line)
        for row, issues in batch:
            if issues:
                continue
            if group_by and row.values.get(group_by) in bad_groups:
                key = row.values[group_by]
                message = _("line %(line)s of the same order (%(order)s) is invalid") % {
                    "line": bad_groups[key],
                    "order": key,
                }
                failures.append((row, RowIssue(row.line, "", message), True))
                continue
            good.append(row)
        return good, failures

    def _note(self, issue: RowIssue) -> None:
        """A second problem in a row already counted as failed: report it, count the row once."""
        if len(self.result.errors) < MAX_STORED_ERRORS:
            self.result.errors.append(
                {
                    "line": issue.line,
                    "column": issue.column,
                    "message": issue.message,
                    "text": error_text(self.table.file_name, issue),
                }
            )

    def _process(self, rows: list[Row], process: Callable[..., BatchOutcome]) -> bool:
        """Run ``process(rows, write=...)`` in the mode's transaction and count its outcome."""
        write = self.write
        try:
            if self.single:
                outcome = process(rows, write=write)
            else:
                with transaction.atomic():
                    _relax_commit()
                    outcome = process(rows, write=write)
                    self._emit(outcome.events, write)
        except DatabaseError as exc:
            if self.single:
                raise
            message = _("the database refused this batch: %(error)s") % {"error": exc}
            for row in rows:
                self._fail(row, RowIssue(row.line, "", message))
            return False
        if self.single:
            self._emit(outcome.events, write)
        self.result.created += outcome.created
        self.result.updated += outcome.updated
        self.result.unchanged += outcome.unchanged
        counted: set[int] = set()
        for row, issue in sorted(outcome.failed, key=lambda f: f[1].line):
            if id(row) in counted:
                self._note(issue)
            else:
                counted.add(id(row))
                self._fail(row, issue)
        if outcome.failed and self.single and not self.result.dry_run:
            # All or nothing: the file will be rolled back; keep checking, stop writing.
            self.write = False
        return True

    def _emit(self, events: dict[str, list[dict[str, Any]]], write: bool) -> None:
        if not write:
            return
        for event, items in events.items():
            if items:
                webhook_emit(
                    event=event, payload={"items": items, "import_job": self.importer.ctx.job_id}
                )
