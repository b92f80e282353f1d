"""Campaigns API: segments (with a live count), campaigns (status, send, evaluation)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from stammkunde.core.api import RolePermissions

from . import selectors, services
from .models import Campaign, CampaignEvaluation, Segment


class SegmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Segment
        fields = ["id", "name", "description", "rules", "mode", "frozen_at", "updated_at"]
        read_only_fields = ["id", "frozen_at", "updated_at"]


class SegmentInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    rules = serializers.JSONField()
    mode = serializers.ChoiceField(choices=Segment.Mode.choices, default=Segment.Mode.DYNAMIC)


class RulesSerializer(serializers.Serializer):
    rules = serializers.JSONField()


class _PostIsRead(RolePermissions):
    perms_map = {**RolePermissions.perms_map, "POST": ["%(app_label)s.view_%(model_name)s"]}


class SegmentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Audience segments: JSON rules over customer data."""

    serializer_class = SegmentSerializer
    permission_classes = [RolePermissions]
    queryset = Segment.objects.none()

    def get_queryset(self) -> Any:
        return selectors.segment_list(user=self.request.user)

    def get_object(self) -> Segment:
        return selectors.segment_get(user=self.request.user, pk=self.kwargs["pk"])

    @extend_schema(request=SegmentInputSerializer, responses={201: SegmentSerializer})
    def create(self, request: Request) -> Response:
        data = SegmentInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        segment = services.segment_save(actor=request.user, **data.validated_data)
        return Response(SegmentSerializer(segment).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=SegmentInputSerializer, responses={200: SegmentSerializer})
    def partial_update(self, request: Request, pk: Any = None) -> Response:
        segment = self.get_object()
        current = {
            "name": segment.name,
            "description": segment.description,
            "rules": segment.rules,
            "mode": segment.mode,
        }
        data = SegmentInputSerializer(data={**current, **dict(request.data)})
        data.is_valid(raise_exception=True)
        segment = services.segment_save(actor=request.user, segment=segment, **data.validated_data)
        return Response(SegmentSerializer(segment).data)

    @extend_schema(request=RulesSerializer, responses={200: {"type": "object"}})
    @action(detail=False, methods=["post"])
    def count(self, request: Request) -> Response:
        """Return how many customers match the given rules now (nothing is stored)."""
        data = RulesSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return Response({"count": selectors.segment_count(rules=data.validated_data["rules"])})

    def get_permissions(self) -> Any:
        # Counting is a read: it needs the view permission only.
        if self.action == "count":
            return [_PostIsRead()]
        return super().get_permissions()


class CampaignSerializer(serializers.ModelSerializer):
    class Meta:
        model = Campaign
        fields = [
            "id", "name", "description", "playbook_phase", "segment", "offer_kind",
            "offer_value", "offer_points", "offer_text", "channel", "trigger", "trigger_phase",
            "trigger_days", "scheduled_for", "status", "is_advertising", "budget",
            "cost_per_contact", "offer_cost", "control_share", "horizon_days", "expected_uplift",
            "priority", "subject", "body", "activated_at", "version",
        ]  # fmt: skip
        read_only_fields = ["id", "playbook_phase", "status", "activated_at", "version"]


class CampaignInputSerializer(serializers.ModelSerializer):
    version = serializers.IntegerField(required=False)

    class Meta:
        model = Campaign
        fields = list(services.CAMPAIGN_FIELDS) + ["version"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # Business rules are checked by the service; here types, choices and typos.
        unknown = set(self.initial_data) - set(self.fields)
        if unknown:
            raise serializers.ValidationError({f: ["Unknown field."] for f in sorted(unknown)})
        return attrs

    def get_validators(self) -> list[Any]:
        return []


class StatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Campaign.Status.choices)


class EvaluationSerializer(serializers.ModelSerializer):
    class Meta:
        model = CampaignEvaluation
        fields = [
            "id",
            "computed_at",
            "as_of",
            "is_final",
            "recommendation",
            "roi",
            "qini",
            "summary",
        ]


class CampaignViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Campaigns and playbooks: create, change, switch on/off, send, read the evaluation."""

    serializer_class = CampaignSerializer
    permission_classes = [RolePermissions]
    queryset = Campaign.objects.none()
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> Any:
        return selectors.campaign_list(user=self.request.user)

    def get_object(self) -> Campaign:
        return selectors.campaign_get(user=self.request.user, pk=self.kwargs["pk"])

    def _input(self, request: Request, *, partial: bool) -> tuple[dict[str, Any], int | None]:
        serializer = CampaignInputSerializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        values = dict(serializer.validated_data)
        return values, values.pop("version", None)

    @extend_schema(request=CampaignInputSerializer, responses={201: CampaignSerializer})
    def create(self, request: Request) -> Response:
        values, _ = self._input(request, partial=False)
        campaign = services.campaign_create(actor=request.user, data=values)
        return Response(CampaignSerializer(campaign).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=CampaignInputSerializer, responses={200: CampaignSerializer})
    def partial_update(self, request: Request, pk: Any = None) -> Response:
        campaign = self.get_object()
        values, version = self._input(request, partial=True)
        campaign = services.campaign_update(
            actor=request.user, campaign=campaign, data=values, expected_version=version
        )
        return Response(CampaignSerializer(campaign).data)

    @extend_schema(request=StatusSerializer, responses={200: CampaignSerializer})
    @action(detail=True, methods=["post"], url_path="status")
    def set_status(self, request: Request, pk: Any = None) -> Response:
        """Switch the campaign on (``active``), pause or finish it."""
        campaign = self.get_object()
        data = StatusSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        campaign = services.campaign_status_set(
            actor=request.user, campaign=campaign, status=data.validated_data["status"]
        )
        return Response(CampaignSerializer(campaign).data)

    @extend_schema(request=None, responses={200: {"type": "object"}})
    @action(detail=True, methods=["post"])
    def send(self, request: Request, pk: Any = None) -> Response:
        """Send now to everyone eligible who has not had the campaign; returns the counts."""
        campaign = self.get_object()
        run = services.campaign_run(actor=request.user, campaign=campaign)
        return Response({"run": run.pk, **run.counts})

    @extend_schema(responses={200: EvaluationSerializer})
    @action(detail=True, methods=["get"])
    def evaluation(self, request: Request, pk: Any = None) -> Response:
        """Return the latest evaluation (404 when there is none yet)."""
        campaign = self.get_object()
        latest = selectors.evaluation_latest(campaign=campaign)
        if latest is None:
            return Response({"detail": "Not evaluated yet."}, status=status.HTTP_404_NOT_FOUND)
        return Response(EvaluationSerializer(latest).data)


def register(router: Any) -> None:
    router.register("campaigns/segments", SegmentViewSet, basename="campaign-segment")
    router.register("campaigns", CampaignViewSet, basename="campaign")
