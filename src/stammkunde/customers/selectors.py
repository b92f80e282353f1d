"""Reads of customers, always starting from the access predicate."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import (
    Case,
    CharField,
    ExpressionWrapper,
    F,
    FloatField,
    IntegerField,
    Prefetch,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Cast

from stammkunde.core.access import User, access_object
from stammkunde.core.audit import audit_entries_of_customer
from stammkunde.core.navigation import customer_list_filters
from stammkunde.core.roles import is_internal, partner_id_of

from . import models as models_module
from .models import Address, Consent, Customer, EmailAddress, Interaction, PhoneNumber
from .normalize import normalize_phone
from .timeline_texts import timeline_text_render  # noqa: F401  (the timeline text of a key)

if TYPE_CHECKING:
    from stammkunde.core.models import AuditEntry


@dataclass(frozen=True)
class CustomerFilter:
    q: str = ""
    kind: str = ""
    value_class: str = ""
    tag: str = ""
    prospect: str = ""  # "yes", "no" or ""
    # (param, value) for filters registered by other apps (core.navigation).
    extra: tuple[tuple[str, str], ...] = ()


def customer_list(*, user: User, filters: CustomerFilter) -> QuerySet[Customer]:
    """Return the visible customers matching search and filters.

    Without a search newest first; with one (``customer_search_scores``) best
    match first, then newest.
    """
    qs = Customer.objects.visible_to(user).filter(merged_into__isnull=True)
    scores: dict[int, float] | None = None
    if filters.q.strip():
        scores = customer_search_scores(user=user, q=filters.q)
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.value_class:
        qs = qs.filter(value_class=filters.value_class)
    if filters.tag:
        qs = qs.filter(tags__name=filters.tag)
    if filters.prospect == "yes":
        qs = qs.filter(first_purchase_at__isnull=True)
    elif filters.prospect == "no":
        qs = qs.filter(first_purchase_at__isnull=False)
    chosen = dict(filters.extra)
    for extra in customer_list_filters():
        value = chosen.get(extra.param, "")
        if value and value in {v for v, _ in extra.choices()}:
            qs = extra.apply(qs, value)
    qs = qs.prefetch_related(
        Prefetch("emails", queryset=EmailAddress.objects.filter(is_primary=True))
    )
    if scores is not None:
        return ranked_by_search(qs, scores)
    return qs.order_by("-id")


def customer_page(
    qs: QuerySet[Customer], *, after: int | None, size: int = 50
) -> tuple[list[Customer], int | None]:
    """Return one keyset page (ids below ``after``) and the cursor of the next page."""
    if after is not None:
        qs = qs.filter(id__lt=after)
    rows = list(qs[: size + 1])
    next_after = rows[size - 1].pk if len(rows) > size else None
    return rows[:size], next_after


def customer_get(*, user: User, pk: Any) -> Customer:
    """Return a visible customer or raise 404 (same answer for missing and forbidden)."""
    return access_object(
        Customer.objects.prefetch_related(
            "emails", "phones", "addresses", "tags", "contact_persons"
        ),
        user,
        pk=pk,
    )


def consent_current(*, customer: Customer) -> list[Consent]:
    """Return the latest consent record per (purpose, channel)."""
    latest: dict[tuple[str, str], Consent] = {}
    for consent in customer.consents.order_by("-at", "-id"):
        latest.setdefault((consent.purpose, consent.channel), consent)
    return sorted(latest.values(), key=lambda c: (c.purpose, c.channel))


def consent_granted(*, customer_id: int, purpose: str, channel: str) -> bool:
    """Return True when the latest consent for purpose and channel is granted."""
    latest = (
        Consent.objects.filter(customer_id=customer_id, purpose=purpose, channel=channel)
        .order_by("-at", "-id")
        .values_list("status", flat=True)
        .first()
    )
    return latest == Consent.Status.GRANTED


def consented_customer_ids(*, purpose: str, channel: str) -> QuerySet[Any]:
    """Return the ids of customers whose latest consent for purpose/channel is granted."""
    from django.db.models import OuterRef, Subquery

    latest_status = Subquery(
        Consent.objects.filter(customer_id=OuterRef("pk"), purpose=purpose, channel=channel)
        .order_by("-at", "-id")
        .values("status")[:1]
    )
    return (
        Customer.objects.annotate(_consent=latest_status)
        .filter(_consent=Consent.Status.GRANTED)
        .values("id")
    )


def timeline(
    *, user: User, customer: Customer, offset: int = 0, limit: int = 30
) -> list[Interaction]:
    """Return the timeline entries of a customer ``user`` may see, newest first.

    ``entry.text`` is what to show, in the active language (see ``timeline_texts``).

    Internal staff see every entry. A partner agent sees a customer only through
    the tickets of its partner's queues, so it sees only the entries of those
    tickets: no orders, returns, loyalty or campaigns, and no ticket of another queue.
    """
    qs = customer.interactions.select_related("actor").order_by("-occurred_at", "-id")
    if not is_internal(user):
        qs = qs.filter(_partner_ticket_entries(user, customer))
    return list(qs[offset : offset + limit])


def _partner_ticket_entries(user: User, customer: Customer) -> Q:
    """Entries whose source is one of the customer's tickets in the user's partner's queues."""
    partner_id = partner_id_of(user)
    if partner_id is None or not hasattr(customer, "tickets"):
        return Q(pk__in=[])
    # The service app sits above this one: reach its tickets through the reverse relation
    # and its content type by natural key, without importing it.
    ticket_type = ContentType.objects.get_by_natural_key("service", "ticket")
    ticket_ids = (
        customer.tickets.filter(queue__partner_id=partner_id)  # type: ignore[attr-defined]
        .annotate(source_key=Cast("id", output_field=CharField()))
        .values("source_key")
    )
    return Q(source_type=ticket_type, source_id__in=ticket_ids)


