"""The roles as Django groups: support (read any plan, see internals) and operator (operate, edit the catalog)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

CATALOG_MODELS = ("city", "venue", "theme", "bakery", "cake")
ROLES = {
    "support": [("api", "read_any_plan"), ("api", "see_internals"), ("planning", "view_plan"),
                ("planning", "view_agentrun"), ("planning", "view_planevent")],
    "operator": [("api", "operate"), ("api", "read_any_plan"), ("api", "see_internals")]
    + [("planning", f"{verb}_{model}") for model in CATALOG_MODELS for verb in ("add", "change", "delete", "view")],
}


def roles_create(apps, schema_editor):
    for label in ("api", "planning"):
        config = apps.get_app_config(label)
        config.models_module = True
        create_permissions(config, apps=apps, verbosity=0)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        for app_label, codename in codenames:
            group.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))


def roles_delete(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("api", "0001_keys_audit_roles"),
        ("planning", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(roles_create, roles_delete)]
