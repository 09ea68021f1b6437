"""The roles as Django groups and the permissions each holds (see api/permissions.py)."""

from django.contrib.auth.management import create_permissions
from django.db.models import Q

CATALOG_MODELS = ("city", "venue", "theme", "bakery", "cake")
PLAN_MODELS = ("plan", "agentrun", "planevent")
INTERNALS = [("api", "read_any_plan"), ("api", "see_internals")] + [("planning", f"view_{m}") for m in PLAN_MODELS]
ROLES: dict[str, list[tuple[str, str]]] = {
    "support": INTERNALS,
    "operator": [
        ("api", "operate"),
        *INTERNALS,
        *[("planning", f"{verb}_{model}") for model in CATALOG_MODELS for verb in ("add", "change", "delete", "view")],
        ("planning", "view_deadletter"),
        ("planning", "change_deadletter"),
        ("planning", "view_plandispatch"),
    ],
}


def roles_sync(apps) -> None:
    """Create the role groups with exactly their permissions (idempotent; `apps` may be a migration's).

    Permissions of models a migration state does not have yet are skipped; the post-migrate run adds them.
    """
    for label in ("api", "planning"):
        config = apps.get_app_config(label)
        config.models_module = getattr(config, "models_module", None) or True
        create_permissions(config, apps=apps, verbosity=0)
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    for name, codenames in ROLES.items():
        group, _ = group_model.objects.get_or_create(name=name)
        wanted = Q()
        for app_label, codename in codenames:
            wanted |= Q(content_type__app_label=app_label, codename=codename)
        group.permissions.set(permission_model.objects.filter(wanted))
