"""REST API: surveys (read) and responses (read; POST for tablets, kiosks and integrations)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response as HttpResponse

from stammkunde.core.api import RolePermissions
from stammkunde.core.errors import ApplicationError
from stammkunde.core.roles import ADMIN, AGENT, MARKETING, TEAM_LEAD, has_role
from stammkunde.customers.models import Customer

from . import selectors, services
from .models import Answer, Question, Response, Survey


class QuestionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Question
        fields = ["id", "order", "type", "text_de", "text_en", "choices", "optional"]


class SurveySerializer(serializers.ModelSerializer):
    version = serializers.IntegerField(source="current_version.number", allow_null=True)
    questions = serializers.SerializerMethodField()

    class Meta:
        model = Survey
        fields = ["id", "name", "kind", "title_de", "title_en", "active", "version", "questions"]

    def get_questions(self, obj: Survey) -> list[dict[str, Any]]:
        if obj.current_version is None:
            return []
        return QuestionSerializer(obj.current_version.questions.all(), many=True).data  # type: ignore[return-value]


class AnswerSerializer(serializers.ModelSerializer):
    class Meta:
        model = Answer
        fields = ["question", "value", "choices", "text", "sentiment"]


class ResponseSerializer(serializers.ModelSerializer):
    survey = serializers.IntegerField(source="version.survey_id")
    version = serializers.IntegerField(source="version.number")
    answers = AnswerSerializer(many=True, read_only=True)

    class Meta:
        model = Response
        fields = [
            "id", "survey", "version", "customer", "source", "channel", "language",
            "submitted_at", "nps", "csat", "ces", "sentiment", "follow_up_ticket", "answers",
        ]  # fmt: skip


class ResponseCreateSerializer(serializers.Serializer):
    survey = serializers.IntegerField(required=False, help_text="Survey id (without token).")
    token = serializers.CharField(required=False, help_text="The invitation's link token.")
    customer = serializers.IntegerField(required=False, allow_null=True, default=None)
    answers = serializers.DictField(
        help_text='{"q<question id>": value}; scales as integers, choices as lists, text as text.'
    )
    channel = serializers.ChoiceField(
        choices=["shop", "web", "phone", "email", "in_person"], default="shop"
    )
    idempotency_key = serializers.CharField(max_length=80, required=False, allow_blank=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs.get("survey") and not attrs.get("token"):
            raise serializers.ValidationError({"survey": ["Give a survey id or a token."]})
        return attrs


class AnswerPermission(RolePermissions):
    """Reads by model permission; answers may be recorded by every internal role but analysts."""

    def has_permission(self, request: Any, view: Any) -> bool:
        if request.method == "POST":
            return has_role(request.user, ADMIN, TEAM_LEAD, AGENT, MARKETING)
        return super().has_permission(request, view)


class SurveyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Surveys with the questions of the published version."""

    serializer_class = SurveySerializer
    permission_classes = [RolePermissions]
    queryset = Survey.objects.none()

    def get_queryset(self) -> Any:
        return Survey.objects.visible_to(self.request.user).select_related("current_version")


class ResponseViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Survey responses; POST stores one (idempotent by token or ``idempotency_key``)."""

    serializer_class = ResponseSerializer
    permission_classes = [AnswerPermission]
    queryset = Response.objects.none()

    def get_queryset(self) -> Any:
        return (
            Response.objects.visible_to(self.request.user)
            .select_related("version")
            .prefetch_related("answers")
        )

    @extend_schema(request=ResponseCreateSerializer, responses={201: ResponseSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponse:
        data = ResponseCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        customer = None
        if v["customer"] is not None:
            customer = Customer.objects.visible_to(request.user).filter(pk=v["customer"]).first()
            if customer is None:
                raise ApplicationError(
                    "Unknown customer.", field_errors={"customer": ["Unknown customer."]}
                )
        if v.get("token"):
            invitation, state = selectors.invitation_by_token(v["token"])
            if invitation is None:
                raise ApplicationError("Invalid token.", field_errors={"token": ["Invalid."]})
            result = services.response_submit(
                answers=v["answers"], invitation=invitation, actor=request.user
            )
        else:
            survey = selectors.survey_get(user=request.user, pk=v["survey"])
            if survey.current_version is None:
                raise ApplicationError("The survey is not published.", code="not_published")
            result = services.response_submit(
                answers=v["answers"],
                version=survey.current_version,
                customer=customer,
                source=Response.Source.API,
                channel=v["channel"],
                idempotency_key=v.get("idempotency_key") or None,
                actor=request.user,
            )
        response = self.get_queryset().get(pk=result.response.pk)
        return HttpResponse(
            ResponseSerializer(response).data,
            status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK,
        )


def register(router: Any) -> None:
    router.register("feedback/surveys", SurveyViewSet, basename="feedback-survey")
    router.register("feedback/responses", ResponseViewSet, basename="feedback-response")
