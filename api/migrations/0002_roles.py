"""The roles as Django groups: support (read any plan, see internals) and operator (operate, edit the catalog)."""

from django.db import migrations


def roles_create(apps, schema_editor):
    from api.roles import roles_sync

    roles_sync(apps)


def roles_delete(apps, schema_editor):
    from api.roles import ROLES

    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("api", "0001_keys_audit_roles"),
        ("planning", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(roles_create, roles_delete)]
