from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import F, Func, Q, Value
from django.db.models.functions import Lower, Replace
from django.utils.translation import gettext_lazy as _

from stammkunde.core.access import User, VisibleQuerySet
from stammkunde.core.roles import is_internal, partner_id_of

from .timeline_texts import timeline_text_render


class Channel(models.TextChoices):
    PHONE = "phone", _("phone")
    EMAIL = "email", _("email")
    LETTER = "letter", _("letter")
    WEB = "web", _("web")
    SOCIAL = "social", _("social media")
    IN_PERSON = "in_person", _("in person")
    SHOP = "shop", _("shop")


class CustomerQuerySet(VisibleQuerySet["Customer"]):
    def visible_to(self, user: User) -> CustomerQuerySet:
        """Internal staff see every customer; partner agents only those of their queues."""
        if is_internal(user):
            return self.all()
        partner_id = partner_id_of(user)
        # The service app adds tickets; a partner sees the customers of its queues.
        if partner_id is not None and any(
            f.name == "tickets" for f in self.model._meta.get_fields()
        ):
            return self.filter(tickets__queue__partner_id=partner_id).distinct()
        return self.none()


def city_folded(field: str) -> Func:
    """SQL that folds a column as customer search compares cities: lower case, ä → ae, ß → ss.

    The same expression serves the index and the query, so the lookup is an index scan.
    """
    expr: Func = Lower(F(field))
    # SQLite's lower() folds ASCII only: both cases are replaced.
    for letter, plain in (*_CITY_FOLD, *((u.upper(), p) for u, p in _CITY_FOLD[:3])):
        expr = Replace(expr, Value(letter), Value(plain))
    return expr


_CITY_FOLD = (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss"))


class Tag(models.Model):
    name = models.CharField(_("name"), max_length=60, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Customer(models.Model):
    """A person or company the business sells to, including prospects without purchases."""

    class Kind(models.TextChoices):
        PERSON = "person", _("person")
        COMPANY = "company", _("company")

    class ValueClass(models.TextChoices):
        A = "A", "A"
        B = "B", "B"
        C = "C", "C"

    number = models.CharField(_("customer number"), max_length=20, unique=True)
    external_id = models.CharField(
        _("external id"), max_length=100, null=True, blank=True, unique=True
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.PERSON)
    salutation = models.CharField(_("salutation"), max_length=20, blank=True)
    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=100, blank=True)
    company_name = models.CharField(_("company"), max_length=200, blank=True)
    # "last first company" folded (customers.normalize.search_text): what customer search
    # compares. On PostgreSQL a GIN trigram index (migration 0005) serves it; nothing sorts by it.
    search_name = models.CharField(max_length=400, editable=False)
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    preferred_language = models.CharField(
        _("preferred language"), max_length=5, choices=settings.LANGUAGES, default="de"
    )
    preferred_channel = models.CharField(
        _("preferred channel"), max_length=20, choices=Channel.choices, default=Channel.EMAIL
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="customers")
    value_class = models.CharField(
        _("value class"), max_length=1, choices=ValueClass.choices, blank=True, db_index=True
    )
    created_at = models.DateTimeField(_("created"), db_index=True)
    first_purchase_at = models.DateTimeField(_("first purchase"), null=True, blank=True)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged_from"
    )
    erased_at = models.DateTimeField(_("erased"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    objects = CustomerQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="company") | ~Q(company_name=""), name="company_has_name"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.display_name}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.search_name = self.compute_search_name()
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "search_name"}
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("customers:detail", args=[self.pk])

    def compute_search_name(self) -> str:
        from .normalize import search_text

        return search_text(self.last_name, self.first_name, self.company_name)

    @property
    def display_name(self) -> str:
        if self.kind == self.Kind.COMPANY:
            return self.company_name
        return f"{self.first_name} {self.last_name}".strip() or self.company_name

    @property
    def is_prospect(self) -> bool:
        return self.first_purchase_at is None


class EmailAddress(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="emails")
    address = models.EmailField(_("email"), max_length=254, db_index=True)
    is_primary = models.BooleanField(_("primary"), default=False)
    undeliverable_at = models.DateTimeField(_("undeliverable since"), null=True, blank=True)
    undeliverable_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-is_primary", "id"]
        constraints = [
            models.UniqueConstraint(fields=["customer", "address"], name="unique_customer_email"),
        ]

    def __str__(self) -> str:
        return self.address


