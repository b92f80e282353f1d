"""Programme rules of the settings page: points per euro, expiry, tiers (all or nothing).

Every function here checks the programme as it would be after the change
(points per euro not negative, expiry in whole years, every tier's threshold
above the one of the tier beneath it) before it writes anything, inside one
transaction, and refuses a contradiction with a message that says what to
change. Each change leaves an audit entry. The messages are translated here:
they are meant for the person at the form.

Field errors of a tier are keyed ``tiers.<n>.<field>``, ``n`` being the tier's
position in the list the caller passed (``tier_save`` reports plain field
names); errors about the tier list as a whole are keyed ``tiers``.

Pages that save the programme's other fields themselves (``program_configure``:
the marketing page and the Django admin) check and write the tier list with
``tiers_check`` and ``tiers_apply``: the same checks, messages and audit.

Points of an order are always rounded down to whole points (``orders``): the
programme has no rounding setting.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from stammkunde.core.access import User
from stammkunde.core.audit import audit_record, diff, snapshot
from stammkunde.core.errors import ApplicationError

from ..models import LoyaltyAccount, LoyaltyProgram, Tier

PROGRAM_RULE_FIELDS = (
    "name",
    "active",
    "points_per_euro",
    "point_value",
    "expiry_years",
    "tier_basis",
)
TIER_FIELDS = (
    "name",
    "rank",
    "threshold",
    "points_multiplier",
    "discount_percent",
    "sla_class",
    "free_addons",
)
EXPIRY_YEARS_MAX = 50
_TIER_DEFAULTS: dict[str, Any] = {
    "threshold": Decimal("0"),
    "points_multiplier": Decimal("1.00"),
    "discount_percent": Decimal("0"),
    "sla_class": "",
    "free_addons": "",
}
_RANK_PARKING = 30000  # ranks moved out of the way while tiers swap places


class _Errors:
    """Field errors collected before anything is written (all at once, not the first)."""

    def __init__(self) -> None:
        self.fields: dict[str, list[str]] = {}

    def add(self, key: str, message: str) -> None:
        self.fields.setdefault(key, []).append(message)

    def raise_if_any(self, code: str = "program_rules") -> None:
        if self.fields:
            text = " ".join(m for messages in self.fields.values() for m in messages)
            raise ApplicationError(text, code=code, field_errors=self.fields)


def _decimal(value: Any) -> Decimal | None:
    """``value`` as a finite Decimal (a German decimal comma allowed), else None."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value).strip().replace(",", "."))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _whole(value: Any) -> int | None:
    number = _decimal(value)
    if number is None or number != number.to_integral_value():
        return None
    return int(number)


def _places(number: Decimal) -> int:
    exponent = number.normalize().as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def _fixed(number: Decimal | None, places: int) -> Decimal | None:
    """``number`` with the column's decimal places (as stored: no audit of 1 vs 1.000)."""
    if number is None or _places(number) > places or abs(number) >= Decimal("1e12"):
        return number
    return number.quantize(Decimal(1).scaleb(-places))


def _shown(number: Decimal) -> str:
    return number_format(number.quantize(Decimal(1)) if number == number.to_integral() else number)


