"""Every write to customers, their contact data, consents and timeline."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from stammkunde.core.access import User, acting_user
from stammkunde.core.audit import audit_record, diff, snapshot
from stammkunde.core.errors import ApplicationError, ConflictError, validated
from stammkunde.core.sequences import counter_next

from .models import (
    Address,
    Channel,
    Consent,
    ContactPerson,
    Customer,
    EmailAddress,
    Interaction,
    PhoneNumber,
    Tag,
)
from .normalize import normalize_email, normalize_phone

# The bulk writes (imports) are part of this public face.
from .services_bulk import (
    CUSTOMER_RECORD_FIELDS,  # noqa: F401
    INTERACTION_COLUMNS,  # noqa: F401
    CustomerDraft,  # noqa: F401
    contact_data_add,  # noqa: F401
    customers_bulk_tables,  # noqa: F401
    customers_bulk_upsert,  # noqa: F401
    customers_mark_purchase_bulk,  # noqa: F401
    interactions_bulk_record,  # noqa: F401
    interactions_copy_text,  # noqa: F401
)

# The timeline texts other apps register in their AppConfig.ready() and write by key.
from .timeline_texts import (
    timeline_amount,  # noqa: F401
    timeline_amount_grouped,  # noqa: F401
    timeline_choice,  # noqa: F401
    timeline_list,  # noqa: F401
    timeline_params,
    timeline_text_register,  # noqa: F401
    timeline_text_summary,
    timeline_texts_summaries,  # noqa: F401
)

CUSTOMER_EDITABLE_FIELDS = (
    "kind",
    "salutation",
    "first_name",
    "last_name",
    "company_name",
    "birthday",
    "preferred_language",
    "preferred_channel",
    "value_class",
    "external_id",
)


def customer_number_format(value: int) -> str:
    return f"K{value:07d}"


def _field_error(field: str, exc: ValidationError) -> ApplicationError:
    return ApplicationError(
        f"{field}: {' '.join(exc.messages)}", field_errors={field: exc.messages}
    )


def _normalized_emails(emails: Iterable[str]) -> list[str]:
    out: list[str] = []
    for raw in emails:
        if not raw or not raw.strip():
            continue
        try:
            address = normalize_email(raw)
        except ValidationError as exc:
            raise _field_error("emails", exc) from exc
        if address not in out:
            out.append(address)
    return out


def _normalized_phones(phones: Iterable[str]) -> list[str]:
    out: list[str] = []
    for raw in phones:
        if not raw or not raw.strip():
            continue
        try:
            number = normalize_phone(raw)
        except ValidationError as exc:
            raise _field_error("phones", exc) from exc
        if number not in out:
            out.append(number)
    return out


@transaction.atomic
def customer_create(
    *,
    actor: User | None,
    kind: str = Customer.Kind.PERSON,
    first_name: str = "",
    last_name: str = "",
    company_name: str = "",
    salutation: str = "",
    emails: Iterable[str] = (),
    phones: Iterable[str] = (),
    addresses: Iterable[dict[str, str]] = (),
    tags: Iterable[str] = (),
    birthday: Any = None,
    preferred_language: str = "de",
    preferred_channel: str = Channel.EMAIL,
    external_id: str | None = None,
    created_at: datetime | None = None,
) -> Customer:
    """Create a customer (a prospect until the first purchase) with contact data.

    Raises ApplicationError with field errors for invalid names, emails or phones.
    """
    if kind == Customer.Kind.PERSON and not (first_name.strip() or last_name.strip()):
        raise ApplicationError(
            "A person needs a first or last name.",
            field_errors={"last_name": ["A person needs a name."]},
        )
    email_list = _normalized_emails(emails)
    phone_list = _normalized_phones(phones)
    _refuse_suppressed(email_list, phone_list)
    customer = Customer(
        number="pending",
        kind=kind,
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        company_name=company_name.strip(),
        salutation=salutation,
        birthday=birthday,
        preferred_language=preferred_language,
        preferred_channel=preferred_channel,
        external_id=external_id or None,
        created_at=created_at or timezone.now(),
    )
    validated(customer, exclude=["number", "search_name"])
    customer.number = customer_number_format(counter_next("customer"))
    customer.save()
    EmailAddress.objects.bulk_create(
        EmailAddress(customer=customer, address=a, is_primary=i == 0)
        for i, a in enumerate(email_list)
    )
    PhoneNumber.objects.bulk_create(
        PhoneNumber(customer=customer, number=n, is_primary=i == 0)
        for i, n in enumerate(phone_list)
    )
    for data in addresses:
        address = Address(customer=customer, **data)
        validated(address)
        address.save()
    if tags:
        customer.tags.set(tag_get_or_create_many(names=tags))
    audit_record(
        actor=actor,
        action="create",
        obj=customer,
        customer_id=customer.pk,
        changes={
            "fields": snapshot(customer, CUSTOMER_EDITABLE_FIELDS),
            "emails": email_list,
            "phones": phone_list,
        },
    )
    return customer


def tag_get_or_create_many(*, names: Iterable[str]) -> list[Tag]:
    clean = sorted({n.strip() for n in names if n and n.strip()})
    Tag.objects.bulk_create([Tag(name=n) for n in clean], ignore_conflicts=True)
    return list(Tag.objects.filter(name__in=clean))


@transaction.atomic
def customer_update(
    *,
    actor: User | None,
    customer: Customer,
    data: dict[str, Any],
    expected_version: int | None = None,
) -> Customer:
    """Change master data; refuse a stale edit (optimistic locking) and audit the diff.

    ``data`` may hold the editable fields plus ``emails``, ``phones`` and ``tags``
    (each a full replacement list).
    """
    unknown = set(data) - set(CUSTOMER_EDITABLE_FIELDS) - {"emails", "phones", "tags"}
    if unknown:
        raise ApplicationError(
            f"Unknown field(s): {', '.join(sorted(unknown))}",
            field_errors={f: ["Unknown field."] for f in unknown},
        )
    locked = Customer.objects.select_for_update().get(pk=customer.pk)
    if expected_version is not None and locked.version != expected_version:
        raise ConflictError(
            "Someone else changed this customer meanwhile; reload and retry.", code="stale"
        )
    before = snapshot(locked, CUSTOMER_EDITABLE_FIELDS)
    for field in CUSTOMER_EDITABLE_FIELDS:
        if field in data:
            value = data[field]
            if field == "external_id":
                value = value or None
            elif value is None and field != "birthday":
                value = ""
            setattr(locked, field, value)
    validated(locked, exclude=["search_name"])
    changes: dict[str, Any] = diff(before, snapshot(locked, CUSTOMER_EDITABLE_FIELDS))
    if "emails" in data:
        new = _normalized_emails(data["emails"])
        old = list(locked.emails.values_list("address", flat=True))
        if new != old:
            _refuse_suppressed([a for a in new if a not in old], [])
            locked.emails.exclude(address__in=new).delete()
            for i, address in enumerate(new):
                EmailAddress.objects.update_or_create(
                    customer=locked, address=address, defaults={"is_primary": i == 0}
                )
            changes["emails"] = [old, new]
    if "phones" in data:
        new = _normalized_phones(data["phones"])
        old = list(locked.phones.values_list("number", flat=True))
        if new != old:
            _refuse_suppressed([], [n for n in new if n not in old])
            locked.phones.exclude(number__in=new).delete()
            for i, number in enumerate(new):
                PhoneNumber.objects.update_or_create(
                    customer=locked, number=number, defaults={"is_primary": i == 0}
                )
            changes["phones"] = [old, new]
    if "tags" in data:
        old_tags = sorted(locked.tags.values_list("name", flat=True))
        tags = tag_get_or_create_many(names=data["tags"])
        if sorted(t.name for t in tags) != old_tags:
            locked.tags.set(tags)
            changes["tags"] = [old_tags, sorted(t.name for t in tags)]
    if changes:
        locked.version += 1
        locked.save()
        audit_record(
            actor=actor, action="update", obj=locked, customer_id=locked.pk, changes=changes
        )
    return locked


@transaction.atomic
def contact_person_add(
    *,
    actor: User | None,
    customer: Customer,
    name: str,
    role: str = "",
    email: str = "",
    phone: str = "",
) -> ContactPerson:
    """Add a contact person to a company customer."""
    if customer.kind != Customer.Kind.COMPANY:
        raise ApplicationError("Only companies have contact persons.", code="not_company")
    person = ContactPerson(
        customer=customer,
        name=name,
        role=role,
        email=_normalized_emails([email])[0] if email else "",
        phone=_normalized_phones([phone])[0] if phone else "",
    )
    validated(person)
    person.save()
    audit_record(
        actor=actor,
        action="create",
        obj=person,
        customer_id=customer.pk,
        changes=snapshot(person, ["name", "role", "email", "phone"]),
    )
    return person


@transaction.atomic
def consent_record(
    *,
    actor: User | None,
    customer: Customer,
    purpose: str,
    channel: str,
    status: str,
    source: str,
    proof: str = "",
    at: datetime | None = None,
) -> Consent:
    """Record a granted or withdrawn consent (append-only) and put it on the timeline."""
    consent = Consent(
        customer=customer,
        purpose=purpose,
        channel=channel,
        status=status,
        source=source,
        proof=proof,
        at=at or timezone.now(),
    )
    validated(consent)
    consent.save()
    audit_record(
        actor=actor,
        action="create",
        obj=consent,
        customer_id=customer.pk,
        changes=snapshot(consent, ["purpose", "channel", "status", "source"]),
    )
    interaction_record(
        customer=customer,
        occurred_at=consent.at,
        channel=channel,
        direction=Interaction.Direction.INBOUND,
        kind="consent",
        text_key="customers.consent",
        text_params={"purpose": purpose, "channel": channel, "status": status},
        source=consent,
        actor=actor,
    )
    return consent


def interaction_record(
    *,
    customer: Customer,
    occurred_at: datetime,
    channel: str,
    direction: str,
    kind: str,
    text_key: str = "",
    text_params: Mapping[str, Any] | None = None,
    summary: str = "",
    source: models.Model | None = None,
    actor: User | None = None,
) -> Interaction:
    """Add one entry to the customer timeline; the one way other apps write there.

    A text written by the software is given as ``text_key`` (registered with
    ``timeline_text_register``) and ``text_params`` (codes, amounts as strings):
    it is shown in the reader's language, and ``summary`` becomes the text in
    the site's default language. Without a key, ``summary`` is what is shown
    (the words of the customer or an agent, which are not translated).
    """
    from django.contrib.contenttypes.models import ContentType

    params = timeline_params(text_params)
    if text_key:
        summary = timeline_text_summary(text_key, params)
    return Interaction.objects.create(
        customer=customer,
        occurred_at=occurred_at,
        channel=channel,
        direction=direction,
        kind=kind,
        summary=summary[:500],
        text_key=text_key,
        text_params=params,
        source_type=ContentType.objects.get_for_model(source) if source is not None else None,
        source_id=str(source.pk) if source is not None else "",
        actor=acting_user(actor),
    )


def customer_mark_purchase(*, customer: Customer, at: datetime) -> None:
    """Keep ``first_purchase_at`` at the earliest purchase (a prospect becomes a customer)."""
    Customer.objects.filter(pk=customer.pk).filter(
        models.Q(first_purchase_at__isnull=True) | models.Q(first_purchase_at__gt=at)
    ).update(first_purchase_at=at)


def customer_view_log(*, actor: User, customer: Customer) -> None:
    """Record that a user opened a customer's personal data (DSGVO audit trail)."""
    audit_record(actor=actor, action="view", obj=customer, customer_id=customer.pk)


