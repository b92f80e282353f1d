from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from stammkunde.core.api import RolePermissions
from stammkunde.core.audit import ReadAuditMixin

from . import selectors, services
from .models import Channel, Customer


class AddressSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["billing", "shipping"], default="billing")
    street = serializers.CharField(max_length=200)
    postal_code = serializers.CharField(max_length=12)
    city = serializers.CharField(max_length=100)
    country = serializers.CharField(max_length=2, default="DE")


class CustomerOutputSerializer(serializers.ModelSerializer):
    emails = serializers.SerializerMethodField()
    phones = serializers.SerializerMethodField()
    addresses = AddressSerializer(many=True, read_only=True)
    tags: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        many=True, read_only=True, slug_field="name"
    )
    display_name = serializers.CharField(read_only=True)

    class Meta:
        model = Customer
        fields = [
            "id",
            "number",
            "external_id",
            "kind",
            "salutation",
            "first_name",
            "last_name",
            "company_name",
            "display_name",
            "birthday",
            "emails",
            "phones",
            "addresses",
            "tags",
            "preferred_language",
            "preferred_channel",
            "value_class",
            "created_at",
            "first_purchase_at",
            "version",
        ]

    def get_emails(self, obj: Customer) -> list[str]:
        return [e.address for e in obj.emails.all()]

    def get_phones(self, obj: Customer) -> list[str]:
        return [p.number for p in obj.phones.all()]


class CustomerCreateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Customer.Kind.choices, default=Customer.Kind.PERSON)
    salutation = serializers.CharField(max_length=20, required=False, default="")
    first_name = serializers.CharField(max_length=100, required=False, default="")
    last_name = serializers.CharField(max_length=100, required=False, default="")
    company_name = serializers.CharField(max_length=200, required=False, default="")
    birthday = serializers.DateField(required=False, allow_null=True, default=None)
    emails = serializers.ListField(
        child=serializers.CharField(max_length=254), required=False, default=list
    )
    phones = serializers.ListField(
        child=serializers.CharField(max_length=40), required=False, default=list
    )
    addresses = AddressSerializer(many=True, required=False, default=list)
    tags = serializers.ListField(
        child=serializers.CharField(max_length=60), required=False, default=list
    )
    preferred_language = serializers.ChoiceField(choices=["de", "en"], default="de")
    preferred_channel = serializers.ChoiceField(choices=Channel.choices, default=Channel.EMAIL)
    external_id = serializers.CharField(
        max_length=100, required=False, allow_null=True, default=None
    )


class CustomerUpdateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Customer.Kind.choices, required=False)
    salutation = serializers.CharField(max_length=20, required=False, allow_blank=True)
    first_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    company_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    birthday = serializers.DateField(required=False, allow_null=True)
    emails = serializers.ListField(child=serializers.CharField(max_length=254), required=False)
    phones = serializers.ListField(child=serializers.CharField(max_length=40), required=False)
    tags = serializers.ListField(child=serializers.CharField(max_length=60), required=False)
    preferred_language = serializers.ChoiceField(choices=["de", "en"], required=False)
    preferred_channel = serializers.ChoiceField(choices=Channel.choices, required=False)
    external_id = serializers.CharField(max_length=100, required=False, allow_null=True)
    version = serializers.IntegerField(
        required=False, help_text="Send the version you read to refuse stale edits."
    )


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter(
                "q",
                str,
                description=(
                    "customer number (with or without prefix), e-mail or its beginning, phone "
                    "in any notation, postcode, city, or name words in any order "
                    "(docs/customers.md, Search)"
                ),
            ),
            OpenApiParameter("kind", str),
            OpenApiParameter("value_class", str),
            OpenApiParameter("tag", str),
            OpenApiParameter("prospect", str, enum=["yes", "no"]),
        ]
    ),
    create=extend_schema(
        request=CustomerCreateSerializer, responses={201: CustomerOutputSerializer}
    ),
    partial_update=extend_schema(
        request=CustomerUpdateSerializer, responses={200: CustomerOutputSerializer}
    ),
)
class CustomerViewSet(
    ReadAuditMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Customers: list with search and filters, read, create, change."""

    serializer_class = CustomerOutputSerializer
    permission_classes = [RolePermissions]
    queryset = Customer.objects.none()
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> Any:
        params = self.request.query_params
        if params.get("prospect", "") not in ("", "yes", "no"):
            raise serializers.ValidationError({"prospect": [_('Either "yes" or "no".')]})
        filters = selectors.CustomerFilter(
            q=params.get("q", ""),
            kind=params.get("kind", ""),
            value_class=params.get("value_class", ""),
            tag=params.get("tag", ""),
            prospect=params.get("prospect", ""),
        )
        return selectors.customer_list(user=self.request.user, filters=filters).prefetch_related(
            "phones", "addresses", "tags"
        )

    def get_object(self) -> Customer:
        return selectors.customer_get(user=self.request.user, pk=self.kwargs["pk"])

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = CustomerCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        customer = services.customer_create(actor=request.user, **data.validated_data)
        customer = selectors.customer_get(user=request.user, pk=customer.pk)
        return Response(self.get_serializer(customer).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        customer = self.get_object()
        data = CustomerUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        version = values.pop("version", None)
        services.customer_update(
            actor=request.user, customer=customer, data=values, expected_version=version
        )
        customer = selectors.customer_get(user=request.user, pk=customer.pk)
        return Response(self.get_serializer(customer).data)


def register(router: Any) -> None:
    router.register("customers", CustomerViewSet, basename="customer")
