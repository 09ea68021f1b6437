"""REST endpoints; each one validates, calls one service or selector, and shapes the answer."""

from django.http import Http404, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, serializers, status
from rest_framework.exceptions import Throttled
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from agents import services
from agents.faults import faults_list
from agents.health import readiness_report
from agents.registry import agent_names
from events import selectors as event_selectors
from planning import selectors
from planning.models import DeadLetter, Plan, PlanRevision, PlanStatus
from planning.services import FeedbackRefused, feedback_create

from . import services as api_services
from .errors import Conflict, Unprocessable
from .limits import login_lockout_remaining
from .models import AuditAction
from .pagination import NewestFirstPagination
from .permissions import IsOperator, IsSupport, sees_internals
from .preconditions import IDEMPOTENCY_KEY, IF_MATCH, REPLAYED, expected_version, idempotency_key, plan_conflicts
from .renderers import etag_matches, plan_etag, plan_rendering
from .serializers import (
    BreakerSerializer,
    DeadLetterReplayOutputSerializer,
    DeadLetterSerializer,
    FaultSerializer,
    FeedbackInputSerializer,
    FeedbackSerializer,
    LimitsSerializer,
    LogoutInputSerializer,
    PlanChangeInputSerializer,
    PlanChangeOutputSerializer,
    PlanCreateInputSerializer,
    PlanDetailSerializer,
    PlanEditInputSerializer,
    PlanEventPageSerializer,
    PlanRetryInputSerializer,
    PlanRevisionDetailSerializer,
    PlanRevisionSerializer,
    PlanSummarySerializer,
    TokenObtainInputSerializer,
    TokenPairSerializer,
    TokenRefreshInputSerializer,
    plan_detail_data,
)
from .shedding import plan_intake_check
from .throttling import ScopedThrottle


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
            return [*super().get_throttles(), ScopedThrottle()]
        return super().get_throttles()

    def get_queryset(self):
        return selectors.plan_list(user=self.request.user, columns=PlanSummarySerializer.Meta.fields)

    error_statuses = (422,)

    @extend_schema(
        request=PlanCreateInputSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: PlanDetailSerializer, 202: PlanDetailSerializer},
        description="201: the plan's agents were handed to the broker. 202: the plan is accepted and waits: for "
        "a running slot (its owner runs as many plans as they may; `admission` gives its position), or in the "
        "dispatch outbox (the broker is briefly unavailable); it runs as soon as it is admitted or the broker is "
        "back.\n\n"
        "With an `Idempotency-Key` header, the same key and body from the same user within "
        "API_IDEMPOTENCY_TTL (24 h) answer with the first response (header `Idempotent-Replayed: true`) "
        "instead of creating a second plan; the same key with another body answers 422 "
        "(`idempotency_key_reused`).",
    )
    def post(self, request: Request) -> Response:
        plan_intake_check()
        serializer = PlanCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        text = fields.pop("text", "")
        key = idempotency_key(request)
        if key is None:
            plan = services.plan_create(owner=request.user, text=text, fields=fields)  # read after its dispatch
            return self.created(request, selectors.plan_with_current_runs(plan=plan))
        try:
            record, created = api_services.idempotent_create(
                user=request.user,
                key=key,
                body=request.data,
                create=lambda: services.plan_create(owner=request.user, text=text, fields=fields),
            )
        except api_services.IdempotencyKeyReused as exc:
            raise Unprocessable(str(exc), code="idempotency_key_reused") from None
        if not created and record.response_status is not None:
            return Response(record.response_body, status=record.response_status, headers=REPLAYED)
        response = self.created(request, selectors.plan_get(user=request.user, plan_id=record.plan_id))
        if created:
            api_services.idempotent_response_store(record=record, status=response.status_code, body=response.data)
        else:
            response["Idempotent-Replayed"] = "true"
        return response

    @staticmethod
    def created(request: Request, plan: Plan) -> Response:
        queued = plan.dispatched_at is None and not plan.is_terminal
        answer = status.HTTP_202_ACCEPTED if queued else status.HTTP_201_CREATED
        return Response(plan_detail_data(plan, internals=sees_internals(request)), status=answer)