def contacts_suppress(*, emails: Iterable[str] = (), phones: Iterable[str] = ()) -> int:
    """Keep erased addresses from coming back: store their keyed hashes (idempotent)."""
    from .models import SuppressedContact
    from .selectors import contact_digest

    entries = [
        SuppressedContact(kind=SuppressedContact.Kind.EMAIL, digest=contact_digest("email", e))
        for e in emails
        if e
    ] + [
        SuppressedContact(kind=SuppressedContact.Kind.PHONE, digest=contact_digest("phone", p))
        for p in phones
        if p
    ]
    SuppressedContact.objects.bulk_create(entries, ignore_conflicts=True)
    return len(entries)


def _refuse_suppressed(emails: list[str], phones: list[str]) -> None:
    from .selectors import contacts_suppressed

    blocked = contacts_suppressed(emails=emails, phones=phones)
    if blocked:
        field = "emails" if blocked & set(emails) else "phones"
        message = "This address was erased at the person's request and is not stored again."
        raise ApplicationError(message, code="suppressed", field_errors={field: [message]})


@transaction.atomic
def customer_data_erase(*, customer: Customer) -> dict[str, int]:
    """Erase this app's personal data of ``customer`` (DSGVO Art. 17); return counts.

    The customer row stays as a pseudonym (its number) because orders, returns and
    tickets point at it; names, birthday, external id and tags go, e-mails, phones,
    addresses and contact persons are deleted after their hashes are suppressed,
    consent proofs and timeline texts are blanked (the rows keep the statistics).
    """
    from stammkunde.core.personal import ERASED

    persons = list(ContactPerson.objects.filter(customer=customer).values_list("email", "phone"))
    emails = [*customer.emails.values_list("address", flat=True), *(e for e, _ in persons)]
    phones = [*customer.phones.values_list("number", flat=True), *(p for _, p in persons)]
    contacts_suppress(emails=emails, phones=phones)
    counts = {
        "emails": EmailAddress.objects.filter(customer=customer).delete()[0],
        "phones": PhoneNumber.objects.filter(customer=customer).delete()[0],
        "addresses": Address.objects.filter(customer=customer).delete()[0],
        "contact_persons": ContactPerson.objects.filter(customer=customer).delete()[0],
        "consents": Consent.objects.filter(customer=customer).update(proof=""),
        "timeline": Interaction.objects.filter(customer=customer).update(
            summary=ERASED, text_key="", text_params={}
        ),
    }
    locked = Customer.objects.select_for_update().get(pk=customer.pk)
    locked.tags.clear()
    locked.salutation = ""
    locked.first_name = ""
    locked.last_name = ""
    # A company must keep a name (check constraint): its pseudonym.
    locked.company_name = ERASED if locked.kind == Customer.Kind.COMPANY else ""
    locked.birthday = None
    locked.external_id = None
    locked.erased_at = locked.erased_at or timezone.now()
    locked.version += 1
    locked.save()
    customer.erased_at = locked.erased_at
    return counts


