"""Audit and per-account counting for every login path (the token endpoint and the admin)."""

from django.apps import apps as global_apps
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver

from .limits import login_failure_record
from .models import AuditAction
from .roles import roles_sync
from .services import audit_record


@receiver(user_login_failed, dispatch_uid="api.login_failed")
def login_failed(sender, credentials: dict, request=None, **kwargs) -> None:
    username = credentials.get("username")
    if request is not None:
        login_failure_record(request=request, username=username)
    audit_record(
        action=AuditAction.LOGIN_FAILED,
        actor_name=username if isinstance(username, str) else "",
        request=request,
        target="admin" if request is not None and request.path.startswith("/admin/") else "api",
    )


def roles_ensure(sender, apps=None, **kwargs) -> None:
    """After every migrate and flush (which passes no `apps`), the role groups exist with their permissions."""
    roles_sync(apps or global_apps)


@receiver(user_logged_in, dispatch_uid="api.logged_in")
def logged_in(sender, request, user, **kwargs) -> None:
    audit_record(action=AuditAction.LOGIN, actor=user, request=request, target="admin")
