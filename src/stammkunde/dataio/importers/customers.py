"""Customers with email, phone and address, upserted by external id (``customers`` app)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from stammkunde.customers.selectors import (
    Channel,
    contact_data_known,
    contacts_suppressed,
    customers_values_by_external_id,
)
from stammkunde.customers.services import (
    CUSTOMER_RECORD_FIELDS as CUSTOMER_FIELDS,
)
from stammkunde.customers.services import (
    CustomerDraft,
    customers_bulk_upsert,
)

from .common import (
    BatchOutcome,
    FieldSpec,
    Importer,
    Row,
    _choice,
    _collapse,
    _date,
    _datetime,
    _email,
    _merged,
    _phone,
    _text,
)


class CustomerImporter(Importer):
    """Customers with email, phone and address; upsert by ``external_id``.

    A blank cell never overwrites stored data; new contact data is added, not
    replaced. New customers get numbers from one reserved block.
    """

    kind = "customers"
    fields = (
        FieldSpec(
            "external_id",
            _text(100),
            True,
            ("id", "customerid", "kundenid", "kundennr", "kundennummer", "customer"),
        ),
        FieldSpec(
            "kind",
            _choice(
                ["person", "company"],
                {"privat": "person", "firma": "company", "b2b": "company", "b2c": "person"},
            ),
            False,
            ("typ", "art"),
        ),
        FieldSpec("salutation", _text(20), False, ("anrede", "title")),
        FieldSpec("first_name", _text(100), False, ("vorname", "firstname", "givenname")),
        FieldSpec(
            "last_name",
            _text(100),
            False,
            ("nachname", "name", "lastname", "surname", "familyname"),
        ),
        FieldSpec(
            "company_name", _text(200), False, ("firma", "company", "firmenname", "unternehmen")
        ),
        FieldSpec("email", _email, False, ("email", "emailadresse", "mail")),
        FieldSpec(
            "phone", _phone, False, ("telefon", "tel", "phone", "mobil", "handy", "telefonnummer")
        ),
        FieldSpec(
            "street",
            _text(200),
            False,
            ("strasse", "str", "address", "adresse", "strassehausnummer"),
        ),
        FieldSpec(
            "postal_code", _text(12), False, ("plz", "zip", "postleitzahl", "postcode", "zipcode")
        ),
        FieldSpec("city", _text(100), False, ("ort", "stadt", "town")),
        FieldSpec("country", _text(2), False, ("land", "countrycode")),
        FieldSpec(
            "birthday", _date, False, ("geburtstag", "geburtsdatum", "dateofbirth", "birthdate")
        ),
        FieldSpec(
            "preferred_language",
            _choice(
                ["de", "en"], {"deutsch": "de", "englisch": "en", "english": "en", "german": "de"}
            ),
            False,
            ("sprache", "language"),
        ),
        FieldSpec(
            "preferred_channel", _choice([c.value for c in Channel]), False, ("kanal", "channel")
        ),
        FieldSpec(
            "created_at",
            _datetime,
            False,
            ("angelegt", "erstelltam", "kundeseit", "created", "registeredat"),
        ),
    )

    def process(self, rows: list[Row], *, write: bool) -> BatchOutcome:
        out = BatchOutcome()
        groups = _collapse(rows, "external_id")
        stored = customers_values_by_external_id(
            keys=list(groups), fields=["number", *CUSTOMER_FIELDS]
        )
        known = contact_data_known(ids=[b["id"] for b in stored.values()])
        merged = {key: _merged(group) for key, group in groups.items()}
        erased = contacts_suppressed(  # addresses erased on request are not stored again
            emails=[v.get("email") for v in merged.values()],
            phones=[v.get("phone") for v in merged.values()],
        )
        drafts: list[CustomerDraft] = []
        for key, group in groups.items():
            values = merged[key]
            hit = next((f for f in ("email", "phone") if values.get(f) in erased), None)
            if hit:
                for row in group:
                    out.fail(row, self.ctx.column(hit), _("erased at the person's request (DSGVO)"))
                continue
            before = stored.get(key)
            record = {f: (before or {}).get(f) for f in CUSTOMER_FIELDS}
            if before is None:
                record.update(
                    kind="person",
                    salutation="",
                    first_name="",
                    last_name="",
                    company_name="",
                    preferred_language="de",
                    preferred_channel=Channel.EMAIL.value,
                )
            record.update({f: values[f] for f in CUSTOMER_FIELDS if f in values})
            if (
                before is None
                and "kind" not in values
                and record["company_name"]
                and not (record["first_name"] or record["last_name"])
            ):
                record["kind"] = "company"
            problem = _customer_problem(record)
            if problem:
                for row in group:
                    out.fail(row, self.ctx.column(problem[0]), problem[1])
                continue
            changed = before is None or any(record[f] != before[f] for f in CUSTOMER_FIELDS)
            cid = before["id"] if before else None
            has_contact = any(
                values.get(f) and (cid, *(values.get(x) or "" for x in fields)) not in known
                for f, fields in _CONTACT_KEYS
            )
            if before is None:
                out.created += 1
                out.updated += len(group) - 1
            elif changed or has_contact:
                out.updated += len(group)
            else:
                out.unchanged += len(group)
                continue
            record["created_at"] = values.get("created_at") or self.ctx.now
            drafts.append(
                CustomerDraft(
                    external_id=key,
                    number=before["number"] if before else None,
                    record=record,
                    contact=values,
                )
            )
        if not write or not drafts:
            return out
        ids = customers_bulk_upsert(
            drafts=drafts, actor_id=self.ctx.actor_id, at=self.ctx.now, job_id=self.ctx.job_id
        )
        out.events["customer.created"] = [
            {"id": ids[d.external_id], "external_id": d.external_id, "source": "import"}
            for d in drafts
            if d.number is None
        ]
        return out


_CONTACT_KEYS = (
    ("email", ("email",)),
    ("phone", ("phone",)),
    ("street", ("street", "postal_code")),
)


def _customer_problem(record: dict[str, Any]) -> tuple[str, str] | None:
    if record["kind"] == "company" and not record["company_name"]:
        return "company_name", _("a company needs a company name")
    if record["kind"] == "person" and not (record["first_name"] or record["last_name"]):
        return "last_name", _("a person needs a first or last name")
    return None
