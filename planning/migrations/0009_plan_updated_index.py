from django.db import migrations, models

from planning.migration_operations import AddIndexOnline


class Migration(migrations.Migration):
    """The plans changed lately, for the event relay, indexed without blocking writes."""

    atomic = False

    dependencies = [("planning", "0008_plan_waiting_index")]

    operations = [AddIndexOnline(model_name="plan", index=models.Index(fields=["updated_at"], name="plan_updated"))]