class LimitsApi(APIView):
    """The caller's limits: how many plans they may run at once, how many run and wait now, and the bound
    on all users' running plans. Plans beyond a cap wait (202) and are admitted fairly across users."""

    @extend_schema(responses={200: LimitsSerializer})
    def get(self, request: Request) -> Response:
        return Response(LimitsSerializer(selectors.admission_usage(owner_id=request.user.pk)).data)


class PlanDetailApi(APIView):
    """A plan: status, brief, each agent run, and the final plan once ready; PATCH edits it.

    Owners read their own plans (raw agent errors replaced by friendly ones); support staff read any plan
    with its internals. Only the owner edits.
    """

    error_statuses = (409, 422)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "If-None-Match",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                description="An ETag of this plan: 304 when the plan still has it.",
            ),
            OpenApiParameter(
                "ETag",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                response=[200, 304],
                description='Strong: "<version>-<event_seq>-r<rendering schema>", with "-i" when internals are shown.',
            ),
        ],
        responses={
            200: PlanDetailSerializer,
            304: OpenApiResponse(description="Not modified: the plan still has the ETag of If-None-Match."),
        },
    )
    def get(self, request: Request, plan_id) -> Response | HttpResponse:
        any_owner = IsSupport().has_permission(request, self)
        head = selectors.plan_head(plan_id=plan_id)
        if head is None or not (any_owner or head["owner_id"] == request.user.pk):
            raise Http404
        internals = sees_internals(request)
        if head["status"] == PlanStatus.RUNNING and head["admitted_at"] is None:
            # Waiting for admission: its position moves while the plan does not, so no ETag and no cache.
            plan = selectors.plan_get_any(plan_id=plan_id)
            return Response(plan_detail_data(plan, internals=internals))
        etag = plan_etag(version=head["version"], event_seq=head["event_seq"], internals=internals)
        if etag_matches(request.headers.get("If-None-Match"), etag):
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers={"ETag": etag})
        try:
            etag, body = plan_rendering(
                plan_id=plan_id,
                etag=etag,
                internals=internals,
                load=lambda: selectors.plan_get_any(plan_id=plan_id),
                render=lambda plan: plan_detail_data(plan, internals=internals),
            )
        except Plan.DoesNotExist:  # deleted since the first query
            raise Http404 from None
        response = HttpResponse(body, content_type="application/json")
        response["ETag"] = etag
        return response

    @extend_schema(
        request=PlanEditInputSerializer,
        parameters=[IF_MATCH],
        responses={202: PlanChangeOutputSerializer},
        description='Change brief fields, pin an option (`{"pin": {"venue": 12}}`) or rule options out '
        '(`{"exclude": {"venue": [7]}}`). A new revision starts: only the agents whose inputs changed '
        "run again, the others' results are carried over (`change.reran`, `change.reused`). An edit of a "
        "running plan supersedes its revision. With `If-Match` (or `version`), a stale version answers 409 "
        "`stale_version` with `current_version`; a cancelled plan answers 409.",
    )
    def patch(self, request: Request, plan_id) -> Response:
        data, version = change_input(request, plan_id, PlanEditInputSerializer)
        pin, exclude = data.pop("pin", None), data.pop("exclude", None)
        with plan_conflicts():
            outcome = services.plan_edit(
                plan_id=plan_id, author=request.user, fields=data, pin=pin, exclude=exclude, expected_version=version
            )
        return change_response(request, plan_id, outcome)


class PlanCancelApi(APIView):
    """Cancel a plan that has not ended: queued agent tasks skip, running ones' results are not applied."""

    error_statuses = (409,)

    @extend_schema(
        request=PlanChangeInputSerializer,
        parameters=[IF_MATCH],
        responses={200: PlanDetailSerializer},
        description="409 `conflict` for a plan that has already ended; 409 `stale_version` for a stale version.",
    )
    def post(self, request: Request, plan_id) -> Response:
        _, version = change_input(request, plan_id, PlanChangeInputSerializer)
        with plan_conflicts():
            services.plan_cancel(plan_id=plan_id, expected_version=version)
        plan = selectors.plan_get(user=request.user, plan_id=plan_id)
        return Response(plan_detail_data(plan, internals=sees_internals(request)))