# --------------------------------------------------------------------------- checks
def _program_clean(
    data: Mapping[str, Any], errors: _Errors, program: LoyaltyProgram | None
) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    name = str(data.get("name") or "").strip()
    if not name:
        errors.add("name", _("Give the program a name."))
    elif len(name) > 100:
        errors.add("name", _("The name may have at most 100 characters."))
    else:
        others = LoyaltyProgram.objects.filter(name=name)
        if program is not None:
            others = others.exclude(pk=program.pk)
        if others.exists():
            errors.add(
                "name", _("A program named %(name)s exists. Choose another name.") % {"name": name}
            )
    clean["name"] = name
    clean["active"] = bool(data.get("active"))

    per_euro = _decimal(data.get("points_per_euro"))
    if per_euro is None:
        errors.add("points_per_euro", _("Enter the points per euro as a number, e.g. 1 or 0.5."))
    elif per_euro < 0:
        errors.add(
            "points_per_euro",
            _(
                "Points per euro cannot be negative. Enter 0 (purchases earn no points) "
                "or a positive number."
            ),
        )
    elif _places(per_euro) > 3:
        errors.add("points_per_euro", _("Points per euro have at most 3 decimal places."))
    elif per_euro >= 100000:
        errors.add("points_per_euro", _("Enter fewer than 100,000 points per euro."))
    clean["points_per_euro"] = _fixed(per_euro, 3)

    value = _decimal(data.get("point_value"))
    if value is None:
        errors.add("point_value", _("Enter the value of one point in euros, e.g. 0.01."))
    elif value <= 0:
        errors.add("point_value", _("A point must be worth more than 0 euros. Enter e.g. 0.01."))
    elif _places(value) > 4:
        errors.add("point_value", _("The value of one point has at most 4 decimal places."))
    elif value >= 10000:
        errors.add("point_value", _("A point is worth less than 10,000 euros."))
    clean["point_value"] = _fixed(value, 4)

    years = _whole(data.get("expiry_years"))
    if years is None:
        errors.add(
            "expiry_years",
            _("Enter the expiry as a whole number of years (0: points never expire)."),
        )
    elif years < 0:
        errors.add(
            "expiry_years",
            _(
                "The expiry cannot be negative. Enter after how many years points expire "
                "(0: points never expire)."
            ),
        )
    elif years > EXPIRY_YEARS_MAX:
        errors.add(
            "expiry_years",
            _("Points expire after at most %(max)d years. Enter %(max)d or fewer (0: never).")
            % {"max": EXPIRY_YEARS_MAX},
        )
    clean["expiry_years"] = years

    basis = data.get("tier_basis")
    if basis not in LoyaltyProgram.TierBasis.values:
        errors.add("tier_basis", _("Choose whether tiers count points or spend."))
    clean["tier_basis"] = basis
    return clean


@dataclass
class _TierPlan:
    """One tier as it will be: ``pos`` is its place in the caller's list (None: untouched)."""

    values: dict[str, Any]
    pos: int | None
    tier: Tier | None = None
    errors: dict[str, list[str]] = field(default_factory=dict)

    def key(self, name: str) -> str:
        return f"tiers.{self.pos}.{name}" if self.pos is not None else "tiers"


def _tier_clean(raw: Mapping[str, Any], base: Mapping[str, Any], plan: _TierPlan) -> None:
    """Check one tier's values (``raw`` over ``base``) into ``plan.values``."""
    merged = {**base, **{k: v for k, v in raw.items() if k in TIER_FIELDS}}
    errors: list[tuple[str, str]] = []
    name = str(merged.get("name") or "").strip()
    label = name or _("tier %(n)d") % {"n": (plan.pos or 0) + 1}
    if not name:
        errors.append(("name", _("Give every tier a name.")))
    elif len(name) > 60:
        errors.append(("name", _("A tier name has at most 60 characters.")))
    rank = _whole(merged.get("rank"))
    if rank is None or not 0 <= rank < _RANK_PARKING:
        errors.append(
            (
                "rank",
                _("The rank of %(tier)s is a whole number from 0 (entry level) up.")
                % {"tier": label},
            )
        )
    threshold = _decimal(merged.get("threshold"))
    if threshold is None or threshold < 0:
        errors.append(
            (
                "threshold",
                _("The threshold of %(tier)s is a number of 0 or more.") % {"tier": label},
            )
        )
    elif _places(threshold) > 2 or threshold >= Decimal("1e10"):
        errors.append(
            (
                "threshold",
                _("Enter the threshold of %(tier)s with at most 2 decimal places.")
                % {"tier": label},
            )
        )
    factor = _decimal(merged.get("points_multiplier"))
    if factor is None or factor < 0 or _places(factor) > 2 or factor >= 1000:
        errors.append(
            (
                "points_multiplier",
                _(
                    "The points multiplier of %(tier)s is a number from 0 to 999.99 "
                    "(1: normal points)."
                )
                % {"tier": label},
            )
        )
    discount = _decimal(merged.get("discount_percent"))
    if discount is None or not 0 <= discount <= 100 or _places(discount) > 2:
        errors.append(
            (
                "discount_percent",
                _("The discount of %(tier)s is a percentage from 0 to 100.") % {"tier": label},
            )
        )
    sla_class = str(merged.get("sla_class") or "").strip()
    if len(sla_class) > 20:
        errors.append(("sla_class", _("A service level class has at most 20 characters.")))
    addons = str(merged.get("free_addons") or "").strip()
    if len(addons) > 300:
        errors.append(("free_addons", _("Describe the free add-ons in at most 300 characters.")))
    for name_, message in errors:
        plan.errors.setdefault(name_, []).append(message)
    plan.values = {
        "name": name,
        "rank": rank,
        "threshold": _fixed(threshold, 2),
        "points_multiplier": _fixed(factor, 2),
        "discount_percent": _fixed(discount, 2),
        "sla_class": sla_class,
        "free_addons": addons,
    }


