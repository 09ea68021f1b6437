"""REST endpoints; each one validates, calls one service or selector, and shapes the answer."""

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from events import selectors as event_selectors
from planning import selectors, services
from planning.models import Plan

from .pagination import NewestFirstPagination
from .serializers import (
    PlanCreateInputSerializer,
    PlanDetailSerializer,
    PlanEventPageSerializer,
    PlanSummarySerializer,
)


class HealthApi(APIView):
    """Liveness: the process is up and serving."""

    authentication_classes = ()
    permission_classes = (AllowAny,)
    throttle_classes = ()

    @extend_schema(responses={200: {"type": "object", "properties": {"status": {"type": "string"}}}})
    def get(self, request: Request) -> Response:
        return Response({"status": "ok"})


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

    @extend_schema(request=PlanCreateInputSerializer, responses={201: PlanDetailSerializer})
    def post(self, request: Request) -> Response:
        serializer = PlanCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        plan = services.plan_create(owner=request.user, text=fields.pop("text", ""), fields=fields)
        plan = selectors.plan_get(user=request.user, plan_id=plan.id)
        return Response(PlanDetailSerializer(plan).data, status=status.HTTP_201_CREATED)


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


class TokenObtainApi(TokenObtainPairView):
    """Exchange a username and password for an access and a refresh token."""

    throttle_classes = (ScopedRateThrottle,)
    throttle_scope = "token"


class TokenRefreshApi(TokenRefreshView):
    """Exchange a refresh token for a new pair (the old refresh token is revoked)."""

    throttle_classes = (ScopedRateThrottle,)
    throttle_scope = "token"
