"""`stammkunde mail ...`: ingest files or stdin, listen on LMTP/SMTP, poll IMAP, send the outbox."""

from __future__ import annotations

import json
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from stammkunde.core.errors import ApplicationError


class Command(BaseCommand):
    help = "Email channel: ingest, lmtp, smtp, poll, reprocess, send-outbox."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        ingest = sub.add_parser("ingest", help="Ingest RFC 5322 files (or one from stdin).")
        ingest.add_argument("files", nargs="*", help="message files; none or '-' reads stdin")
        ingest.add_argument("--mailbox", help="name of the mailbox the messages belong to")
        ingest.add_argument(
            "--jobs",
            type=int,
            default=1,
            help="worker processes (PostgreSQL); replies still run in order",
        )
        for name in ("lmtp", "smtp"):
            p = sub.add_parser(name, help=f"Run an {name.upper()} server that ingests mail.")
            p.add_argument("--host", default="127.0.0.1")
            p.add_argument("--port", type=int, default=2424 if name == "lmtp" else 2525)
        poll = sub.add_parser("poll", help="Fetch new mail of the IMAP mailboxes.")
        poll.add_argument("--mailbox", help="only this mailbox (name)")
        poll.add_argument(
            "--loop", type=int, metavar="SECONDS", help="poll again every SECONDS until interrupted"
        )
        reprocess = sub.add_parser("reprocess", help="Reprocess quarantined messages.")
        reprocess.add_argument("ids", nargs="+", type=int)
        sub.add_parser("send-outbox", help="Send due outbound mail (retries with back-off).")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "ingest":
            self._ingest(options["files"], options.get("mailbox"), options["jobs"])
        elif action in ("lmtp", "smtp"):
            self._listen(options["host"], options["port"], lmtp=action == "lmtp")
        elif action == "poll":
            self._poll(options.get("mailbox"), options.get("loop"))
        elif action == "reprocess":
            self._reprocess(options["ids"])
        elif action == "send-outbox":
            from stammkunde.channels.services import outbox_send_due

            self.stdout.write(json.dumps(outbox_send_due()))

    def _mailbox(self, name: str | None) -> Any:
        from stammkunde.channels.models import Mailbox

        if not name:
            return None
        mailbox = Mailbox.objects.filter(name=name).first()
        if mailbox is None:
            raise CommandError(f"no mailbox named {name!r}")
        return mailbox

    def _ingest(self, files: list[str], mailbox_name: str | None, jobs: int) -> None:
        from stammkunde.channels.batch import ingest_files

        mailbox = self._mailbox(mailbox_name)

        def emit(row: dict[str, Any]) -> None:
            self.stdout.write(json.dumps(row, ensure_ascii=False))

        failed = ingest_files(
            files or ["-"], mailbox_id=mailbox.pk if mailbox else None, jobs=jobs, emit=emit
        )
        if failed:
            raise CommandError(f"{failed} message(s) were neither stored nor quarantined")

    def _listen(self, host: str, port: int, *, lmtp: bool) -> None:
        from stammkunde.channels.listener import listener_start

        controller = listener_start(host=host, port=port, lmtp=lmtp)
        self.stdout.write(f"{'LMTP' if lmtp else 'SMTP'} listening on {host}:{port}")
        self.stdout.flush()
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
        finally:
            controller.stop()

    def _poll(self, name: str | None, loop: int | None) -> None:
        from stammkunde.channels.imap import mailbox_poll, mailbox_poll_all

        while True:
            if name:
                report = mailbox_poll(mailbox=self._mailbox(name))
                self.stdout.write(
                    json.dumps(
                        {
                            "mailbox": report.mailbox,
                            "fetched": report.fetched,
                            "results": report.results,
                            "rescanned": report.rescanned,
                        }
                    )
                )
            else:
                self.stdout.write(json.dumps(mailbox_poll_all()))
            if not loop:
                return
            time.sleep(loop)

    def _reprocess(self, ids: list[int]) -> None:
        from stammkunde.channels.services import mail_reprocess

        for pk in ids:
            try:
                result = mail_reprocess(inbound_id=pk)
            except ApplicationError as exc:
                raise CommandError(f"{pk}: {exc.message}") from exc
            self.stdout.write(
                json.dumps(
                    {
                        "inbound": pk,
                        "result": result.result,
                        "ticket": _number(result.ticket_id),
                        "reason": result.reason,
                    },
                    ensure_ascii=False,
                )
            )


def _number(ticket_id: int | None) -> str | None:
    if ticket_id is None:
        return None
    from stammkunde.service.models import Ticket

    return Ticket.objects.filter(pk=ticket_id).values_list("number", flat=True).first()
