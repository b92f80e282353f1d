"""Real-time ingest API: the shop/POS pushes orders and returns as they happen.

``POST /api/ingest/orders/`` and ``POST /api/ingest/returns/`` are idempotent by
``external_id``: 201 when stored, 200 for a replay (nothing changed, or only
an order's status), 409 when the id is known with different content, 400 with
field errors for invalid input.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from stammkunde.commerce.api import OrderSerializer
from stammkunde.commerce.models import Order, Return
from stammkunde.core.api import RolePermissions

from .services.ingest import order_ingest, return_ingest


class IngestCustomerSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["person", "company"], default="person")
    first_name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    last_name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    company_name = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default=""
    )
    email = serializers.EmailField(required=False, allow_blank=True, default="")
    phone = serializers.CharField(max_length=30, required=False, allow_blank=True, default="")


class IngestLineSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=64)
    quantity = serializers.IntegerField(min_value=1, max_value=100_000)
    unit_price = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=0, required=False, allow_null=True, default=None
    )


class IngestOrderSerializer(serializers.Serializer):
    external_id = serializers.CharField(max_length=100)
    number = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    customer_external_id = serializers.CharField(max_length=100)
    customer = IngestCustomerSerializer(required=False)
    ordered_at = serializers.DateTimeField()
    channel = serializers.ChoiceField(choices=Order.Channel.choices, default=Order.Channel.SHOP)
    status = serializers.ChoiceField(choices=Order.Status.choices, default=Order.Status.PAID)
    currency = serializers.ChoiceField(choices=["EUR"], default="EUR")
    lines = IngestLineSerializer(many=True, allow_empty=False)


class IngestReturnSerializer(serializers.Serializer):
    external_id = serializers.CharField(max_length=100)
    order_external_id = serializers.CharField(max_length=100)
    sku = serializers.CharField(max_length=64)
    quantity = serializers.IntegerField(min_value=1, max_value=100_000)
    reason = serializers.ChoiceField(choices=Return.Reason.choices, default=Return.Reason.OTHER)
    returned_at = serializers.DateTimeField()
    refund = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=0, required=False, allow_null=True, default=None
    )


class ReturnOutSerializer(serializers.ModelSerializer):
    order = serializers.CharField(source="order_line.order.number")
    sku = serializers.CharField(source="order_line.product.sku")

    class Meta:
        model = Return
        fields = [
            "id",
            "external_id",
            "order",
            "sku",
            "quantity",
            "reason",
            "returned_at",
            "refund",
        ]


_STATUS = {
    "created": status.HTTP_201_CREATED,
    "unchanged": status.HTTP_200_OK,
    "updated": status.HTTP_200_OK,
}


class OrderIngestViewSet(viewsets.GenericViewSet):
    """Push one order (with lines); idempotent by external_id."""

    permission_classes = [RolePermissions]
    queryset = Order.objects.none()
    serializer_class = IngestOrderSerializer

    @extend_schema(
        request=IngestOrderSerializer, responses={201: OrderSerializer, 200: OrderSerializer}
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = IngestOrderSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = order_ingest(actor=request.user, data=data.validated_data)
        order = (
            Order.objects.visible_to(request.user)
            .prefetch_related("lines__product")
            .get(pk=result.obj.pk)
        )
        body = {**OrderSerializer(order).data, "outcome": result.outcome}
        return Response(body, status=_STATUS[result.outcome])


class ReturnIngestViewSet(viewsets.GenericViewSet):
    """Push one return of an order line; idempotent by external_id."""

    permission_classes = [RolePermissions]
    queryset = Return.objects.none()
    serializer_class = IngestReturnSerializer

    @extend_schema(
        request=IngestReturnSerializer,
        responses={201: ReturnOutSerializer, 200: ReturnOutSerializer},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = IngestReturnSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = return_ingest(actor=request.user, data=data.validated_data)
        body = {**ReturnOutSerializer(result.obj).data, "outcome": result.outcome}
        return Response(body, status=_STATUS[result.outcome])


def register(router: Any) -> None:
    router.register("ingest/orders", OrderIngestViewSet, basename="ingest-order")
    router.register("ingest/returns", ReturnIngestViewSet, basename="ingest-return")
