"""Read access to the mails of tickets and, for admins, the quarantine with reprocessing."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from stammkunde.core.api import RolePermissions
from stammkunde.core.roles import ADMIN, has_role

from . import services
from .models import InboundMessage, OutboxMessage


class InboundSerializer(serializers.ModelSerializer):
    class Meta:
        model = InboundMessage
        fields = [
            "id",
            "mailbox",
            "source",
            "uidvalidity",
            "uid",
            "size",
            "sha256",
            "message_id",
            "from_address",
            "subject",
            "result",
            "reason",
            "ticket",
            "duplicate_of",
            "received_at",
            "parsed_at",
            "attempts",
        ]


class OutboxSerializer(serializers.ModelSerializer):
    class Meta:
        model = OutboxMessage
        fields = [
            "id",
            "ticket",
            "service_message",
            "kind",
            "message_id",
            "in_reply_to",
            "to",
            "subject",
            "status",
            "attempts",
            "next_attempt_at",
            "sent_at",
            "last_error",
            "created_at",
        ]


class _Filtered(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = [RolePermissions]

    def _filter(self, qs: QuerySet[Any]) -> QuerySet[Any]:
        ticket = self.request.query_params.get("ticket", "")
        if ticket.isdigit():
            qs = qs.filter(ticket_id=int(ticket))
        return qs


class InboundViewSet(_Filtered):
    """Inbound mails (without raw bytes); ``?result=quarantined`` is the quarantine."""

    serializer_class = InboundSerializer
    queryset = InboundMessage.objects.none()

    def get_queryset(self) -> QuerySet[InboundMessage]:
        qs = self._filter(InboundMessage.objects.visible_to(self.request.user).defer("raw"))
        result = self.request.query_params.get("result", "")
        return qs.filter(result=result) if result else qs

    @action(detail=True, methods=["post"])
    def reprocess(self, request: Request, pk: str | None = None) -> Response:
        """Run a quarantined mail through the pipeline again (admins)."""
        if not has_role(request.user, ADMIN):
            raise PermissionDenied
        inbound = self.get_object()
        result = services.mail_reprocess(inbound_id=inbound.pk, actor=request.user)
        return Response(
            {"result": result.result, "ticket": result.ticket_id, "reason": result.reason}
        )


class OutboxViewSet(_Filtered):
    """Outbound mails of the tickets the user may see, with their delivery state."""

    serializer_class = OutboxSerializer
    queryset = OutboxMessage.objects.none()

    def get_queryset(self) -> QuerySet[OutboxMessage]:
        return self._filter(OutboxMessage.objects.visible_to(self.request.user))


def register(router: Any) -> None:
    router.register("channels/inbound", InboundViewSet, basename="channels-inbound")
    router.register("channels/outbox", OutboxViewSet, basename="channels-outbox")
