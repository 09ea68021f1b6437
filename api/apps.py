from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "API"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import fields, serializers, signals  # noqa: F401  (schema extensions, signal receivers)

        post_migrate.connect(signals.roles_ensure, sender=self, dispatch_uid="api.roles_ensure")
