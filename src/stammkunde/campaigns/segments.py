"""Segment rules (JSON) and their one translation into a customer queryset.

A rule tree is ``{"all": [...]}`` or ``{"any": [...]}`` (nestable, and
``{"not": {...}}``) whose leaves are conditions::

    {"field": "churn_risk", "op": "gte", "value": 0.7}
    {"field": "purchased_category", "op": "eq", "value": "E-Bikes", "within_days": 365}

``segment_queryset`` is the only place that turns rules into SQL; every leaf
becomes a ``Q`` on the customer (``EXISTS`` subqueries for purchases,
tickets, survey answers), so a segment is one query however complex.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from stammkunde.core.errors import ApplicationError
from stammkunde.customers.models import Customer

NUMERIC_OPS = {"eq": "exact", "ne": "exact", "gt": "gt", "gte": "gte", "lt": "lt", "lte": "lte"}
CHOICE_OPS = {"eq", "ne", "in", "not_in"}
BOOL_OPS = {"is"}


@dataclass(frozen=True)
class FieldSpec:
    """How one rule field is checked (``kind``) and turned into a ``Q``."""

    kind: str  # "number", "choice", "text", "bool"
    label: str
    windowed: bool = False  # accepts "within_days"


FIELDS: dict[str, FieldSpec] = {
    "phase": FieldSpec("choice", "lifecycle phase (latest score)"),
    "churn_risk": FieldSpec("number", "churn risk 0..1 (latest score)"),
    "clv_12m": FieldSpec("number", "CLV 12 months in EUR (latest score)"),
    "value_class": FieldSpec("choice", "value class A/B/C (latest score)"),
    "rfm_segment": FieldSpec("choice", "RFM segment (latest score)"),
    "loyalty_tier": FieldSpec("choice", "loyalty tier name"),
    "loyalty_member": FieldSpec("bool", "has a loyalty account"),
    "purchased_category": FieldSpec("choice", "bought in product category", windowed=True),
    "purchased_product": FieldSpec("choice", "bought product (SKU)", windowed=True),
    "orders_count": FieldSpec("number", "number of paid orders", windowed=True),
    "revenue": FieldSpec("number", "revenue in EUR", windowed=True),
    "days_since_last_purchase": FieldSpec("number", "days since the last paid order"),
    "has_returns": FieldSpec("bool", "returned something", windowed=True),
    "open_ticket": FieldSpec("bool", "has an open ticket"),
    "open_complaint": FieldSpec("bool", "has an open complaint or claim"),
    "tickets_count": FieldSpec("number", "number of tickets", windowed=True),
    "nps": FieldSpec("number", "NPS answer 0..10 (any response)", windowed=True),
    "csat": FieldSpec("number", "CSAT answer 1..5 (any response)", windowed=True),
    "email_marketing_consent": FieldSpec("bool", "marketing emails allowed"),
    "birthday_month": FieldSpec("number", "birthday month 1..12"),
    "customer_days": FieldSpec("number", "days since the customer was created"),
    "tag": FieldSpec("choice", "customer tag"),
    "kind": FieldSpec("choice", "person or company"),
    "prospect": FieldSpec("bool", "no purchase yet"),
}


def _fail(message: str) -> ApplicationError:
    return ApplicationError(message, code="rules", field_errors={"rules": [message]})


def rules_validate(rules: Any, *, depth: int = 0) -> None:
    """Raise ApplicationError (field ``rules``) unless ``rules`` is a well-formed rule tree."""
    if depth > 8:
        raise _fail(_("Rules are nested too deeply."))
    if not isinstance(rules, dict):
        raise _fail(_("A rule must be an object."))
    if not rules:
        return
    if "all" in rules or "any" in rules:
        key = "all" if "all" in rules else "any"
        if set(rules) != {key} or not isinstance(rules[key], list):
            raise _fail(_("'%(key)s' must be the only key and hold a list.") % {"key": key})
        for child in rules[key]:
            rules_validate(child, depth=depth + 1)
        return
    if "not" in rules:
        if set(rules) != {"not"}:
            raise _fail(_("'not' must be the only key."))
        rules_validate(rules["not"], depth=depth + 1)
        return
    _condition_validate(rules)


def _condition_validate(rule: dict[str, Any]) -> None:
    field, op, value = rule.get("field"), rule.get("op"), rule.get("value")
    extra = set(rule) - {"field", "op", "value", "within_days"}
    if extra:
        raise _fail(_("Unknown key(s) %(keys)s.") % {"keys": ", ".join(sorted(extra))})
    spec = FIELDS.get(field) if isinstance(field, str) else None
    if spec is None:
        raise _fail(
            _("Unknown field %(field)r; choose one of %(names)s.")
            % {"field": field, "names": ", ".join(FIELDS)}
        )
    if "within_days" in rule:
        days = rule["within_days"]
        if not spec.windowed:
            raise _fail(_("%(field)s: 'within_days' is not possible here.") % {"field": field})
        if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= 3650:
            raise _fail(
                _("%(field)s: 'within_days' must be a whole number from 1 to 3650.")
                % {"field": field}
            )
    if spec.kind == "number":
        if op not in NUMERIC_OPS:
            raise _fail(
                _("%(field)s: operator must be one of %(ops)s.")
                % {"field": field, "ops": ", ".join(NUMERIC_OPS)}
            )
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _fail(_("%(field)s: value must be a number.") % {"field": field})
    elif spec.kind == "bool":
        if op not in BOOL_OPS or not isinstance(value, bool):
            raise _fail(_("%(field)s: use op 'is' with true or false.") % {"field": field})
    else:
        if op not in CHOICE_OPS:
            raise _fail(
                _("%(field)s: operator must be one of %(ops)s.")
                % {"field": field, "ops": ", ".join(sorted(CHOICE_OPS))}
            )
        if op in {"in", "not_in"}:
            if (
                not isinstance(value, list)
                or not value
                or not all(isinstance(v, str) for v in value)
            ):
                raise _fail(
                    _("%(field)s: value must be a non-empty list of texts.") % {"field": field}
                )
        elif not isinstance(value, str) or not value:
            raise _fail(_("%(field)s: value must be a text.") % {"field": field})


def segment_queryset(rules: dict[str, Any], *, now: datetime | None = None) -> QuerySet[Customer]:
    """Return the customers (not merged, not erased) matching ``rules``; one SQL query.

    Raises ApplicationError for malformed rules. The caller narrows by access
    (``visible_to``) where a person looks at the result.
    """
    from stammkunde.analytics.orm import CustomerScore
    from stammkunde.commerce.models import Order, OrderLine, Return
    from stammkunde.customers.selectors import consented_customer_ids
    from stammkunde.feedback.models import Response
    from stammkunde.loyalty.models import LoyaltyAccount
    from stammkunde.service.models import OPEN_STATUSES, Ticket

    rules_validate(rules)
    now = now or timezone.now()
    me = OuterRef("pk")

    def since(rule: dict[str, Any]) -> datetime | None:
        days = rule.get("within_days")
        return now - timedelta(days=days) if days else None

    def num(lookup: str, rule: dict[str, Any]) -> Q:
        q = Q(**{f"{lookup}__{NUMERIC_OPS[rule['op']]}": rule["value"]})
        return ~q if rule["op"] == "ne" else q

    def choice(lookup: str, rule: dict[str, Any]) -> Q:
        value = rule["value"]
        q = Q(**({f"{lookup}__in": value} if rule["op"] in {"in", "not_in"} else {lookup: value}))
        return ~q if rule["op"] in {"ne", "not_in"} else q

    def score(lookup: str, rule: dict[str, Any], kind: Callable[..., Q]) -> Q:
        scores = CustomerScore.objects.filter(kind(lookup, rule), customer=me, is_latest=True)
        return Q(Exists(scores))

    def exists(qs: QuerySet[Any], rule: dict[str, Any]) -> Q:
        q = Q(Exists(qs))
        return q if rule["value"] else ~q

    def paid_orders(rule: dict[str, Any]) -> QuerySet[Any]:
        qs = Order.objects.filter(customer=me, status=Order.Status.PAID)
        start = since(rule)
        return qs.filter(ordered_at__gte=start) if start else qs

    def lines(rule: dict[str, Any]) -> QuerySet[Any]:
        qs = OrderLine.objects.filter(order__customer=me, order__status=Order.Status.PAID)
        start = since(rule)
        return qs.filter(order__ordered_at__gte=start) if start else qs

    def tickets(rule: dict[str, Any]) -> QuerySet[Any]:
        qs = Ticket.objects.filter(customer=me)
        start = since(rule)
        return qs.filter(created_at__gte=start) if start else qs

    def answers(rule: dict[str, Any], column: str) -> Q:
        qs = Response.objects.filter(num(column, rule), customer=me)
        start = since(rule)
        return Q(Exists(qs.filter(submitted_at__gte=start) if start else qs))

    def aggregate_q(qs: QuerySet[Any], column: str, rule: dict[str, Any], name: str) -> Q:
        # A correlated COUNT/SUM; customers without rows count as 0.
        from django.db.models import Count, Subquery
        from django.db.models.functions import Coalesce

        agg = Count("pk") if column == "pk" else Sum(column)
        sub = Subquery(qs.order_by().values("customer").annotate(v=agg).values("v")[:1])
        extra_columns[name] = Coalesce(sub, 0, output_field=_number_field())
        return num(name, rule)

    def leaf(rule: dict[str, Any]) -> Q:
        field = rule["field"]
        match field:
            case "phase" | "value_class" | "rfm_segment":
                return score(field, rule, choice)
            case "churn_risk" | "clv_12m":
                return score(field, rule, num)
            case "loyalty_tier":
                return Q(
                    Exists(LoyaltyAccount.objects.filter(choice("tier__name", rule), customer=me))
                )
            case "loyalty_member":
                return exists(LoyaltyAccount.objects.filter(customer=me), rule)
            case "purchased_category":
                return Q(Exists(lines(rule).filter(choice("product__category__name", rule))))
            case "purchased_product":
                return Q(Exists(lines(rule).filter(choice("product__sku", rule))))
            case "orders_count":
                return aggregate_q(paid_orders(rule), "pk", rule, f"_n{len(extra_columns)}")
            case "revenue":
                return aggregate_q(paid_orders(rule), "total", rule, f"_r{len(extra_columns)}")
            case "days_since_last_purchase":
                # "more than n days" = no paid order in the last n days (and bought before).
                op, days = rule["op"], rule["value"]
                recent = Q(
                    Exists(
                        Order.objects.filter(
                            customer=me,
                            status=Order.Status.PAID,
                            ordered_at__gte=now - timedelta(days=float(days)),
                        )
                    )
                )
                bought = Q(first_purchase_at__isnull=False)
                if op in {"gt", "gte"}:
                    return bought & ~recent
                if op in {"lt", "lte"}:
                    return recent
                raise _fail("days_since_last_purchase: use gt/gte/lt/lte.")
            case "has_returns":
                qs = Return.objects.filter(customer=me)
                start = since(rule)
                return exists(qs.filter(returned_at__gte=start) if start else qs, rule)
            case "open_ticket":
                return exists(Ticket.objects.filter(customer=me, status__in=OPEN_STATUSES), rule)
            case "open_complaint":
                return exists(
                    Ticket.objects.filter(
                        customer=me,
                        status__in=OPEN_STATUSES,
                        type__in=[Ticket.Type.COMPLAINT, Ticket.Type.CLAIM],
                    ),
                    rule,
                )
            case "tickets_count":
                return aggregate_q(tickets(rule), "pk", rule, f"_t{len(extra_columns)}")
            case "nps" | "csat":
                return answers(rule, field)
            case "email_marketing_consent":
                q = Q(pk__in=consented_customer_ids(purpose="marketing", channel="email"))
                return q if rule["value"] else ~q
            case "birthday_month":
                return num("birthday__month", rule)
            case "customer_days":
                # More days since creation = created earlier.
                flipped = {"gt": "lt", "gte": "lte", "lt": "gt", "lte": "gte"}
                op = rule["op"]
                cutoff = now - timedelta(days=float(rule["value"]))
                if op in flipped:
                    return Q(**{f"created_at__{flipped[op]}": cutoff})
                day = Q(created_at__date=cutoff.date())
                return day if op == "eq" else ~day
            case "tag":
                return choice("tags__name", rule)
            case "kind":
                return choice("kind", rule)
            case "prospect":
                return Q(first_purchase_at__isnull=rule["value"])
        raise _fail(f"Unknown field {field!r}.")  # unreachable after validation

    def node(rules: dict[str, Any]) -> Q:
        if not rules:
            return Q()
        if "all" in rules:
            q = Q()
            for child in rules["all"]:
                q &= node(child)
            return q
        if "any" in rules:
            if not rules["any"]:
                return Q(pk__in=[])
            q = Q(pk__in=[])
            for child in rules["any"]:
                q |= node(child)
            return q
        if "not" in rules:
            return ~node(rules["not"])
        return leaf(rules)

    extra_columns: dict[str, Any] = {}
    condition = node(rules)
    qs = Customer.objects.filter(merged_into__isnull=True, erased_at__isnull=True)
    if extra_columns:
        qs = qs.annotate(**extra_columns)
    qs = qs.filter(condition)
    # Tag lookups join a many-to-many table; keep one row per customer.
    return qs.distinct() if "tags__name" in str(condition) else qs


def _number_field() -> Any:
    from django.db.models import DecimalField

    return DecimalField(max_digits=14, decimal_places=2)
