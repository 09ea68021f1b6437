from django.apps import AppConfig


class AgentsConfig(AppConfig):
    name = "agents"
    verbose_name = "Agents"

    def ready(self) -> None:
        from partyproject.metrics import operations_collector_add

        from . import checks  # noqa: F401 - registers the system checks
        from .telemetry import OperationsCollector  # also connects the task signals that record attempts

        operations_collector_add(OperationsCollector())