def audit_entries_for_customer(*, customer: Customer, limit: int = 50) -> list[AuditEntry]:
    return audit_entries_of_customer(customer_id=customer.pk, limit=limit)


def customer_matching_email(*, address: str) -> Customer | None:
    """Return the customer an email address belongs to (oldest wins on duplicates)."""
    row = (
        EmailAddress.objects.filter(
            address=address.strip().lower(), customer__merged_into__isnull=True
        )
        .order_by("customer_id")
        .select_related("customer")
        .first()
    )
    return row.customer if row else None


def contact_digest(kind: str, value: str) -> str:
    """Return the keyed hash under which an erased e-mail or phone is suppressed.

    The value is normalised first (lower-case e-mail, E.164 phone), so that
    "Erika@Example.de" and "erika@example.de" hash alike.
    """
    from django.conf import settings
    from django.utils.crypto import salted_hmac

    from .normalize import normalize_email

    try:
        normal = normalize_email(value) if kind == "email" else normalize_phone(value)
    except ValidationError:
        normal = value.strip().lower()
    secret = getattr(settings, "PRIVACY_SUPPRESSION_KEY", "") or settings.SECRET_KEY
    return salted_hmac(
        "stammkunde.suppression", f"{kind}:{normal}", secret=secret, algorithm="sha256"
    ).hexdigest()


def contacts_suppressed(*, emails: Any = (), phones: Any = ()) -> set[str]:
    """Return those of ``emails``/``phones`` that belong to an erased person (as given)."""
    from .models import SuppressedContact

    wanted = {contact_digest("email", e): e for e in emails if e}
    wanted.update({contact_digest("phone", p): p for p in phones if p})
    if not wanted:
        return set()
    found = SuppressedContact.objects.filter(digest__in=list(wanted)).values_list(
        "digest", flat=True
    )
    return {wanted[d] for d in found}


def customer_data_export(customer: Customer) -> dict[str, Any]:
    """Everything this app holds about ``customer`` (DSGVO Art. 15): plain rows per kind."""
    from stammkunde.core.personal import rows

    from .models import Address, ContactPerson

    master = rows(Customer.objects.filter(pk=customer.pk), exclude=["search_name"])
    return {
        "customer": master[0] if master else {},
        "tags": sorted(customer.tags.values_list("name", flat=True)),
        "emails": rows(EmailAddress.objects.filter(customer=customer)),
        "phones": rows(PhoneNumber.objects.filter(customer=customer)),
        "addresses": rows(Address.objects.filter(customer=customer)),
        "contact_persons": rows(ContactPerson.objects.filter(customer=customer)),
        "consents": rows(Consent.objects.filter(customer=customer)),
        "timeline": rows(Interaction.objects.filter(customer=customer)),
    }


