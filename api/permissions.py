"""Roles as DRF permission classes, backed by Django groups and permissions (see the api migrations).

- owner: any authenticated user; sees and creates their own plans.
- support (group "support"): reads any plan and sees internals such as raw agent errors.
- operator (group "operator"): dead-letter replay, breaker and fault controls, catalog edits.

API keys act as their user but only within their scopes ("read" for safe methods, "create" for
the rest), and never carry a role: roles are for people.
"""

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from .models import ApiKey, ApiKeyScope

SUPPORT_GROUP = "support"
OPERATOR_GROUP = "operator"
READ_ANY_PLAN = "api.read_any_plan"
SEE_INTERNALS = "api.see_internals"
OPERATE = "api.operate"


def is_api_key(request: Request) -> bool:
    return isinstance(request.auth, ApiKey)


def user_has_role_permission(request: Request, permission: str) -> bool:
    """Whether the person behind the request (not a key) holds `permission`."""
    user = request.user
    return bool(user and user.is_authenticated and not is_api_key(request) and user.has_perm(permission))


class IsAuthenticatedWithinScope(BasePermission):
    """Authenticated; a request made with an API key stays within the key's scopes."""

    message = "This API key's scopes do not allow this request."

    def has_permission(self, request: Request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        if not is_api_key(request):
            return True
        needed = ApiKeyScope.READ if request.method in SAFE_METHODS else ApiKeyScope.CREATE
        return needed in request.auth.scopes


class RolePermission(BasePermission):
    """Grants the request when its user holds `permission`."""

    permission = ""
    message = "Your role does not allow this request."

    def has_permission(self, request: Request, view) -> bool:
        return user_has_role_permission(request, self.permission)


class IsSupport(RolePermission):
    """May read any plan and see internals."""

    permission = READ_ANY_PLAN


class IsOperator(RolePermission):
    """May replay dead letters, control breakers and faults, and edit the catalog."""

    permission = OPERATE


def sees_internals(request: Request) -> bool:
    """Whether raw agent errors and other internals may be shown to this request."""
    return user_has_role_permission(request, SEE_INTERNALS)
