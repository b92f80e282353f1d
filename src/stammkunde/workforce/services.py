"""Writes of the workforce app: imports, roster entries, staffing targets, partner contracts.

Each use case is one transaction; an import either stores every row of the
file or nothing (a bad row raises ApplicationError listing its line number).
Re-importing a file replaces the rows with the same key, so a corrected
file can simply be loaded again.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction

from stammkunde.core.access import User
from stammkunde.core.audit import audit_record
from stammkunde.core.errors import ApplicationError, validated
from stammkunde.core.models import ServicePartner

from .imports import roster_rows_parse, volume_rows_parse
from .models import ContactVolume, PartnerContract, RosterEntry, StaffingTarget

_DELETE_CHUNK = 500


@dataclass(frozen=True)
class ImportResult:
    rows: int
    replaced: int


def _require_perm(actor: User | None, perm: str) -> None:
    # ``actor=None`` is the CLI and the demo generator, which act as the system.
    if actor is not None and not actor.has_perm(perm):  # type: ignore[union-attr]
        raise PermissionDenied


def contact_volumes_import(*, actor: User | None, content: bytes | str) -> ImportResult:
    """Import contact volumes from CSV text: all rows or none.

    Rows with the same queue, channel, interval start and partner as stored
    rows replace them. Raises ApplicationError with ``line N`` field errors.
    """
    _require_perm(actor, "workforce.add_contactvolume")
    partners = dict(ServicePartner.objects.values_list("name", "id"))
    rows = volume_rows_parse(content, partners=partners)
    replaced = 0
    with transaction.atomic():
        groups: dict[tuple[str, str, int | None], list[datetime]] = defaultdict(list)
        for row in rows:
            groups[(row.queue, row.channel, partners.get(row.partner))].append(row.interval_start)
        for (queue, channel, partner_id), starts in groups.items():
            for i in range(0, len(starts), _DELETE_CHUNK):
                replaced += ContactVolume.objects.filter(
                    queue=queue,
                    channel=channel,
                    partner_id=partner_id,
                    interval_start__in=starts[i : i + _DELETE_CHUNK],
                ).delete()[0]
        ContactVolume.objects.bulk_create(
            [
                ContactVolume(
                    queue=r.queue,
                    channel=r.channel,
                    interval_start=r.interval_start,
                    interval_minutes=r.interval_minutes,
                    contacts=r.contacts,
                    handled_seconds=r.handled_seconds,
                    partner_id=partners.get(r.partner),
                    answered_in_sl=r.answered_in_sl,
                    resolved_first_contact=r.resolved_first_contact,
                    reopened=r.reopened,
                    csat_sum=r.csat_sum,
                    csat_count=r.csat_count,
                )
                for r in rows
            ],
            batch_size=2000,
        )
    return ImportResult(rows=len(rows), replaced=replaced)


def roster_import(*, actor: User | None, content: bytes | str) -> ImportResult:
    """Import roster entries from CSV text: all rows or none; same key replaces."""
    _require_perm(actor, "workforce.add_rosterentry")
    rows = roster_rows_parse(content)
    replaced = 0
    with transaction.atomic():
        groups: dict[tuple[str, date], list[time]] = defaultdict(list)
        for row in rows:
            groups[(row.queue, row.date)].append(row.interval_start)
        for (queue, day), starts in groups.items():
            replaced += RosterEntry.objects.filter(
                queue=queue, date=day, interval_start__in=starts
            ).delete()[0]
        RosterEntry.objects.bulk_create(
            [
                RosterEntry(
                    queue=r.queue,
                    date=r.date,
                    interval_start=r.interval_start,
                    interval_minutes=r.interval_minutes,
                    agents=r.agents,
                )
                for r in rows
            ],
            batch_size=2000,
        )
    return ImportResult(rows=len(rows), replaced=replaced)


def roster_block_set(
    *,
    actor: User | None,
    queue: str,
    day: date,
    start: time,
    end: time,
    agents: int,
    interval_minutes: int = 15,
) -> int:
    """Plan ``agents`` for ``queue`` on ``day`` in every interval from ``start`` to ``end``.

    ``end`` is exclusive; 00:00 as the end means midnight. Returns the number
    of intervals written; existing entries in the block are replaced.
    """
    _require_perm(actor, "workforce.add_rosterentry")
    errors: dict[str, list[str]] = {}
    if interval_minutes not in (15, 30, 60):
        errors["interval_minutes"] = ["must be 15, 30 or 60"]
    if agents < 0:
        errors["agents"] = ["must not be negative"]
    if not queue.strip():
        errors["queue"] = ["is required"]
    begin = datetime.combine(day, start)
    finish = datetime.combine(day + timedelta(days=1) if end == time(0) else day, end)
    if finish <= begin:
        errors["end"] = ["must be after the start"]
    for field, moment in (("start", start), ("end", end)):
        if not errors.get("interval_minutes") and (
            moment.second or (moment.hour * 60 + moment.minute) % interval_minutes
        ):
            errors[field] = [f"must fall on a {interval_minutes}-minute boundary"]
    if errors:
        raise ApplicationError(
            "; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()), field_errors=errors
        )
    step = timedelta(minutes=interval_minutes)
    slots = []
    slot = begin
    while slot < finish:
        slots.append(slot.time())
        slot += step
    with transaction.atomic():
        RosterEntry.objects.filter(queue=queue.strip(), date=day, interval_start__in=slots).delete()
        RosterEntry.objects.bulk_create(
            [
                RosterEntry(
                    queue=queue.strip(),
                    date=day,
                    interval_start=s,
                    interval_minutes=interval_minutes,
                    agents=agents,
                )
                for s in slots
            ]
        )
    return len(slots)


def staffing_target_set(
    *,
    actor: User | None,
    queue: str,
    channel: str,
    target_sl: Decimal,
    target_answer_s: int,
    shrinkage: Decimal,
    max_occupancy: Decimal | None = None,
    aht_override_s: int | None = None,
) -> StaffingTarget:
    """Create or change the staffing target of a queue and channel."""
    _require_perm(actor, "workforce.change_staffingtarget")
    with transaction.atomic():
        target = StaffingTarget.objects.select_for_update().filter(
            queue=queue, channel=channel
        ).first() or StaffingTarget(queue=queue, channel=channel)
        target.target_sl = target_sl
        target.target_answer_s = target_answer_s
        target.shrinkage = shrinkage
        target.max_occupancy = max_occupancy
        target.aht_override_s = aht_override_s
        validated(target, exclude=["queue", "channel"] if target.pk else None)
        target.save()
    return target


def partner_contract_set(
    *,
    actor: User | None,
    partner: ServicePartner | None,
    team_name: str = "",
    **terms: Any,
) -> PartnerContract:
    """Create or change the contract (prices, OLA targets) of a partner or the own team."""
    _require_perm(actor, "workforce.change_partnercontract")
    allowed = {
        "price_per_ticket",
        "price_per_minute",
        "min_sla_attainment",
        "min_fcr_rate",
        "max_reopen_rate",
        "min_csat",
        "max_handling_minutes",
    }
    unknown = set(terms) - allowed
    if unknown:
        raise ApplicationError(f"Unknown contract terms: {', '.join(sorted(unknown))}")
    with transaction.atomic():
        lookup: dict[str, Any] = (
            {"partner": partner}
            if partner is not None
            else {"partner__isnull": True, "team_name": team_name}
        )
        contract = PartnerContract.objects.select_for_update().filter(**lookup).first()
        created = contract is None
        if contract is None:
            contract = PartnerContract(partner=partner, team_name="" if partner else team_name)
        for field, value in terms.items():
            setattr(contract, field, value)
        validated(contract)
        contract.save()
        audit_record(
            actor=actor,
            action="create" if created else "update",
            obj=contract,
            changes={k: str(v) for k, v in terms.items()},
        )
    return contract