def customers_merged_into(customer: Customer) -> QuerySet[Customer]:
    """The records merged into ``customer`` (duplicates of the same person), directly or
    through a chain of merges, that are not erased yet."""
    ids: set[int] = set()
    frontier = [customer.pk]
    while frontier:
        found = (
            set(Customer.objects.filter(merged_into_id__in=frontier).values_list("pk", flat=True))
            - ids
            - {customer.pk}
        )
        ids |= found
        frontier = list(found)
    return Customer.objects.filter(pk__in=ids, erased_at__isnull=True).order_by("pk")


def inactive_prospects(*, before: Any) -> QuerySet[Customer]:
    """Prospects (never bought) created before ``before`` with no timeline entry since."""
    from django.db.models import Exists, OuterRef

    recent = Interaction.objects.filter(customer_id=OuterRef("pk"), occurred_at__gte=before)
    return Customer.objects.filter(
        first_purchase_at__isnull=True,
        erased_at__isnull=True,
        merged_into__isnull=True,
        created_at__lt=before,
    ).exclude(Exists(recent))


# --- customer search --------------------------------------------------------------------
#
# One search for the list, the API and the customer picker. Each kind of match (number,
# e-mail, phone, postcode, city, name) is one indexed query over the visible customers,
# capped at SEARCH_CANDIDATES, and scores its hits; a customer keeps its best score.
# docs/customers.md ("Search") describes what matches and how it ranks.

SEARCH_CANDIDATES = 200
SEARCH_MAX_LENGTH = 200
SEARCH_MAX_WORDS = 8
# Scores: exact identifiers first, then names (0-110 by similarity), city and postcode.
SCORE_NUMBER = 1000.0
SCORE_EMAIL = 950.0
SCORE_PHONE = 900.0
SCORE_EMAIL_PREFIX = 700.0
SCORE_NAME = 100.0
SCORE_CITY = 80.0
SCORE_POSTCODE = 80.0

_NUMBER = re.compile(r"k?[\s-]*(\d{1,12})", re.IGNORECASE)
_PHONE = re.compile(r"\+?[\d\s/().\-]+")
_POSTCODE = re.compile(r"\d{4,5}")


def search_key(q: str) -> str:
    """Return ``q`` folded as the stored search column is (``Müller`` → ``mueller``)."""
    from .normalize import search_fold

    return search_fold(q)


def customer_search_scores(*, user: User, q: str) -> dict[int, float]:
    """Return ``{customer id: score}`` of the visible customers that match ``q``.

    Matches: customer number with or without prefix and leading zeros, e-mail
    (exact, then prefix), phone in any notation (compared in E.164), postcode,
    city, and the name (first, last, company; words in any order; umlauts and
    transliteration alike; small typos on PostgreSQL). Merged records are left out.
    """
    q = q.replace("\x00", "").strip()[:SEARCH_MAX_LENGTH]
    if not q:
        return {}
    base = Customer.objects.visible_to(user).filter(merged_into__isnull=True)
    scores: dict[int, float] = {}

    def add(pk: int, score: float) -> None:
        if score > scores.get(pk, 0.0):
            scores[pk] = score

    if any(c.isdigit() for c in q) and " " not in q:  # customer numbers hold digits
        for pk in base.filter(number__in=_number_forms(q)).values_list("pk", flat=True)[:10]:
            add(pk, SCORE_NUMBER)
    if "@" in q:
        lowered = q.lower()
        emails = base.filter(emails__address__startswith=lowered)
        for pk, address in emails.values_list("pk", "emails__address")[:SEARCH_CANDIDATES]:
            add(pk, SCORE_EMAIL if address == lowered else SCORE_EMAIL_PREFIX)
        return scores
    phone = _phone_form(q)
    if phone:
        phones = base.filter(phones__number=phone)
        for pk in phones.values_list("pk", flat=True)[:SEARCH_CANDIDATES]:
            add(pk, SCORE_PHONE)
    if _POSTCODE.fullmatch(q):
        postcodes = base.filter(addresses__postal_code=q)
        for pk in postcodes.values_list("pk", flat=True)[:SEARCH_CANDIDATES]:
            add(pk, SCORE_POSTCODE)
    folded = search_key(q)
    words = folded.split()[:SEARCH_MAX_WORDS]
    if not words or all(w.isdigit() for w in words):
        return scores
    for pk, score in _name_hits(base, words, folded):
        add(pk, score)
    for pk in _city_hits(base, folded):
        add(pk, SCORE_CITY)
    return scores


