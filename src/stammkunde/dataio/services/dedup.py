"""Finding likely duplicate customers: exact email/phone, fuzzy name + address in blocks.

Comparing every customer with every other is quadratic; candidates are only
compared inside a *block*: customers sharing a postal code, or (without an
address) a phonetic key of the last name (Kölner Phonetik). A block larger
than ``MAX_BLOCK`` is split by the first letter of the first name, so the work
grows with the number of customers, not its square.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import combinations
from typing import TYPE_CHECKING

from django.db import transaction
from rapidfuzz import fuzz, process

from stammkunde.customers.selectors import (
    email_address_pairs,
    live_customer_addresses,
    live_customer_names,
    phone_number_pairs,
)

from ..models import DuplicatePair

if TYPE_CHECKING:
    from stammkunde.customers.models import Customer

MAX_BLOCK = 300
MAX_EXACT_GROUP = 50  # a shared info@ address on 5,000 records is not a duplicate signal
THRESHOLD = 0.80
NAME_MIN = 85.0


@dataclass(frozen=True)
class _Person:
    id: int
    name: str
    street: str
    postal_code: str


# Kölner Phonetik (Postel 1969): a German soundex; no maintained package is installed.
_KP_SIMPLE = {
    **dict.fromkeys("aeijouyäöü", "0"),
    "h": "",
    "b": "1",
    **dict.fromkeys("fvw", "3"),
    **dict.fromkeys("gkq", "4"),
    "l": "5",
    **dict.fromkeys("mn", "6"),
    "r": "7",
    **dict.fromkeys("szß", "8"),
}


def koelner_phonetik(word: str) -> str:
    """Return the Kölner Phonetik code of ``word`` (``Meyer`` and ``Maier`` both give ``67``)."""
    w = re.sub(r"[^a-zäöüß]", "", word.lower())
    codes: list[str] = []
    for i, ch in enumerate(w):
        prev = w[i - 1] if i else " "
        nxt = w[i + 1] if i + 1 < len(w) else " "
        if ch == "p":
            code = "3" if nxt == "h" else "1"
        elif ch in "dt":
            code = "8" if nxt in "csz" else "2"
        elif ch == "c":
            if i == 0:
                code = "4" if nxt in "ahkloqrux" else "8"
            else:
                code = "8" if prev in "sz" or nxt not in "ahkoqux" else "4"
        elif ch == "x":
            code = "8" if prev in "ckq" else "48"
        else:
            code = _KP_SIMPLE.get(ch, "")
        codes.append(code)
    collapsed: list[str] = []
    for code in "".join(codes):
        if not collapsed or collapsed[-1] != code:
            collapsed.append(code)
    out = "".join(collapsed)
    return out[:1] + out[1:].replace("0", "") if out else ""


def normalise_street(street: str) -> str:
    """Return a street comparable across spellings (``Hauptstr. 5`` = ``Hauptstraße 5``)."""
    s = street.lower().replace("ß", "ss")
    s = re.sub(r"str\.?(?=\s|\d|$)", "strasse", s)
    return re.sub(r"[^a-z0-9äöü]+", " ", s).strip()


def _people() -> dict[int, _Person]:
    names = {
        pk: " ".join(p for p in (first, last, company) if p).lower()
        for pk, first, last, company in live_customer_names()
    }
    addresses: dict[int, tuple[str, str]] = {}
    for cid, street, postal in live_customer_addresses():
        addresses.setdefault(cid, (normalise_street(street), postal.strip()))
    return {pk: _Person(pk, name, *addresses.get(pk, ("", ""))) for pk, name in names.items()}


def _exact_groups(
    rows: Iterable[tuple[int, str]], alive: dict[int, _Person]
) -> Iterable[list[int]]:
    groups: dict[str, list[int]] = defaultdict(list)
    for cid, value in rows:
        if cid in alive:
            groups[value].append(cid)
    for ids in groups.values():
        unique = sorted(set(ids))
        if 1 < len(unique) <= MAX_EXACT_GROUP:
            yield unique


def duplicate_candidates(
    *, threshold: float = THRESHOLD
) -> dict[tuple[int, int], tuple[float, list[str]]]:
    """Return ``{(smaller id, larger id): (score 0..1, reasons)}`` for likely duplicates."""
    people = _people()
    found: dict[tuple[int, int], tuple[float, list[str]]] = {}

    def add(a: int, b: int, score: float, reason: str) -> None:
        key = (min(a, b), max(a, b))
        old_score, reasons = found.get(key, (0.0, []))
        found[key] = (max(old_score, score), sorted({*reasons, reason}))

    def name_sim(a: int, b: int) -> float:
        return fuzz.token_sort_ratio(people[a].name, people[b].name) / 100

    for ids in _exact_groups(email_address_pairs(), people):
        for a, b in combinations(ids, 2):
            add(a, b, 0.9 + 0.1 * name_sim(a, b), "same email")
    for ids in _exact_groups(phone_number_pairs(), people):
        for a, b in combinations(ids, 2):
            add(a, b, 0.85 + 0.1 * name_sim(a, b), "same phone")
    blocks: dict[str, list[_Person]] = defaultdict(list)
    for person in people.values():
        if not person.name:
            continue
        last = person.name.split()[-1] if person.name else ""
        key = f"plz:{person.postal_code}" if person.postal_code else f"kp:{koelner_phonetik(last)}"
        blocks[key].append(person)
    for members in blocks.values():
        for block in _split(members):
            _compare_block(block, add, threshold)
    return {k: v for k, v in found.items() if v[0] >= threshold}


def _split(members: list[_Person]) -> Iterable[list[_Person]]:
    if len(members) <= MAX_BLOCK:
        yield members
        return
    by_letter: dict[str, list[_Person]] = defaultdict(list)
    for person in members:
        by_letter[person.name[:1]].append(person)
    for group in by_letter.values():
        yield group[: MAX_BLOCK * 4]  # a pathological block is cut, not compared quadratically


def _compare_block(block: list[_Person], add: object, threshold: float) -> None:
    if len(block) < 2:
        return
    names = [p.name for p in block]
    matrix = process.cdist(names, names, scorer=fuzz.token_sort_ratio, score_cutoff=NAME_MIN)
    for i, j in zip(*matrix.nonzero(), strict=True):
        if i >= j:
            continue
        a, b = block[i], block[j]
        name = matrix[i, j] / 100
        if a.street and b.street:
            street = fuzz.token_sort_ratio(a.street, b.street) / 100
            score = 0.55 * name + 0.45 * street
            reason = "similar name and address"
        else:
            score = 0.8 * name  # a name alone is weak evidence
            reason = "similar name"
        if score >= threshold:
            add(a.id, b.id, score, reason)  # type: ignore[operator]


@transaction.atomic
def duplicates_scan(
    *, threshold: float = THRESHOLD, on_compared: Callable[[], None] | None = None
) -> int:
    """Replace the open duplicate candidates with a fresh scan; return how many are open.

    Pairs marked "not a duplicate" or merged stay as they are and are not
    proposed again. Runs as the job ``dataio.duplicates_scan``; ``on_compared``
    is told when the comparison is done and the pairs are being saved.
    """
    found = duplicate_candidates(threshold=threshold)
    if on_compared is not None:
        on_compared()
    decided = set(
        DuplicatePair.objects.exclude(status=DuplicatePair.Status.OPEN).values_list(
            "customer_a_id", "customer_b_id"
        )
    )
    with transaction.atomic():  # readers see the old list or the new one, never none
        DuplicatePair.objects.filter(status=DuplicatePair.Status.OPEN).delete()
        DuplicatePair.objects.bulk_create(
            [
                DuplicatePair(
                    customer_a_id=a, customer_b_id=b, score=round(score, 3), reasons=reasons
                )
                for (a, b), (score, reasons) in found.items()
                if (a, b) not in decided
            ],
            batch_size=2000,
        )
    return DuplicatePair.objects.filter(status=DuplicatePair.Status.OPEN).count()


@transaction.atomic
def duplicate_dismiss(*, pair: DuplicatePair) -> DuplicatePair:
    """Mark a candidate pair as "not a duplicate" so that scans do not propose it again."""
    pair.status = DuplicatePair.Status.DISMISSED
    pair.save(update_fields=["status"])
    return pair


def customer_data_export(customer: Customer) -> dict[str, object]:
    """Duplicate suspicions about ``customer`` (Art. 15): pairs with their reasons."""
    from django.db.models import Q

    from stammkunde.core.personal import rows

    return {
        "duplicate_suspicions": rows(
            DuplicatePair.objects.filter(Q(customer_a=customer) | Q(customer_b=customer))
        )
    }


@transaction.atomic
def customer_data_erase(*, customer: Customer) -> dict[str, int]:
    """Delete the duplicate suspicions about ``customer``: their reasons quote names."""
    from django.db.models import Q

    deleted = DuplicatePair.objects.filter(
        Q(customer_a=customer) | Q(customer_b=customer)
    ).delete()[0]
    return {"duplicate_suspicions": deleted}
