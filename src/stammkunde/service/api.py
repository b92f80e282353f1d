"""Tickets, messages, attachments and SLA state over the API (webhooks come later)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from stammkunde.commerce.models import Order, OrderLine
from stammkunde.core.api import RolePermissions
from stammkunde.core.audit import ReadAuditMixin
from stammkunde.core.errors import ApplicationError
from stammkunde.customers.models import Channel, Customer

from . import services, sla
from .models import (
    Attachment,
    Category,
    Message,
    Priority,
    Queue,
    RootCause,
    Status,
    Ticket,
)


class TicketSerializer(serializers.ModelSerializer):
    tags = serializers.SerializerMethodField()
    category = serializers.CharField(source="category.name", default=None, allow_null=True)
    queue = serializers.CharField(source="queue.name")
    assignee = serializers.CharField(source="assignee.username", default=None, allow_null=True)
    root_cause = serializers.CharField(source="root_cause.name", default=None, allow_null=True)

    class Meta:
        model = Ticket
        fields = [
            "id",
            "number",
            "subject",
            "customer",
            "sender_email",
            "type",
            "category",
            "channel",
            "priority",
            "queue",
            "team",
            "assignee",
            "status",
            "tags",
            "version",
            "root_cause",
            "resolution",
            "first_contact_resolved",
            "order",
            "order_line",
            "product",
            "follow_up_of",
            "merged_into",
            "created_at",
            "updated_at",
            "first_response_at",
            "solved_at",
            "closed_at",
            "sla_due",
            "first_response_breached",
            "next_response_breached",
            "resolution_breached",
        ]

    def get_tags(self, obj: Ticket) -> list[str]:
        return [t.name for t in obj.tags.all()]


class TicketCreateSerializer(serializers.Serializer):
    subject = serializers.CharField(max_length=200)
    body = serializers.CharField()
    queue = serializers.IntegerField()
    customer = serializers.IntegerField(required=False, allow_null=True, default=None)
    sender_email = serializers.EmailField(required=False, allow_blank=True, default="")
    type = serializers.ChoiceField(choices=Ticket.Type.choices, default=Ticket.Type.INQUIRY)
    category = serializers.IntegerField(required=False, allow_null=True, default=None)
    channel = serializers.ChoiceField(choices=Channel.choices, default=Channel.EMAIL)
    priority = serializers.ChoiceField(choices=Priority.choices, default=Priority.NORMAL)
    order = serializers.IntegerField(required=False, allow_null=True, default=None)
    order_line = serializers.IntegerField(required=False, allow_null=True, default=None)
    tags = serializers.ListField(
        child=serializers.CharField(max_length=60), required=False, default=list
    )


class TicketPatchSerializer(serializers.Serializer):
    version = serializers.IntegerField(
        required=False, help_text="Refuse the save (409) when the ticket has another version."
    )
    status = serializers.ChoiceField(choices=Status.choices, required=False)
    assignee = serializers.IntegerField(required=False, allow_null=True)
    queue = serializers.IntegerField(required=False)
    priority = serializers.ChoiceField(choices=Priority.choices, required=False)
    type = serializers.ChoiceField(choices=Ticket.Type.choices, required=False)
    category = serializers.IntegerField(required=False, allow_null=True)
    customer = serializers.IntegerField(required=False, allow_null=True)
    subject = serializers.CharField(max_length=200, required=False)
    tags = serializers.ListField(child=serializers.CharField(max_length=60), required=False)
    root_cause = serializers.IntegerField(required=False, allow_null=True)
    resolution = serializers.CharField(required=False, allow_blank=True)


class MessageSerializer(serializers.ModelSerializer):
    author = serializers.CharField(source="author.username", default=None, allow_null=True)

    class Meta:
        model = Message
        fields = ["id", "ticket", "kind", "direction", "author", "body", "channel", "created_at"]


class MessageCreateSerializer(serializers.Serializer):
    body = serializers.CharField()
    kind = serializers.ChoiceField(choices=Message.Kind.choices, default=Message.Kind.PUBLIC)
    from_customer = serializers.BooleanField(default=False)
    channel = serializers.ChoiceField(choices=Channel.choices, required=False)
    then_status = serializers.ChoiceField(choices=Status.choices, required=False)


class AttachmentSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = ["id", "ticket", "message", "name", "size", "content_type", "created_at", "url"]

    def get_url(self, obj: Attachment) -> str:
        from django.urls import reverse

        return reverse("service:attachment", args=[obj.pk])


class AttachmentCreateSerializer(serializers.Serializer):
    file = serializers.FileField(max_length=200, allow_empty_file=True)


def _lookup(queryset: Any, pk: int | None, field: str) -> Any:
    """Resolve an id through the caller's visible rows, or a 400 field error."""
    if pk is None:
        return None
    found = queryset.filter(pk=pk).first()
    if found is None:
        raise ApplicationError(f"Unknown {field}.", field_errors={field: [f"Unknown {field}."]})
    return found


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("q", str),
            OpenApiParameter("status", str),
            OpenApiParameter("queue", int),
            OpenApiParameter("customer", int),
        ]
    )
)
class TicketViewSet(
    ReadAuditMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Tickets visible to the caller (a partner agent: its partner's queues only)."""

    audit_customer_attr = "customer_id"

    serializer_class = TicketSerializer
    permission_classes = [RolePermissions]
    queryset = Ticket.objects.none()
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    def get_queryset(self) -> Any:
        qs = (
            Ticket.objects.visible_to(self.request.user)
            .select_related("category", "queue", "assignee", "root_cause")
            .prefetch_related("tags")
        )
        params = self.request.query_params
        if q := params.get("q", "").strip():
            qs = qs.filter(Q(number=q) | Q(subject__icontains=q))
        if value := params.get("status"):
            if value not in Status.values:
                raise ApplicationError("Unknown status.", field_errors={"status": [value]})
            qs = qs.filter(status=value)
        for name in ("queue", "customer"):
            if value := params.get(name):
                if not value.isdigit():
                    raise ApplicationError(
                        f"{name} must be an id", field_errors={name: ["Must be an integer id."]}
                    )
                qs = qs.filter(**{f"{name}_id": int(value)})
        return qs

    def _ticket(self) -> Ticket:
        return self.get_object()

    @extend_schema(request=TicketCreateSerializer, responses={201: TicketSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = TicketCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        user = request.user
        order_line = _lookup(
            OrderLine.objects.filter(order__in=Order.objects.visible_to(user)),
            v["order_line"],
            "order_line",
        )
        ticket = services.ticket_create(
            actor=user,
            subject=v["subject"],
            body=v["body"],
            queue=_lookup(Queue.objects.visible_to(user), v["queue"], "queue"),
            customer=_lookup(Customer.objects.visible_to(user), v["customer"], "customer"),
            sender_email=v["sender_email"],
            type=v["type"],
            category=_lookup(Category.objects.filter(active=True), v["category"], "category"),
            channel=v["channel"],
            priority=v["priority"],
            tags=v["tags"],
            links=services.TicketLinks(
                order=_lookup(Order.objects.visible_to(user), v["order"], "order"),
                order_line=order_line,
            ),
        )
        return Response(
            TicketSerializer(self.get_queryset().get(pk=ticket.pk)).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(request=TicketPatchSerializer, responses={200: TicketSerializer})
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        ticket = self._ticket()
        data = TicketPatchSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        user = request.user
        changes: dict[str, Any] = {}
        if "assignee" in v:
            changes["assignee"] = _lookup(
                get_user_model().objects.filter(is_active=True), v["assignee"], "assignee"
            )
        if "queue" in v:
            changes["queue"] = _lookup(Queue.objects.visible_to(user), v["queue"], "queue")
        if "category" in v:
            changes["category"] = _lookup(Category.objects.all(), v["category"], "category")
        if "customer" in v:
            changes["customer"] = _lookup(
                Customer.objects.visible_to(user), v["customer"], "customer"
            )
        if "root_cause" in v:
            changes["root_cause"] = _lookup(RootCause.objects.all(), v["root_cause"], "root_cause")
        for name in ("status", "priority", "type", "subject", "tags", "resolution"):
            if name in v:
                changes[name] = v[name]
        ticket = services.ticket_change(
            actor=user, ticket=ticket, expected_version=v.get("version"), **changes
        )
        return Response(TicketSerializer(self.get_queryset().get(pk=ticket.pk)).data)

    @extend_schema(methods=["GET"], responses={200: MessageSerializer(many=True)})
    @extend_schema(
        methods=["POST"], request=MessageCreateSerializer, responses={201: MessageSerializer}
    )
    # The whole conversation in one answer, as the schema documents it (no page wrapper).
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def messages(self, request: Request, pk: str | None = None) -> Response:
        """The conversation; POST adds a reply, a note or a customer message."""
        ticket = self._ticket()
        if request.method == "GET":
            rows = ticket.messages.select_related("author").order_by("created_at", "id")
            return Response(MessageSerializer(rows, many=True).data)
        data = MessageCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        message = services.ticket_reply(
            actor=request.user,
            ticket=ticket,
            body=v["body"],
            kind=v["kind"],
            from_customer=v["from_customer"],
            channel=v.get("channel"),
            then_status=v.get("then_status"),
        )
        return Response(MessageSerializer(message).data, status=status.HTTP_201_CREATED)

    @extend_schema(methods=["GET"], responses={200: AttachmentSerializer(many=True)})
    @extend_schema(
        methods=["POST"],
        request={"multipart/form-data": AttachmentCreateSerializer},
        responses={201: AttachmentSerializer},
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def attachments(self, request: Request, pk: str | None = None) -> Response:
        """Files on the ticket; POST uploads one (size and type limits apply)."""
        ticket = self._ticket()
        if request.method == "GET":
            return Response(AttachmentSerializer(ticket.attachments.all(), many=True).data)
        data = AttachmentCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        attachment = services.attachment_add(
            actor=request.user, ticket=ticket, upload=data.validated_data["file"]
        )
        return Response(AttachmentSerializer(attachment).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={200: dict})
    @action(detail=True, methods=["get"], url_path="sla")
    def sla_state(self, request: Request, pk: str | None = None) -> Response:
        """Due times, breach flags, pause and the working minutes left to resolution."""
        return Response(sla.sla_state(self._ticket()).as_dict())


def register(router: Any) -> None:
    router.register("tickets", TicketViewSet, basename="ticket")
