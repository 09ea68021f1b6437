from django.contrib import admin
from django.urls import include, path

from api.limits import admin_login_limited

urlpatterns = [
    path("admin/login/", admin_login_limited(admin.site.login), name="admin-login"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("api.urls")),
]

handler400 = "api.exceptions.bad_request"
handler403 = "api.exceptions.permission_denied"
handler404 = "api.exceptions.not_found"
handler500 = "api.exceptions.server_error"
