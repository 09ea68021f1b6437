from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from . import views

app_name = "api"

urlpatterns = [
    path("health/", views.HealthApi.as_view(), name="health"),
    path("ready/", views.ReadinessApi.as_view(), name="ready"),
    path("auth/token/", views.TokenObtainApi.as_view(), name="token-obtain"),
    path("auth/token/refresh/", views.TokenRefreshApi.as_view(), name="token-refresh"),
    path("auth/logout/", views.LogoutApi.as_view(), name="logout"),
    path("limits/", views.LimitsApi.as_view(), name="limits"),
    path("plans/", views.PlanListCreateApi.as_view(), name="plan-list"),
    path("plans/<uuid:plan_id>/", views.PlanDetailApi.as_view(), name="plan-detail"),
    path("plans/<uuid:plan_id>/events/", views.PlanEventListApi.as_view(), name="plan-events"),
    path("plans/<uuid:plan_id>/cancel/", views.PlanCancelApi.as_view(), name="plan-cancel"),
    path("plans/<uuid:plan_id>/retry/", views.PlanRetryApi.as_view(), name="plan-retry"),
    path("plans/<uuid:plan_id>/revisions/", views.PlanRevisionListApi.as_view(), name="plan-revisions"),
    path(
        "plans/<uuid:plan_id>/revisions/<int:number>/",
        views.PlanRevisionDetailApi.as_view(),
        name="plan-revision-detail",
    ),
    path("plans/<uuid:plan_id>/feedback/", views.PlanFeedbackApi.as_view(), name="plan-feedback"),
    path("ops/faults/", views.FaultListApi.as_view(), name="fault-list"),
    path("ops/faults/<str:agent>/", views.FaultDetailApi.as_view(), name="fault-detail"),
    path("ops/breakers/", views.BreakerListApi.as_view(), name="breaker-list"),
    path("ops/breakers/<str:agent>/reset/", views.BreakerResetApi.as_view(), name="breaker-reset"),
    path("ops/dead-letters/", views.DeadLetterListApi.as_view(), name="dead-letter-list"),
    path(
        "ops/dead-letters/<int:dead_letter_id>/replay/", views.DeadLetterReplayApi.as_view(), name="dead-letter-replay"
    ),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
]