class PhoneNumber(models.Model):
    class Kind(models.TextChoices):
        MOBILE = "mobile", _("mobile")
        LANDLINE = "landline", _("landline")
        WORK = "work", _("work")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="phones")
    number = models.CharField(_("phone (E.164)"), max_length=20, db_index=True)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.MOBILE)
    is_primary = models.BooleanField(_("primary"), default=False)

    class Meta:
        ordering = ["-is_primary", "id"]
        constraints = [
            models.UniqueConstraint(fields=["customer", "number"], name="unique_customer_phone"),
        ]

    def __str__(self) -> str:
        return self.number


class Address(models.Model):
    class Kind(models.TextChoices):
        BILLING = "billing", _("billing")
        SHIPPING = "shipping", _("shipping")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="addresses")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.BILLING)
    street = models.CharField(_("street"), max_length=200)
    postal_code = models.CharField(_("postal code"), max_length=12)
    city = models.CharField(_("city"), max_length=100)
    country = models.CharField(_("country"), max_length=2, default="DE")

    class Meta:
        ordering = ["kind", "id"]
        indexes = [
            # Customer search by postcode and by city (case and umlauts folded).
            models.Index(fields=["postal_code"], name="address_postal_code"),
            models.Index(city_folded("city"), name="address_city_folded"),
        ]

    def __str__(self) -> str:
        return f"{self.street}, {self.postal_code} {self.city}"


class ContactPerson(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="contact_persons")
    name = models.CharField(_("name"), max_length=200)
    role = models.CharField(_("role"), max_length=100, blank=True)
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone (E.164)"), max_length=20, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Consent(models.Model):
    """One granted or withdrawn consent; the latest per purpose and channel counts."""

    class Purpose(models.TextChoices):
        MARKETING = "marketing", _("marketing")
        NEWSLETTER = "newsletter", _("newsletter")
        FEEDBACK = "feedback", _("feedback requests")
        PROFILING = "profiling", _("profiling / analytics")

    class Status(models.TextChoices):
        GRANTED = "granted", _("granted")
        WITHDRAWN = "withdrawn", _("withdrawn")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="consents")
    purpose = models.CharField(_("purpose"), max_length=20, choices=Purpose.choices)
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    source = models.CharField(_("source"), max_length=100)
    at = models.DateTimeField(_("time"))
    proof = models.TextField(_("proof"), blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["customer", "purpose", "channel", "-at"])]

    def __str__(self) -> str:
        return f"{self.purpose}/{self.channel}: {self.status}"


class InteractionQuerySet(VisibleQuerySet["Interaction"]):
    def visible_to(self, user: User) -> InteractionQuerySet:
        """An interaction is visible with its customer."""
        return self.filter(customer__in=Customer.objects.visible_to(user))


class Interaction(models.Model):
    """One entry of the customer timeline; other apps write here through services."""

    class Direction(models.TextChoices):
        INBOUND = "in", _("inbound")
        OUTBOUND = "out", _("outbound")
        INTERNAL = "internal", _("internal")

    # No own index: (customer, -occurred_at) below serves every lookup by customer.
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="interactions", db_index=False
    )
    occurred_at = models.DateTimeField(_("time"))
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    direction = models.CharField(_("direction"), max_length=10, choices=Direction.choices)
    kind = models.CharField(_("kind"), max_length=30)
    # What the page shows: a registered text (customers.timeline_texts) with its parameters,
    # in the reader's language. ``summary`` holds it in the site's default language (search,
    # exports), or the entry's own words (a message, a note) when there is no key.
    summary = models.CharField(_("summary"), max_length=500)
    text_key = models.CharField(_("text key"), max_length=60, blank=True, default="", db_default="")
    text_params = models.JSONField(
        _("text parameters"), blank=True, default=dict, db_default={}, encoder=DjangoJSONEncoder
    )
    source_type = models.ForeignKey(
        ContentType, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source_id = models.CharField(max_length=64, blank=True)
    source = GenericForeignKey("source_type", "source_id")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = InteractionQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["customer", "-occurred_at"])]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d} {self.kind}: {self.summary}"

    @property
    def text(self) -> str:
        """What the timeline shows, in the active language (``summary`` for old entries)."""
        return timeline_text_render(self.text_key, self.text_params, fallback=self.summary)


class SuppressedContact(models.Model):
    """A keyed hash of an erased e-mail address or phone number (DSGVO Art. 17).

    Only the HMAC is kept, never the address: an import or a mailing can ask
    "was this address erased?" without the database holding the address.
    """

    class Kind(models.TextChoices):
        EMAIL = "email", _("email")
        PHONE = "phone", _("phone")

    kind = models.CharField(max_length=5, choices=Kind.choices)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("suppressed contact")
        verbose_name_plural = _("suppressed contacts")

    def __str__(self) -> str:
        return f"{self.kind} {self.digest[:12]}…"
