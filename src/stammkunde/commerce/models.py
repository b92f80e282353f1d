from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from stammkunde.core.access import InternalOnlyQuerySet, User, VisibleQuerySet
from stammkunde.customers.models import Customer


class ProductCategory(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("product category")
        verbose_name_plural = _("product categories")

    def __str__(self) -> str:
        return self.name


class ProductQuerySet(VisibleQuerySet["Product"]):
    def visible_to(self, user: User) -> ProductQuerySet:
        """The catalogue is not personal data: every signed-in user may read it."""
        return self.all() if user.is_authenticated and user.is_active else self.none()


class Product(models.Model):
    sku = models.CharField(_("SKU"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200)
    category = models.ForeignKey(ProductCategory, on_delete=models.PROTECT, related_name="products")
    price = models.DecimalField(_("price (EUR)"), max_digits=12, decimal_places=2)
    margin_rate = models.DecimalField(
        _("margin rate"), max_digits=4, decimal_places=3, default=Decimal("0.300")
    )
    is_service = models.BooleanField(_("service"), default=False)
    active = models.BooleanField(_("active"), default=True)

    objects = ProductQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("product")
        verbose_name_plural = _("products")
        constraints = [
            models.CheckConstraint(condition=Q(price__gte=0), name="product_price_not_negative"),
            models.CheckConstraint(
                condition=Q(margin_rate__gte=0) & Q(margin_rate__lte=1), name="margin_rate_0_1"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sku} {self.name}"


# Sales data is for internal staff only (partners handle tickets, not sales).


class OrderQuerySet(InternalOnlyQuerySet["Order"]):
    pass


class ReturnQuerySet(InternalOnlyQuerySet["Return"]):
    pass


class SubscriptionQuerySet(InternalOnlyQuerySet["Subscription"]):
    pass


class Order(models.Model):
    class Channel(models.TextChoices):
        SHOP = "shop", _("online shop")
        POS = "pos", _("store / POS")
        PHONE = "phone", _("phone")
        ERP = "erp", _("ERP / B2B")

    class Status(models.TextChoices):
        PAID = "paid", _("paid")
        CANCELLED = "cancelled", _("cancelled")

    number = models.CharField(_("order number"), max_length=40, unique=True)
    external_id = models.CharField(max_length=100, null=True, blank=True, unique=True)
    # No own index: (customer, -ordered_at) below serves every lookup by customer.
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="orders", db_index=False
    )
    ordered_at = models.DateTimeField(_("ordered"), db_index=True)
    channel = models.CharField(
        _("channel"), max_length=10, choices=Channel.choices, default=Channel.SHOP
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PAID
    )
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    total = models.DecimalField(_("total"), max_digits=12, decimal_places=2)

    objects = OrderQuerySet.as_manager()

    class Meta:
        ordering = ["-ordered_at", "-id"]
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        indexes = [models.Index(fields=["customer", "-ordered_at"])]
        constraints = [
            models.CheckConstraint(condition=Q(total__gte=0), name="order_total_not_negative"),
        ]

    def __str__(self) -> str:
        return self.number


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="order_lines")
    quantity = models.PositiveIntegerField(_("quantity"))
    unit_price = models.DecimalField(_("unit price"), max_digits=12, decimal_places=2)
    line_total = models.DecimalField(_("line total"), max_digits=12, decimal_places=2)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="line_quantity_positive"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="line_price_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.product_id}"


class Return(models.Model):
    class Reason(models.TextChoices):
        DEFECTIVE = "defective", _("defective")
        WRONG_ITEM = "wrong_item", _("wrong item delivered")
        NOT_AS_DESCRIBED = "not_as_described", _("not as described")
        SIZE = "size", _("size / fit")
        CHANGED_MIND = "changed_mind", _("changed mind")
        LATE = "late", _("delivered too late")
        OTHER = "other", _("other")

    order_line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="returns")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="returns")
    returned_at = models.DateTimeField(_("returned"))
    quantity = models.PositiveIntegerField(_("quantity"))
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices)
    refund = models.DecimalField(_("refund"), max_digits=12, decimal_places=2)
    external_id = models.CharField(max_length=100, null=True, blank=True, unique=True)

    objects = ReturnQuerySet.as_manager()

    class Meta:
        ordering = ["-returned_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="return_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"return of line {self.order_line_id}"


class Subscription(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("active")
        CANCELLED = "cancelled", _("cancelled")
        ENDED = "ended", _("ended")

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="subscriptions")
    plan = models.CharField(_("plan"), max_length=100)
    monthly_amount = models.DecimalField(_("monthly amount"), max_digits=10, decimal_places=2)
    started_at = models.DateField(_("start"))
    ends_at = models.DateField(_("end"), null=True, blank=True)
    cancelled_at = models.DateField(_("cancelled"), null=True, blank=True)
    cancellation_reason = models.CharField(_("cancellation reason"), max_length=200, blank=True)
    external_id = models.CharField(max_length=100, null=True, blank=True, unique=True)

    objects = SubscriptionQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__isnull=True) | Q(ends_at__gte=F("started_at")),
                name="subscription_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return self.plan

    @property
    def status(self) -> str:
        if self.cancelled_at:
            return self.Status.CANCELLED
        if self.ends_at and self.ends_at < timezone.localdate():
            return self.Status.ENDED
        return self.Status.ACTIVE
