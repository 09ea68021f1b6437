from django.apps import AppConfig


class AgentsConfig(AppConfig):
    name = "agents"
    verbose_name = "Agents"

    def ready(self) -> None:
        from partyproject.metrics import operations_collector_add
        from planning.signals import plan_ended

        from . import checks  # noqa: F401 - registers the system checks
        from .telemetry import OperationsCollector  # also connects the task signals that record attempts

        operations_collector_add(OperationsCollector())
        plan_ended.connect(_admit_after_end, dispatch_uid="agents.admit_after_end")


def _admit_after_end(sender, **kwargs) -> None:
    from .services import dispatch_admit_after_end

    dispatch_admit_after_end(**kwargs)