def consent_withdraw(
    *, actor: User | None, customer: Customer, purpose: str, channel: str, source: str
) -> Consent | None:
    """Withdraw a granted consent (Art. 7(3)); None when it is not granted (already gone).

    Every reader (campaigns, surveys) asks the latest consent record, so the
    withdrawal counts from the moment it is stored.
    """
    from .selectors import consent_granted

    if purpose not in Consent.Purpose.values or channel not in Channel.values:
        raise ApplicationError("Unknown purpose or channel.", code="invalid")
    if not consent_granted(customer_id=customer.pk, purpose=purpose, channel=channel):
        return None
    return consent_record(
        actor=actor,
        customer=customer,
        purpose=purpose,
        channel=channel,
        status=Consent.Status.WITHDRAWN,
        source=source[:100],
    )


ADDRESS_FIELDS = ("kind", "street", "postal_code", "city", "country")
CONTACT_PERSON_FIELDS = ("name", "role", "email", "phone")


@transaction.atomic
def address_save(
    *, actor: User | None, customer: Customer, data: dict[str, Any], address: Address | None = None
) -> Address:
    """Add or correct an address (Art. 16); the audit entry keeps old and new values."""
    unknown = set(data) - set(ADDRESS_FIELDS)
    if unknown:
        raise ApplicationError(
            f"Unknown field(s): {', '.join(sorted(unknown))}",
            field_errors={f: ["Unknown field."] for f in unknown},
        )
    if address is not None and address.customer_id != customer.pk:
        raise ApplicationError("The address belongs to another customer.", code="invalid")
    target = address or Address(customer=customer)
    before = snapshot(target, ADDRESS_FIELDS) if address is not None else {}
    for field in ADDRESS_FIELDS:
        if field in data:
            value = (data[field] or "").strip()
            setattr(target, field, value.upper() if field == "country" else value)
    validated(target)
    target.save()
    after = snapshot(target, ADDRESS_FIELDS)
    audit_record(
        actor=actor,
        action="update" if address is not None else "create",
        obj=target,
        customer_id=customer.pk,
        changes=diff(before, after) if address is not None else after,
    )
    return target


