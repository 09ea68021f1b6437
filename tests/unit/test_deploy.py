"""The deployment files, checked as far as a machine without a Docker engine allows."""

import importlib
import re
from pathlib import Path

import yaml
from django.core.management import get_commands

ROOT = Path(__file__).resolve().parents[2]


def compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_runs_every_part_from_one_django_service():
    services = compose()["services"]
    assert {"postgres", "redis", "migrate", "web", "worker", "beat", "relay", "flower"} <= set(services)
    django_services = [name for name, spec in services.items() if spec.get("image") == "partyplanner:latest"]
    assert set(django_services) == {"migrate", "web", "worker", "beat", "relay", "flower"}
    environment = services["web"]["environment"]
    assert environment["DJANGO_SETTINGS_MODULE"] == "partyproject.settings.prod"
    assert {"DATABASE_URL", "REDIS_URL", "DJANGO_SECRET_KEY"} <= set(environment)


def test_every_command_the_deployment_runs_exists():
    available = set(get_commands())
    commands = [" ".join(spec["command"]) for spec in compose()["services"].values() if "command" in spec]
    for manage_command in re.findall(r"manage\.py (\w+)", " ".join(commands)):
        assert manage_command in available, manage_command
    celery = [command.split()[3] for command in commands if command.startswith("celery -A partyproject")]
    assert sorted(celery) == ["beat", "flower", "worker"]
    dockerfile = (ROOT / "Dockerfile").read_text()
    module, attribute = re.search(r'"gunicorn", "([\w.]+):(\w+)"', dockerfile).groups()
    assert callable(getattr(importlib.import_module(module), attribute))
    assert "USER app" in dockerfile and "HEALTHCHECK" in dockerfile


def test_the_beat_schedule_names_a_registered_task():
    from django.conf import settings

    from partyproject.celery import app

    app.loader.import_default_modules()
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["task"] in app.tasks


def test_long_running_services_are_restarted_and_the_worker_has_a_liveness_probe():
    from agents.base import agent_policy

    services = compose()["services"]
    for name in ("web", "worker", "beat", "flower"):
        assert services[name]["restart"] == "unless-stopped", name
    probe = services["worker"]["healthcheck"]["test"]
    assert probe[1:4] == ["python", "-m", "partyproject.liveness"]
    assert importlib.import_module("partyproject.liveness").main
    grace = int(services["worker"]["stop_grace_period"].rstrip("s"))
    assert grace > agent_policy("venue")["time_limit"], "a warm shutdown may take the agents' hard time limit"