def _number_forms(q: str) -> list[str]:
    """The customer numbers ``q`` may mean: as typed, and ``K`` + seven digits."""
    from .services import customer_number_format

    forms = [q.upper()]
    match = _NUMBER.fullmatch(q)
    if match:
        forms.append(customer_number_format(int(match.group(1))))
    return forms


def _phone_form(q: str) -> str:
    """``q`` in E.164 when it reads as a phone number (German by default), else ``""``."""
    digits = sum(c.isdigit() for c in q)
    if digits < 6 or not _PHONE.fullmatch(q):
        return ""
    try:
        return normalize_phone(q)
    except ValidationError:
        return ""


def _name_hits(base: QuerySet[Customer], words: list[str], folded: str) -> list[tuple[int, float]]:
    """Customers whose folded name holds every word of the query, scored 0-110."""
    if connection.vendor == "postgresql":
        return _name_hits_trigram(base, words, folded)
    return _name_hits_plain(base, words)


def _name_hits_trigram(
    base: QuerySet[Customer], words: list[str], folded: str
) -> list[tuple[int, float]]:
    """PostgreSQL: every word similar to a word of the name (``%>``, the GIN trigram
    index); ranked by the mean word similarity, then by similarity of the whole name."""
    from django.contrib.postgres.lookups import TrigramWordSimilar
    from django.contrib.postgres.search import TrigramSimilarity, TrigramWordSimilarity

    qs = base
    similarity: Any = Value(0.0)
    for word in words:
        if len(word) >= 3 and not any(c.isdigit() for c in word):
            qs = qs.filter(TrigramWordSimilar(F("search_name"), Value(word)))
        else:  # too short for trigrams, or a digit (no typo): a word of the name starts with it
            qs = qs.filter(Q(search_name__startswith=word) | Q(search_name__contains=f" {word}"))
        similarity = similarity + TrigramWordSimilarity(word, "search_name")
    score = ExpressionWrapper(
        similarity * SCORE_NAME / len(words)
        + TrigramSimilarity("search_name", folded) * (SCORE_NAME / 10),
        output_field=FloatField(),
    )
    rows = qs.annotate(search_score=score).order_by("-search_score", "-pk")
    return [(pk, float(s)) for pk, s in rows.values_list("pk", "search_score")[:SEARCH_CANDIDATES]]


def _name_hits_plain(base: QuerySet[Customer], words: list[str]) -> list[tuple[int, float]]:
    """Other databases: every word is part of the folded name; no typo tolerance.

    Scored in Python: a whole word counts 1, the start of a word 0.8, inside a word 0.5.
    """
    qs = base
    for word in words:
        qs = qs.filter(search_name__contains=word)
    hits = []
    for pk, name in qs.order_by("-pk").values_list("pk", "search_name")[: SEARCH_CANDIDATES * 5]:
        parts = name.split()
        total = 0.0
        for word in words:
            if word in parts:
                total += 1.0
            elif any(p.startswith(word) for p in parts):
                total += 0.8
            else:
                total += 0.5
        whole = len(words) / max(len(parts), 1)  # fewer extra name parts rank higher
        hits.append((pk, total * SCORE_NAME / len(words) + whole * SCORE_NAME / 10))
    hits.sort(key=lambda h: -h[1])
    return hits[:SEARCH_CANDIDATES]


