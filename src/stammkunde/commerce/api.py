from __future__ import annotations

from typing import TYPE_CHECKING, Any

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from stammkunde.core.api import RolePermissions
from stammkunde.core.errors import ApplicationError
from stammkunde.customers.selectors import customer_visible

from . import services
from .models import Order, OrderLine, Product

if TYPE_CHECKING:
    from stammkunde.customers.models import Customer


class ProductSerializer(serializers.ModelSerializer):
    category = serializers.CharField(source="category.name")

    class Meta:
        model = Product
        fields = ["id", "sku", "name", "category", "price", "is_service", "active"]


class ProductCreateSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=64)
    name = serializers.CharField(max_length=200)
    category = serializers.CharField(max_length=100)
    price = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0)
    is_service = serializers.BooleanField(default=False)


class OrderLineSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="product.sku")

    class Meta:
        model = OrderLine
        fields = ["id", "sku", "quantity", "unit_price", "line_total"]


class OrderSerializer(serializers.ModelSerializer):
    customer: serializers.PrimaryKeyRelatedField[Customer] = serializers.PrimaryKeyRelatedField(
        read_only=True
    )
    lines = OrderLineSerializer(many=True, read_only=True)

    class Meta:
        model = Order
        fields = [
            "id",
            "number",
            "external_id",
            "customer",
            "ordered_at",
            "channel",
            "status",
            "currency",
            "total",
            "lines",
        ]


class LineInputSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=64)
    quantity = serializers.IntegerField(min_value=1, max_value=100_000)
    unit_price = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=0, required=False, allow_null=True, default=None
    )


class OrderCreateSerializer(serializers.Serializer):
    number = serializers.CharField(max_length=40)
    customer = serializers.IntegerField()
    ordered_at = serializers.DateTimeField()
    channel = serializers.ChoiceField(choices=Order.Channel.choices, default=Order.Channel.SHOP)
    currency = serializers.CharField(max_length=3, default="EUR")
    external_id = serializers.CharField(
        max_length=100, required=False, allow_null=True, default=None
    )
    lines = LineInputSerializer(many=True, allow_empty=False)


class ProductViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The product catalogue."""

    serializer_class = ProductSerializer
    permission_classes = [RolePermissions]
    queryset = Product.objects.none()

    def get_queryset(self) -> Any:
        return Product.objects.visible_to(self.request.user).select_related("category")

    @extend_schema(request=ProductCreateSerializer, responses={201: ProductSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = ProductCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        product = services.product_create(
            sku=v["sku"],
            name=v["name"],
            category_name=v["category"],
            price=v["price"],
            is_service=v["is_service"],
        )
        return Response(ProductSerializer(product).data, status=status.HTTP_201_CREATED)


@extend_schema_view(list=extend_schema(parameters=[OpenApiParameter("customer", int)]))
class OrderViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Orders; POST is idempotent by order number (a replay returns the stored order)."""

    serializer_class = OrderSerializer
    permission_classes = [RolePermissions]
    queryset = Order.objects.none()

    def get_queryset(self) -> Any:
        qs = Order.objects.visible_to(self.request.user).prefetch_related("lines__product")
        customer = self.request.query_params.get("customer")
        if customer:
            if not customer.isdigit():
                raise ApplicationError(
                    "customer must be an id", field_errors={"customer": ["Must be an integer id."]}
                )
            qs = qs.filter(customer_id=int(customer))
        return qs

    @extend_schema(
        request=OrderCreateSerializer, responses={201: OrderSerializer, 200: OrderSerializer}
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = OrderCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        customer = customer_visible(user=request.user, pk=v["customer"])
        if customer is None:
            raise ApplicationError(
                "Unknown customer.", field_errors={"customer": ["Unknown customer."]}
            )
        order, created = services.order_create(
            actor=request.user,
            customer=customer,
            number=v["number"],
            ordered_at=v["ordered_at"],
            channel=v["channel"],
            currency=v["currency"],
            external_id=v["external_id"],
            lines=[services.LineInput(**line) for line in v["lines"]],
        )
        order = self.get_queryset().get(pk=order.pk)
        return Response(
            OrderSerializer(order).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


def register(router: Any) -> None:
    router.register("orders", OrderViewSet, basename="order")
    router.register("products", ProductViewSet, basename="product")
