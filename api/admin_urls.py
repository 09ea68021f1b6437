"""The admin's login page, rate-limited; mounted before the admin site itself in the root URLconf."""

from django.contrib import admin
from django.urls import path

from .limits import admin_login_limited

urlpatterns = [path("login/", admin_login_limited(admin.site.login), name="admin-login")]