def _tiers_order_check(plans: list[_TierPlan]) -> None:
    """Ranks and names unique; each threshold above the one of the tier beneath it."""
    by_rank: dict[int, _TierPlan] = {}
    names: dict[str, _TierPlan] = {}
    # Untouched tiers first: a clash is reported on the tier being changed.
    for plan in sorted(plans, key=lambda p: (p.pos is not None, p.pos or 0)):
        rank, name = plan.values["rank"], plan.values["name"]
        if rank is not None:
            other = by_rank.get(rank)
            if other is not None:
                plan.errors.setdefault("rank", []).append(
                    _(
                        "%(tier)s and %(other)s both have rank %(rank)d. "
                        "Give each tier its own rank."
                    )
                    % {"tier": name, "other": other.values["name"], "rank": rank}
                )
            else:
                by_rank[rank] = plan
        if name:
            if name.casefold() in names:
                plan.errors.setdefault("name", []).append(
                    _("Two tiers are named %(name)s. Give each tier its own name.") % {"name": name}
                )
            names.setdefault(name.casefold(), plan)
    ordered = [by_rank[r] for r in sorted(by_rank) if by_rank[r].values["threshold"] is not None]
    for below, above in zip(ordered, ordered[1:], strict=False):
        low, high = below.values["threshold"], above.values["threshold"]
        if high > low:
            continue
        names_values = {
            "tier": above.values["name"],
            "value": _shown(high),
            "below": below.values["name"],
            "below_value": _shown(low),
        }
        above.errors.setdefault("threshold", []).append(
            _(
                "The threshold of %(tier)s (%(value)s) must be above the one of %(below)s, "
                "the tier beneath it (%(below_value)s). Raise the threshold of %(tier)s "
                "or lower the one of %(below)s."
            )
            % names_values
        )
        below.errors.setdefault("threshold", []).append(
            _(
                "The threshold of %(below)s (%(below_value)s) must be below the one of "
                "%(tier)s, the tier above it (%(value)s). Lower the threshold of %(below)s "
                "or raise the one of %(tier)s."
            )
            % names_values
        )


@dataclass
class TierChanges:
    """The checked tier list of a programme: what to write (``tiers_apply``) and delete."""

    keep: list[_TierPlan]
    delete: list[Tier]


@dataclass
class _Plan:
    program: dict[str, Any]
    tiers: TierChanges


