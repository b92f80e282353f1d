"""Workforce API: Erlang staffing for one interval, next week's forecast, partner scorecards.

``POST /api/staffing/erlang/`` takes the same inputs as the CLI and answers
the same JSON; bad input gives 400 with field errors, never 500.
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from stammkunde.core.api import RolePermissions
from stammkunde.core.errors import ApplicationError

from . import selectors
from .cli_erlang import erlang_command
from .erlang import StaffingInputError
from .models import PartnerContract, is_planner


class IsPlanner(BasePermission):
    """Team leads, admins and analysts."""

    def has_permission(self, request: Request, view: Any) -> bool:
        return is_planner(request.user)


class ErlangInputSerializer(serializers.Serializer):
    calls = serializers.FloatField(
        min_value=0, max_value=1e7, help_text="contacts offered in the interval (> 0)"
    )
    interval_s = serializers.FloatField(
        min_value=1, max_value=86400, help_text="interval length; must divide 24 h"
    )
    aht_s = serializers.FloatField(
        min_value=0, max_value=86400, help_text="average handling time (> 0)"
    )
    target_answer_s = serializers.FloatField(min_value=0, max_value=86400)
    target_sl = serializers.FloatField(help_text="share answered in time, strictly in (0, 1)")
    shrinkage = serializers.FloatField(default=0.0, help_text="in [0, 1)")
    max_occupancy = serializers.FloatField(required=False, allow_null=True, default=None)
    agents = serializers.IntegerField(
        required=False, allow_null=True, default=None, min_value=0, max_value=1_000_000
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        for name, value in attrs.items():
            if isinstance(value, float) and not math.isfinite(value):
                raise serializers.ValidationError({name: ["must be a finite number"]})
        return attrs


ErlangOutput = inline_serializer(
    "ErlangOutput",
    {
        "traffic_erlangs": serializers.FloatField(),
        "raw_agents": serializers.IntegerField(),
        "scheduled_agents": serializers.IntegerField(),
        "service_level": serializers.FloatField(),
        "p_wait": serializers.FloatField(),
        "asa_s": serializers.FloatField(allow_null=True),
        "occupancy": serializers.FloatField(),
    },
)


class StaffingViewSet(viewsets.ViewSet):
    """Staffing calculations for planners."""

    permission_classes = [IsAuthenticated, IsPlanner]

    @extend_schema(request=ErlangInputSerializer, responses={200: ErlangOutput})
    @action(detail=False, methods=["post"])
    def erlang(self, request: Request) -> Response:
        """Agents for one interval (Erlang C), or what ``agents`` would deliver."""
        data = ErlangInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            result = erlang_command(**data.validated_data)
        except StaffingInputError as exc:
            raise ApplicationError(
                str(exc), code="invalid", field_errors={exc.field: [exc.message]}
            ) from exc
        return Response(result)


class ForecastQuerySerializer(serializers.Serializer):
    queue = serializers.CharField(max_length=100)
    channel = serializers.CharField(max_length=20, required=False, default="")
    week = serializers.DateField(required=False, allow_null=True, default=None)
    days = serializers.IntegerField(min_value=1, max_value=28, default=7)


class ForecastViewSet(viewsets.ViewSet):
    """Contacts, AHT and required agents per interval for the coming week of a queue."""

    permission_classes = [IsAuthenticated, IsPlanner]

    @extend_schema(parameters=[ForecastQuerySerializer], responses={200: OpenApiTypes.OBJECT})
    def list(self, request: Request) -> Response:
        params = ForecastQuerySerializer(data=request.query_params.dict())
        params.is_valid(raise_exception=True)
        queue = params.validated_data["queue"]
        start: date = params.validated_data["week"] or selectors.next_week_start()
        days = params.validated_data["days"]
        channels = [c for q, c in selectors.queue_list(user=request.user) if q == queue]
        channel = params.validated_data["channel"] or (channels[0] if channels else "")
        if channel not in channels:
            raise ApplicationError(
                "Unknown queue or channel.",
                code="queue",
                field_errors={"queue": ["no history for this queue/channel"]},
            )
        forecast = selectors.forecast_get(
            user=request.user, queue=queue, channel=channel, start=start, days=days
        )
        need = selectors.requirement_get(user=request.user, queue=queue, start=start, days=days)
        intervals = [
            {
                "interval_start": ts.isoformat(),
                "contacts": round(float(row.contacts), 3),
                "aht_s": None if math.isnan(row.aht_s) else round(float(row.aht_s), 1),
                "required_agents": int(need.at[ts, "required"]),
            }
            for ts, row in forecast.iterrows()
        ]
        return Response(
            {
                "queue": queue,
                "channel": channel,
                "start": start.isoformat(),
                "end": (start + timedelta(days=days)).isoformat(),
                "timezone": "Europe/Berlin",
                "intervals": intervals,
            }
        )


def _plain(value: Any) -> Any:
    if hasattr(value, "item"):  # numpy scalar
        value = value.item()
    return None if isinstance(value, float) and not math.isfinite(value) else value


class ScorecardQuerySerializer(serializers.Serializer):
    period = serializers.ChoiceField(choices=["week", "month"], default="week")
    since = serializers.DateField(required=False, allow_null=True, default=None)


class ScorecardViewSet(viewsets.ViewSet):
    """Partner and own-team scorecards per week or month; partner agents see only their own."""

    permission_classes = [RolePermissions]
    queryset = PartnerContract.objects.none()

    @extend_schema(parameters=[ScorecardQuerySerializer], responses={200: OpenApiTypes.OBJECT})
    def list(self, request: Request) -> Response:
        params = ScorecardQuerySerializer(data=request.query_params.dict())
        params.is_valid(raise_exception=True)
        period = params.validated_data["period"]
        cards = selectors.scorecards_get(
            user=request.user, period=period, since=params.validated_data["since"]
        )
        rows = [
            {k: _plain(v) for k, v in {**r, "period": r["period"].date().isoformat()}.items()}
            for r in cards.table.to_dict("records")
        ]
        return Response({"period": period, "sources": cards.sources, "results": rows})


def register(router: Any) -> None:
    router.register("staffing", StaffingViewSet, basename="staffing")
    router.register("workforce/forecast", ForecastViewSet, basename="workforce-forecast")
    router.register("workforce/scorecards", ScorecardViewSet, basename="workforce-scorecard")