def _city_hits(base: QuerySet[Customer], folded: str) -> list[int]:
    """Customers with an address in the city ``folded`` (index on the folded city)."""
    from .models import Address, city_folded

    in_city = Address.objects.annotate(city_key=city_folded("city")).filter(city_key=folded)
    rows = base.filter(pk__in=in_city.values("customer_id")).values_list("pk", flat=True)
    return list(rows[:SEARCH_CANDIDATES])


def ranked_by_search(qs: QuerySet[Customer], scores: dict[int, float]) -> QuerySet[Customer]:
    """Restrict ``qs`` to the scored customers, best first (``search_rank``), then newest."""
    buckets: dict[int, list[int]] = {}
    for pk, score in scores.items():
        buckets.setdefault(round(score), []).append(pk)
    rank = Case(
        *(When(pk__in=pks, then=Value(score)) for score, pks in buckets.items()),
        default=Value(0),
        output_field=IntegerField(),
    )
    return qs.filter(pk__in=list(scores)).annotate(search_rank=rank).order_by("-search_rank", "-id")


def customer_search(*, user: User, q: str, limit: int = 10) -> list[Customer]:
    """Return the best ``limit`` visible customers for ``q`` (the customer picker).

    Each carries ``picker_email`` and ``picker_place`` (postcode and city) to tell
    namesakes apart, read in the same query.
    """
    scores = customer_search_scores(user=user, q=q)
    if not scores:
        return []
    qs = Customer.objects.visible_to(user).filter(merged_into__isnull=True)
    return list(with_contact_summary(ranked_by_search(qs, scores))[:limit])


def with_contact_summary(qs: QuerySet[Customer]) -> QuerySet[Customer]:
    """Annotate the primary e-mail (``picker_email``) and the first address's postcode and
    city (``picker_place``): one query for a list of choices, no prefetch."""
    from django.db.models import OuterRef, Subquery
    from django.db.models.functions import Concat

    email = EmailAddress.objects.filter(customer_id=OuterRef("pk")).order_by("-is_primary", "id")
    place = (
        Address.objects.filter(customer_id=OuterRef("pk"))
        .order_by("kind", "id")
        .annotate(place=Concat("postal_code", Value(" "), "city", output_field=CharField()))
    )
    return qs.annotate(
        picker_email=Subquery(email.values("address")[:1]),
        picker_place=Subquery(place.values("place")[:1]),
    )


# Choices other apps pass to customers.services (a timeline entry's channel and direction)
# are part of the public face, so that no other app imports customers.models for them.
Channel = models_module.Channel
InteractionDirection = Interaction.Direction


# --- bulk reads for imports (dataio): one statement per batch, not per row --------------


def customers_values_by_external_id(
    *, keys: Sequence[Any], fields: Sequence[str]
) -> dict[Any, dict[str, Any]]:
    """Return ``{external id: {"id": ..., field: value}}`` of stored customers among ``keys``."""
    from stammkunde.core import db

    return db.values_by_key(Customer, key="external_id", keys=keys, fields=fields)


def customer_ids_by(*, key: str, keys: Sequence[Any]) -> dict[Any, int]:
    """Return ``{value: id}`` of stored customers by ``external_id`` or ``number``."""
    from stammkunde.core import db

    if key not in ("external_id", "number"):
        raise ValueError(key)
    return db.ids_by_key(Customer, key=key, keys=keys)


def contact_data_known(*, ids: Sequence[int]) -> set[tuple[Any, ...]]:
    """Return (customer id, value...) of stored emails, phones and (street, postal code)."""
    from stammkunde.core import db

    known: set[tuple[Any, ...]] = set()
    for start in range(0, len(ids), db.SQLITE_CHUNK):
        chunk = ids[start : start + db.SQLITE_CHUNK]
        known.update(
            EmailAddress.objects.filter(customer_id__in=chunk).values_list("customer_id", "address")
        )
        known.update(
            PhoneNumber.objects.filter(customer_id__in=chunk).values_list("customer_id", "number")
        )
        known.update(
            Address.objects.filter(customer_id__in=chunk).values_list(
                "customer_id", "street", "postal_code"
            )
        )
    return known


ConsentPurpose = Consent.Purpose