def _tiers_plan(
    program: LoyaltyProgram | None, tiers: Sequence[Mapping[str, Any]], errors: _Errors
) -> TierChanges:
    """Check the tiers the change would leave; add each problem to ``errors``."""
    existing = {t.pk: t for t in Tier.objects.filter(program=program)} if program else {}
    mentioned: set[int] = set()
    keep: list[_TierPlan] = []
    delete: list[Tier] = []
    for pos, raw in enumerate(tiers):
        pk = raw.get("id")
        tier = None
        if pk not in (None, ""):
            tier = existing.get(_whole(pk) or -1)
            if tier is None or tier.pk in mentioned:
                errors.add(
                    f"tiers.{pos}.name",
                    _("This tier is not (or no longer) part of the program. Reload the page."),
                )
                continue
            mentioned.add(tier.pk)
        if raw.get("delete"):
            if tier is None:
                continue  # a new row marked for deletion: nothing to do
            members = LoyaltyAccount.objects.filter(tier=tier).count()
            if members:
                errors.add(
                    f"tiers.{pos}.name",
                    _(
                        "%(tier)s still has %(count)d member(s) and cannot be deleted. "
                        "Keep the tier and change its name or threshold instead."
                    )
                    % {"tier": tier.name, "count": members},
                )
                mentioned.discard(tier.pk)  # it stays: check the order with it
                continue
            delete.append(tier)
            continue
        plan = _TierPlan(values={}, pos=pos, tier=tier)
        base = snapshot(tier, TIER_FIELDS) if tier is not None else _TIER_DEFAULTS
        _tier_clean(raw, base, plan)
        keep.append(plan)
    for pk, tier in existing.items():
        if pk not in mentioned:
            plan = _TierPlan(values={}, pos=None, tier=tier)
            _tier_clean({}, snapshot(tier, TIER_FIELDS), plan)
            keep.append(plan)
    _tiers_order_check(keep)
    for plan in keep:
        for name, messages in plan.errors.items():
            for message in messages:
                errors.add(plan.key(name), message)
    return TierChanges(keep=keep, delete=delete)


def _plan(
    program: LoyaltyProgram | None,
    data: Mapping[str, Any],
    tiers: Sequence[Mapping[str, Any]],
) -> _Plan:
    """Check everything the change would leave; raise ApplicationError listing each problem."""
    errors = _Errors()
    clean = _program_clean(data, errors, program)
    changes = _tiers_plan(program, tiers, errors)
    errors.raise_if_any()
    return _Plan(program=clean, tiers=changes)


def tiers_check(program: LoyaltyProgram | None, rows: Sequence[Mapping[str, Any]]) -> TierChanges:
    """Check a programme's tier list as it would be after ``rows``; write nothing.

    For pages that save the programme's own fields elsewhere (``program_configure``).
    ``rows`` are as for ``program_rules_save`` (``TIER_FIELDS``, ``id``, ``delete``);
    ``program`` None is a programme not saved yet. Raises ApplicationError with
    ``tiers.<n>.<field>`` keys, the same checks and messages as the settings page.
    The caller holds the programme's row lock, if it exists, until ``tiers_apply``.
    """
    errors = _Errors()
    changes = _tiers_plan(program, rows, errors)
    errors.raise_if_any()
    return changes


# --------------------------------------------------------------------------- writes
def _apply(actor: User | None, program: LoyaltyProgram | None, plan: _Plan) -> LoyaltyProgram:
    target = program or LoyaltyProgram()
    before = snapshot(target, PROGRAM_RULE_FIELDS) if program else {}
    for name, value in plan.program.items():
        setattr(target, name, value)
    target.save()
    changes = diff(before, snapshot(target, PROGRAM_RULE_FIELDS))
    if changes:
        audit_record(
            actor=actor, action="update" if program else "create", obj=target, changes=changes
        )
    tiers_apply(actor=actor, program=target, changes=plan.tiers)
    return target


def tiers_apply(*, actor: User | None, program: LoyaltyProgram, changes: TierChanges) -> None:
    """Write the tiers ``tiers_check`` passed, in the transaction of that check.

    One audit entry per created, changed or deleted tier (unchanged tiers leave none).
    """
    target = program
    for tier in changes.delete:
        audit_record(
            actor=actor,
            action="delete",
            obj=tier,
            changes={**snapshot(tier, TIER_FIELDS), "program": target.pk},
        )
        tier.delete()
    moving = [
        p.tier.pk for p in changes.keep if p.tier is not None and p.tier.rank != p.values["rank"]
    ]
    for i, pk in enumerate(moving):
        Tier.objects.filter(pk=pk).update(rank=_RANK_PARKING + i)
    for p in changes.keep:
        tier = p.tier or Tier(program=target)
        tier_before = snapshot(p.tier, TIER_FIELDS) if p.tier is not None else {}
        for name, value in p.values.items():
            setattr(tier, name, value)
        if p.tier is not None and not diff(tier_before, snapshot(tier, TIER_FIELDS)):
            continue
        tier.save()
        audit_record(
            actor=actor,
            action="update" if p.tier is not None else "create",
            obj=tier,
            changes={**diff(tier_before, snapshot(tier, TIER_FIELDS)), "program": target.pk},
        )


