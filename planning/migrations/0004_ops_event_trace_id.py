from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("planning", "0003_selection_arms")]

    operations = [
        migrations.AddField(
            model_name="planevent",
            name="trace_id",
            field=models.CharField(
                blank=True, help_text="OpenTelemetry trace of the change, if traced.", max_length=32
            ),
        ),
    ]
