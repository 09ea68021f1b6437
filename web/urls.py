from django.urls import path

from . import views

app_name = "web"

urlpatterns = [
    path("", views.plan_list_page, name="plan-list"),
    path("plans/<uuid:plan_id>/", views.plan_detail_page, name="plan-detail"),
    path("plans/<uuid:plan_id>/result/", views.plan_result_fragment, name="plan-result"),
]