def _current(program: LoyaltyProgram) -> dict[str, Any]:
    return {name: getattr(program, name) for name in PROGRAM_RULE_FIELDS}


@transaction.atomic
def program_rules_save(
    *,
    actor: User | None,
    program: LoyaltyProgram | None,
    data: Mapping[str, Any],
    tiers: Sequence[Mapping[str, Any]] = (),
) -> LoyaltyProgram:
    """Create or change a program with its tiers in one step, or refuse it all.

    ``data`` holds ``PROGRAM_RULE_FIELDS``; each entry of ``tiers`` the
    ``TIER_FIELDS`` of a tier, with ``id`` for an existing one and ``delete``
    to remove it. Tiers not in the list stay as they are (and are checked with
    the others). A tier with members is not deleted.
    """
    locked = LoyaltyProgram.objects.select_for_update().get(pk=program.pk) if program else None
    return _apply(actor, locked, _plan(locked, data, tiers))


@transaction.atomic
def program_update(
    *, actor: User | None, program: LoyaltyProgram, **changes: Any
) -> LoyaltyProgram:
    """Change some of a program's rules (``PROGRAM_RULE_FIELDS``); audited, or refused."""
    unknown = sorted(set(changes) - set(PROGRAM_RULE_FIELDS))
    if unknown:
        raise ApplicationError(
            _("Unknown field(s): %(f)s") % {"f": ", ".join(unknown)},
            field_errors={f: [_("Unknown field.")] for f in unknown},
        )
    locked = LoyaltyProgram.objects.select_for_update().get(pk=program.pk)
    return _apply(actor, locked, _plan(locked, {**_current(locked), **changes}, ()))


def _single(exc: ApplicationError, pos: int = 0) -> ApplicationError:
    """The error of a one-tier change with plain field names (``threshold``, not ``tiers.0.``)."""
    prefix = f"tiers.{pos}."
    fields = {k.removeprefix(prefix): v for k, v in exc.field_errors.items()}
    return ApplicationError(exc.message, code=exc.code, field_errors=fields)


@transaction.atomic
def tier_save(
    *, actor: User | None, program: LoyaltyProgram, tier: Tier | None = None, **values: Any
) -> Tier:
    """Add a tier to ``program`` or change ``tier``; checked against the program's other tiers."""
    if tier is not None and tier.program_id != program.pk:
        raise ApplicationError(_("This tier belongs to another program."), code="program_rules")
    unknown = sorted(set(values) - set(TIER_FIELDS))
    if unknown:
        raise ApplicationError(
            _("Unknown field(s): %(f)s") % {"f": ", ".join(unknown)},
            field_errors={f: [_("Unknown field.")] for f in unknown},
        )
    locked = LoyaltyProgram.objects.select_for_update().get(pk=program.pk)
    row = {**values, "id": tier.pk if tier is not None else None}
    try:
        plan = _plan(locked, _current(locked), [row])
    except ApplicationError as exc:
        raise _single(exc) from exc
    _apply(actor, locked, plan)
    if tier is not None:
        tier.refresh_from_db()
        return tier
    created = next(p for p in plan.tiers.keep if p.pos == 0)
    return Tier.objects.get(program=locked, rank=created.values["rank"])


@transaction.atomic
def tier_delete(*, actor: User | None, tier: Tier) -> None:
    """Delete a tier without members (its tier prices go with it); audited, or refused."""
    locked = LoyaltyProgram.objects.select_for_update().get(pk=tier.program_id)
    try:
        plan = _plan(locked, _current(locked), [{"id": tier.pk, "delete": True}])
    except ApplicationError as exc:
        raise _single(exc) from exc
    _apply(actor, locked, plan)
