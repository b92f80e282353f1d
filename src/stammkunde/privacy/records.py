"""Records of processing activities (Art. 30): which data, why, on what basis, how long."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .selectors import retention_days


@dataclass(frozen=True)
class Record:
    data: Any
    purpose: Any
    basis: Any
    retention_kind: str = ""  # a RetentionPeriod kind, or "" with ``fixed`` below
    fixed: Any = ""


RECORDS = (
    Record(
        _("Master data: names, e-mails, phones, addresses, contact persons, birthday"),
        _("Customer relationship, orders, service"),
        _("Art. 6(1)(b) contract; (f) legitimate interest for prospects"),
        "prospects",
        _("until erasure; inactive prospects after the retention period"),
    ),
    Record(
        _("Orders, returns, credit notes, subscriptions"),
        _("Contract, accounting"),
        _("Art. 6(1)(b), (c): HGB § 257, AO § 147"),
        fixed=_("10 years (kept pseudonymised after an erasure)"),
    ),
    Record(
        _("Consents with proof, double opt-in records"),
        _("Proof of consent (Art. 7(1))"),
        _("Art. 6(1)(c)"),
        fixed=_("while the consent is used, then until erasure"),
    ),
    Record(
        _("Raw inbound e-mails"),
        _("Service desk: reading and threading mails"),
        _("Art. 6(1)(b), (f)"),
        "raw_mail",
    ),
    Record(
        _("Quarantined e-mails"),
        _("Protection against spam and malware"),
        _("Art. 6(1)(f)"),
        "quarantine",
    ),
    Record(
        _("Ticket texts, messages and attachments"),
        _("Service desk"),
        _("Art. 6(1)(b), (f)"),
        "closed_tickets",
    ),
    Record(
        _("Survey answers (free texts)"),
        _("Quality of service, closing the loop"),
        _("Art. 6(1)(a) consent"),
        "survey_text",
    ),
    Record(
        _("Scores: churn risk, CLV, value class, lifecycle phase"),
        _("Profiling for retention (Art. 22 does not apply: no decision with legal effect)"),
        _("Art. 6(1)(f); objection under Art. 21"),
        fixed=_("recomputed on every scoring run; erased with the person"),
    ),
    Record(
        _("Loyalty ledger, vouchers, cards"),
        _("Loyalty programme"),
        _("Art. 6(1)(b)"),
        fixed=_("while the account exists; sums kept pseudonymised after an erasure"),
    ),
    Record(
        _("Audit entries (who changed or saw which personal data)"),
        _("Accountability (Art. 5(2)), security"),
        _("Art. 6(1)(c), (f)"),
        "audit",
    ),
    Record(
        _("Data exports for data subject requests"),
        _("Right of access and portability (Art. 15, 20)"),
        _("Art. 6(1)(c)"),
        "exports",
    ),
)


def processing_records() -> list[dict[str, Any]]:
    """Return the records with the retention periods as set now."""
    days = retention_days()
    out = []
    for record in RECORDS:
        if record.retention_kind:
            n = days[record.retention_kind]
            period = ngettext("%(n)d day", "%(n)d days", n) % {"n": n}
            if record.fixed:
                period = f"{period} ({record.fixed})"
        else:
            period = str(record.fixed)
        out.append(
            {
                "data": record.data,
                "purpose": record.purpose,
                "basis": record.basis,
                "period": period,
            }
        )
    return out
