from django.conf import settings
from django.db import migrations, models

from planning.migration_operations import AddIndexOnline


class Migration(migrations.Migration):
    """A user's plans waiting for admission, indexed without blocking writes (see the model's comment)."""

    atomic = False

    dependencies = [
        ("planning", "0007_plan_admission"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        AddIndexOnline(
            model_name="plan",
            index=models.Index(
                condition=models.Q(("admitted_at__isnull", True), ("status", "running")),
                fields=["owner", "created_at"],
                name="plan_waiting",
            ),
        ),
    ]
