from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from partyproject.metrics import metrics_view
from web.views import home

urlpatterns = [
    path("", home, name="home"),
    path("app/", include("web.urls")),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", include("api.admin_urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("api.urls")),
    path("metrics", metrics_view, name="metrics"),
]

handler400 = "api.exceptions.bad_request"
handler403 = "api.exceptions.permission_denied"
handler404 = "api.exceptions.not_found"
handler500 = "api.exceptions.server_error"
