"""Audit and per-account counting for every login path (the token endpoint and the admin); access tokens
revoked when what their user may do changes; the client address on each request's log line."""

import structlog
from django.apps import apps as global_apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver
from django_structlog.signals import bind_extra_request_metadata

from .authentication import tokens_revoke
from .ip import client_ip
from .limits import login_failure_record
from .models import AuditAction
from .roles import roles_sync
from .services import audit_record


@receiver(bind_extra_request_metadata, dispatch_uid="api.request_address")
def request_address_bind(sender, request=None, **kwargs) -> None:
    """Before a request's log line: bind the client's address as the throttles see it (django-structlog's
    own, from ipware, is off: it trusts X-Forwarded-For from anyone)."""
    structlog.contextvars.bind_contextvars(ip=client_ip(request))


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


# Access tokens carry the user's role permissions and are checked without a user query (api/authentication.py):
# a change to what the user may do refuses the tokens already issued (docs/security.md).
TOKEN_FIELDS = frozenset({"password", "is_active", "is_staff", "is_superuser", "username"})


@receiver(post_save, sender=get_user_model(), dispatch_uid="api.user_saved")
def user_saved(sender, instance, created: bool, update_fields=None, **kwargs) -> None:
    if not created and (update_fields is None or TOKEN_FIELDS & set(update_fields)):
        tokens_revoke(user_id=instance.pk)


@receiver(post_delete, sender=get_user_model(), dispatch_uid="api.user_deleted")
def user_deleted(sender, instance, **kwargs) -> None:
    tokens_revoke(user_id=instance.pk)


@receiver(m2m_changed, sender=get_user_model().groups.through, dispatch_uid="api.user_groups_changed")
@receiver(m2m_changed, sender=get_user_model().user_permissions.through, dispatch_uid="api.user_perms_changed")
def user_roles_changed(sender, instance, action: str, reverse: bool, pk_set=None, **kwargs) -> None:
    if action not in ("post_add", "post_remove", "pre_clear"):
        return
    if not reverse:
        user_ids = [instance.pk]
    elif action == "pre_clear":
        user_ids = list(instance.user_set.values_list("pk", flat=True))
    else:
        user_ids = list(pk_set or ())
    for user_id in user_ids:
        tokens_revoke(user_id=user_id)


@receiver(m2m_changed, sender=Group.permissions.through, dispatch_uid="api.group_perms_changed")
def group_permissions_changed(sender, instance, action: str, reverse: bool, **kwargs) -> None:
    if action in ("post_add", "post_remove", "pre_clear") and not reverse:
        for user_id in instance.user_set.values_list("pk", flat=True):
            tokens_revoke(user_id=user_id)