class PlanRetryApi(APIView):
    """Run a partial or failed plan's failed agents again, in a new revision that keeps every other result."""

    error_statuses = (409,)

    @extend_schema(
        request=PlanRetryInputSerializer,
        parameters=[IF_MATCH],
        responses={202: PlanChangeOutputSerializer},
        description="The dispatch waits until the agents' circuit breakers let calls through "
        "(`change.waits_until`). 409 for a plan that is not partial or failed, or has no failed agent.",
    )
    def post(self, request: Request, plan_id) -> Response:
        data, version = change_input(request, plan_id, PlanRetryInputSerializer)
        with plan_conflicts():
            outcome = services.plan_retry(
                plan_id=plan_id,
                agents=data.get("agents"),
                author=request.user,
                expected_version=version,
            )
        return change_response(request, plan_id, outcome)


class PlanRevisionListApi(APIView):
    """A plan's revisions, oldest first: what each changed, which agents it ran and which it reused."""

    @extend_schema(responses={200: PlanRevisionSerializer(many=True)})
    def get(self, request: Request, plan_id) -> Response:
        plan = readable_plan_or_404(request, plan_id)
        return Response(PlanRevisionSerializer(selectors.plan_revisions(plan=plan), many=True).data)


class PlanRevisionDetailApi(APIView):
    """One revision of a plan: its brief, pins, result and agent runs."""

    @extend_schema(responses={200: PlanRevisionDetailSerializer})
    def get(self, request: Request, plan_id, number: int) -> Response:
        plan = readable_plan_or_404(request, plan_id)
        try:
            revision = selectors.plan_revision_get(plan=plan, number=number)
        except PlanRevision.DoesNotExist:
            raise Http404 from None
        context = {"internals": sees_internals(request)}
        return Response(PlanRevisionDetailSerializer(revision, context=context).data)


def change_input(request: Request, plan_id, serializer_class) -> tuple[dict, int | None]:
    """A change's validated body (without `version`) and the version it is based on; 404 unless the caller
    owns the plan (support staff read plans but do not change them)."""
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    data = dict(serializer.validated_data)
    version = expected_version(request, data.pop("version", None))
    if not selectors.plan_list(user=request.user).filter(pk=plan_id).exists():
        raise Http404
    return data, version


def readable_plan_or_404(request: Request, plan_id) -> Plan:
    any_owner = IsSupport().has_permission(request, None)
    plans = Plan.objects.all() if any_owner else selectors.plan_list(user=request.user)
    plan = plans.only("id", "owner_id", "revision").filter(pk=plan_id).first()
    if plan is None:
        raise Http404
    return plan


def change_response(request: Request, plan_id, outcome) -> Response:
    plan = selectors.plan_get(user=request.user, plan_id=plan_id)
    plan.change = outcome
    data = PlanChangeOutputSerializer(plan, context={"internals": sees_internals(request)}).data
    return Response(data, status=status.HTTP_202_ACCEPTED)


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
    """The owner accepts or rejects a pick of a finished plan, and/or rates it 1-5 (409 before it is finished)."""

    error_statuses = (409,)

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
            raise Conflict(str(exc)) from None
        return Response(FeedbackSerializer(feedback).data, status=status.HTTP_201_CREATED)


@extend_schema_view(post=extend_schema(request=TokenObtainInputSerializer, responses={200: TokenPairSerializer}))
class TokenObtainApi(TokenObtainPairView):
    """Exchange a username and password for an access and a refresh token.

    Failed attempts are counted per account from any address (LOGIN_FAILURES_PER_ACCOUNT) as well as per
    address (API_THROTTLE_TOKEN); both answer 429 with Retry-After.
    """

    serializer_class = TokenObtainInputSerializer
    throttle_classes = (ScopedThrottle,)
    throttle_scope = "token"
    error_statuses = (401,)

    def post(self, request: Request, *args, **kwargs) -> Response:
        username = request.data.get("username") if isinstance(request.data, dict) else None
        wait = login_lockout_remaining(request=request, username=username)
        if wait:
            raise Throttled(wait=wait, detail=f"Too many failed logins for this account; try again in {wait} seconds.")
        serializer = self.get_serializer(data=request.data)
        try:
            serializer.is_valid(raise_exception=True)
        except TokenError as exc:
            raise InvalidToken(exc.args[0]) from exc
        api_services.audit_record(action=AuditAction.LOGIN, actor=serializer.user, request=request, target="api")
        return Response(serializer.validated_data)