@transaction.atomic
def address_delete(*, actor: User | None, address: Address) -> None:
    """Remove an address; the audit entry keeps what it was."""
    before = snapshot(address, ADDRESS_FIELDS)
    audit_record(
        actor=actor,
        action="delete",
        obj=address,
        customer_id=address.customer_id,
        changes={k: [v, None] for k, v in before.items()},
    )
    address.delete()


@transaction.atomic
def contact_person_update(
    *, actor: User | None, person: ContactPerson, data: dict[str, Any]
) -> ContactPerson:
    """Correct a contact person (Art. 16); e-mail and phone are normalised as on creation."""
    unknown = set(data) - set(CONTACT_PERSON_FIELDS)
    if unknown:
        raise ApplicationError(
            f"Unknown field(s): {', '.join(sorted(unknown))}",
            field_errors={f: ["Unknown field."] for f in unknown},
        )
    before = snapshot(person, CONTACT_PERSON_FIELDS)
    for field in CONTACT_PERSON_FIELDS:
        if field not in data:
            continue
        value = (data[field] or "").strip()
        try:
            if field == "email" and value:
                value = _normalized_emails([value])[0]
                _refuse_suppressed([value], [])
            elif field == "phone" and value:
                value = _normalized_phones([value])[0]
                _refuse_suppressed([], [value])
        except ApplicationError as exc:  # the list helpers name the list field
            errors = next(iter(exc.field_errors.values()), [exc.message])
            raise ApplicationError(
                exc.message, code=exc.code, field_errors={field: errors}
            ) from exc
        setattr(person, field, value)
    validated(person)
    changes = diff(before, snapshot(person, CONTACT_PERSON_FIELDS))
    if changes:
        person.save()
        audit_record(
            actor=actor,
            action="update",
            obj=person,
            customer_id=person.customer_id,
            changes=changes,
        )
    return person


@transaction.atomic
def contact_person_delete(*, actor: User | None, person: ContactPerson) -> None:
    """Remove a contact person; the audit entry keeps what it was."""
    before = snapshot(person, CONTACT_PERSON_FIELDS)
    audit_record(
        actor=actor,
        action="delete",
        obj=person,
        customer_id=person.customer_id,
        changes={k: [v, None] for k, v in before.items()},
    )
    person.delete()