# --- reads for the feedback and channels apps -------------------------------------------


def email_addresses_of(*, customer: Customer) -> list[EmailAddress]:
    """The customer's email addresses, the primary one first (undeliverable ones included)."""
    return list(EmailAddress.objects.filter(customer=customer).order_by("-is_primary", "id"))


def email_address_rows(*, address: str) -> list[EmailAddress]:
    """Every stored email address row equal to ``address`` (one per customer), with customer."""
    return list(EmailAddress.objects.select_related("customer").filter(address=address))


def email_belongs_to(*, customer_id: int, address: str) -> bool:
    """Whether ``address`` is one of the addresses of customer ``customer_id``."""
    return EmailAddress.objects.filter(customer_id=customer_id, address=address).exists()


def deliverable_email_of(*, customer_id: int) -> str:
    """The customer's first deliverable address (primary first), or ""."""
    return (
        EmailAddress.objects.filter(customer_id=customer_id, undeliverable_at__isnull=True)
        .order_by("-is_primary", "id")
        .values_list("address", flat=True)
        .first()
        or ""
    )


def customer_for_update(*, pk: int) -> Customer:
    """The customer row, locked until the caller's transaction ends (serialises per customer)."""
    return Customer.objects.select_for_update().get(pk=pk)


def customers_by_ids(*, ids: Sequence[int]) -> dict[int, Customer]:
    """``{id: customer}`` of the stored customers among ``ids``."""
    return Customer.objects.in_bulk(list(ids))


def buyers_consented(*, purpose: str, channel: str) -> QuerySet[Customer]:
    """Customers who bought, are not erased or merged, and consent to ``purpose`` on ``channel``."""
    return Customer.objects.filter(
        id__in=consented_customer_ids(purpose=purpose, channel=channel),
        first_purchase_at__isnull=False,
        erased_at__isnull=True,
        merged_into__isnull=True,
    )


def customer_visible(*, user: User, pk: Any) -> Customer | None:
    """The customer with ``pk`` if ``user`` may see it (and it is not merged away), else None."""
    return Customer.objects.visible_to(user).filter(pk=pk).first()


def customer_numbers_of(*, ids: Sequence[int]) -> dict[int, str]:
    """Return ``{id: number}`` of customers ``ids`` in one query (e.g. of one scoring chunk)."""
    if not ids:
        return {}
    customers = Customer.objects.all()
    # A chunk's id range beats a list of thousands of ids (slow to build and parse).
    if len(ids) > 500:
        wanted = set(ids)
        found = customers.filter(pk__gte=min(ids), pk__lte=max(ids)).values_list("pk", "number")
        return {pk: number for pk, number in found if pk in wanted}
    return dict(customers.filter(pk__in=list(ids)).values_list("pk", "number"))


# --- streams for the duplicate search (dataio): every live customer, in chunks -----------


def live_customer_names() -> Iterator[tuple[int, str, str, str]]:
    """(id, first name, last name, company) of customers neither merged nor erased."""
    return (
        Customer.objects.filter(merged_into__isnull=True, erased_at__isnull=True)
        .values_list("pk", "first_name", "last_name", "company_name")
        .iterator(chunk_size=5000)
    )


def live_customer_addresses() -> Iterator[tuple[int, str, str]]:
    """(customer id, street, postal code) of customers not merged, by customer, kind, id."""
    return (
        Address.objects.filter(customer__merged_into__isnull=True)
        .order_by("customer_id", "kind", "id")
        .values_list("customer_id", "street", "postal_code")
        .iterator(chunk_size=5000)
    )


def email_address_pairs() -> Iterator[tuple[int, str]]:
    """(customer id, address) of every stored email address."""
    return EmailAddress.objects.values_list("customer_id", "address").iterator(chunk_size=5000)


def phone_number_pairs() -> Iterator[tuple[int, str]]:
    """(customer id, number) of every stored phone number."""
    return PhoneNumber.objects.values_list("customer_id", "number").iterator(chunk_size=5000)


def customer_by_external_id(*, external_id: str) -> Customer | None:
    """The customer with this external id (shop or POS key), or None."""
    return Customer.objects.filter(external_id=external_id).first()
