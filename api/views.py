"""REST endpoints; each one validates, calls one service or selector, and shapes the answer."""

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import AllowAny, IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from agents import services
from events import selectors as event_selectors
from partyproject.health import readiness_report
from planning import selectors
from planning.models import DeadLetter, Plan
from planning.services import FeedbackRefused, feedback_create

from .pagination import NewestFirstPagination
from .serializers import (
    DeadLetterReplayOutputSerializer,
    DeadLetterSerializer,
    FeedbackInputSerializer,
    FeedbackSerializer,
    PlanCreateInputSerializer,
    PlanDetailSerializer,
    PlanEventPageSerializer,
    PlanSummarySerializer,
)
from .shedding import plan_intake_check


class HealthApi(APIView):
    """Liveness: the process is up and serving."""

    authentication_classes = ()
    permission_classes = (AllowAny,)
    throttle_classes = ()

    @extend_schema(responses={200: {"type": "object", "properties": {"status": {"type": "string"}}}})
    def get(self, request: Request) -> Response:
        return Response({"status": "ok"})


class ReadinessApi(APIView):
    """Readiness: database, broker and at least one worker answer (503 otherwise); each agent's breaker."""

    authentication_classes = ()
    permission_classes = (AllowAny,)
    throttle_classes = ()

    @extend_schema(responses={200: dict, 503: dict})
    def get(self, request: Request) -> Response:
        report = readiness_report()
        ready = report["status"] != "not_ready"
        return Response(report, status=status.HTTP_200_OK if ready else status.HTTP_503_SERVICE_UNAVAILABLE)


class PlanListCreateApi(generics.ListAPIView):
    """GET: the caller's plans, newest first. POST: describe a party; its agents start at once."""

    serializer_class = PlanSummarySerializer
    pagination_class = NewestFirstPagination

    def get_throttles(self):
        if self.request.method == "POST":
            self.throttle_scope = "plan_create"
            return [*super().get_throttles(), ScopedRateThrottle()]
        return super().get_throttles()

    def get_queryset(self):
        return selectors.plan_list(user=self.request.user)

    @extend_schema(
        request=PlanCreateInputSerializer,
        responses={201: PlanDetailSerializer, 202: PlanDetailSerializer},
        description="201: the plan's agents were handed to the broker. 202: the plan is accepted and waits in "
        "the dispatch outbox (the broker is briefly unavailable); it runs as soon as the broker is back.",
    )
    def post(self, request: Request) -> Response:
        plan_intake_check()
        serializer = PlanCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        plan = services.plan_create(owner=request.user, text=fields.pop("text", ""), fields=fields)
        plan = selectors.plan_get(user=request.user, plan_id=plan.id)
        queued = plan.dispatched_at is None and not plan.is_terminal
        answer = status.HTTP_202_ACCEPTED if queued else status.HTTP_201_CREATED
        return Response(PlanDetailSerializer(plan).data, status=answer)


class PlanDetailApi(APIView):
    """One of the caller's plans: status, brief, each agent run, and the final plan once ready."""

    @extend_schema(responses={200: PlanDetailSerializer})
    def get(self, request: Request, plan_id) -> Response:
        try:
            plan = selectors.plan_get(user=request.user, plan_id=plan_id)
        except Plan.DoesNotExist:
            raise Http404 from None
        return Response(PlanDetailSerializer(plan).data)


class PlanEventListApi(APIView):
    """A plan's event log in order, a page at a time: `?after=SEQ` (default 0) and `?limit=N` (≤ 500).

    `next` is the URL of the following page, or null at the end of what has been committed so far.
    """

    class InputSerializer(serializers.Serializer):
        after = serializers.IntegerField(required=False, min_value=0, default=0)
        limit = serializers.IntegerField(required=False, min_value=1, max_value=500, default=100)

    @extend_schema(parameters=[InputSerializer], responses={200: PlanEventPageSerializer})
    def get(self, request: Request, plan_id) -> Response:
        params = self.InputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        try:
            event_selectors.plan_for_viewer(user=request.user, plan_id=plan_id)
        except Plan.DoesNotExist:
            raise Http404 from None
        after, limit = params.validated_data["after"], params.validated_data["limit"]
        events = event_selectors.plan_event_envelopes(plan_id=plan_id, after=after, limit=limit + 1)
        following = None
        if len(events) > limit:
            events = events[:limit]
            following = request.build_absolute_uri(f"?after={events[-1]['seq']}&limit={limit}")
        return Response({"next": following, "results": events})


class PlanFeedbackApi(APIView):
    """The owner accepts or rejects a pick of a finished plan, and/or rates it 1-5."""

    @extend_schema(request=FeedbackInputSerializer, responses={201: FeedbackSerializer})
    def post(self, request: Request, plan_id) -> Response:
        serializer = FeedbackInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            plan = selectors.plan_get(user=request.user, plan_id=plan_id)
            feedback = feedback_create(plan=plan, author=request.user, **serializer.validated_data)
        except Plan.DoesNotExist:
            raise Http404 from None
        except FeedbackRefused as exc:
            raise ValidationError({"non_field_errors": [str(exc)]}) from None
        return Response(FeedbackSerializer(feedback).data, status=status.HTTP_201_CREATED)


class TokenObtainApi(TokenObtainPairView):
    """Exchange a username and password for an access and a refresh token."""

    throttle_classes = (ScopedRateThrottle,)
    throttle_scope = "token"


class TokenRefreshApi(TokenRefreshView):
    """Exchange a refresh token for a new pair (the old refresh token is revoked)."""

    throttle_classes = (ScopedRateThrottle,)
    throttle_scope = "token"


class DeadLetterListApi(generics.ListAPIView):
    """Staff: tasks that ended for good without doing their work, newest first."""

    permission_classes = (IsAdminUser,)
    serializer_class = DeadLetterSerializer
    pagination_class = NewestFirstPagination

    def get_queryset(self):
        return selectors.dead_letters()


class DeadLetterReplayApi(APIView):
    """Staff: replay one dead letter (once: a second call answers that it was replayed already)."""

    permission_classes = (IsAdminUser,)

    @extend_schema(request=None, responses={200: DeadLetterReplayOutputSerializer})
    def post(self, request: Request, dead_letter_id: int) -> Response:
        if not DeadLetter.objects.filter(pk=dead_letter_id).exists():
            raise Http404
        outcome = services.dead_letter_replay(dead_letter_id=dead_letter_id, actor=request.user)
        return Response({"id": dead_letter_id, "outcome": outcome})