@extend_schema_view(post=extend_schema(request=TokenRefreshInputSerializer, responses={200: TokenPairSerializer}))
class TokenRefreshApi(TokenRefreshView):
    """Exchange a refresh token for a new pair (the old refresh token is revoked)."""

    serializer_class = TokenRefreshInputSerializer
    throttle_classes = (ScopedThrottle,)
    throttle_scope = "token"
    error_statuses = (401,)


class LogoutApi(APIView):
    """Revoke a refresh token (log out); its access token expires on its own within minutes."""

    authentication_classes = ()
    permission_classes = (AllowAny,)
    throttle_classes = (ScopedThrottle,)
    throttle_scope = "token"
    error_statuses = (401,)

    def get_authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'

    @extend_schema(request=LogoutInputSerializer, responses={204: OpenApiResponse(description="Logged out.")})
    def post(self, request: Request) -> Response:
        serializer = LogoutInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        api_services.refresh_token_revoke(raw_token=serializer.validated_data["refresh"], request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class OperatorApi(APIView):
    """Base of the operator endpoints: the operator role, one of the domain agents."""

    permission_classes = (IsOperator,)

    def agent_or_404(self, agent: str) -> str:
        if agent not in agent_names():
            raise Http404
        return agent


class FaultListApi(OperatorApi):
    """Faults injected at each agent's provider, run-time ones over static ones."""

    @extend_schema(responses={200: {"type": "object", "additionalProperties": {"type": "object"}}})
    def get(self, request: Request) -> Response:
        return Response(faults_list())


class FaultDetailApi(OperatorApi):
    """Inject (PUT) or clear (DELETE) a fault at one agent's provider, on every worker at once."""

    @extend_schema(request=FaultSerializer, responses={200: FaultSerializer})
    def put(self, request: Request, agent: str) -> Response:
        serializer = FaultSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fault = api_services.operator_fault_set(
            actor=request.user, request=request, agent=self.agent_or_404(agent), **serializer.validated_data
        )
        return Response(fault)

    @extend_schema(responses={204: OpenApiResponse(description="Cleared.")})
    def delete(self, request: Request, agent: str) -> Response:
        api_services.operator_fault_clear(actor=request.user, request=request, agent=self.agent_or_404(agent))
        return Response(status=status.HTTP_204_NO_CONTENT)


class BreakerListApi(OperatorApi):
    """The circuit breaker of each agent's provider, as every worker sees it."""

    @extend_schema(responses={200: BreakerSerializer(many=True)})
    def get(self, request: Request) -> Response:
        return Response([api_services.breaker_state(agent=agent) for agent in agent_names()])


class BreakerResetApi(OperatorApi):
    """Close one agent's circuit breaker now."""

    @extend_schema(request=None, responses={200: BreakerSerializer})
    def post(self, request: Request, agent: str) -> Response:
        state = api_services.operator_breaker_reset(actor=request.user, request=request, agent=self.agent_or_404(agent))
        return Response(state)


class DeadLetterListApi(generics.ListAPIView):
    """Operators: tasks that ended for good without doing their work, newest first."""

    permission_classes = (IsOperator,)
    serializer_class = DeadLetterSerializer
    pagination_class = NewestFirstPagination

    def get_queryset(self):
        return selectors.dead_letters()


class DeadLetterReplayApi(OperatorApi):
    """Operators: replay one dead letter (once: a second call answers that it was replayed already); audited."""

    @extend_schema(request=None, responses={200: DeadLetterReplayOutputSerializer})
    def post(self, request: Request, dead_letter_id: int) -> Response:
        if not DeadLetter.objects.filter(pk=dead_letter_id).exists():
            raise Http404
        outcome = api_services.operator_dead_letter_replay(
            actor=request.user, request=request, dead_letter_id=dead_letter_id
        )
        return Response({"id": dead_letter_id, "outcome": outcome})
