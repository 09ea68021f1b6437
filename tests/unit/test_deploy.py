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
    assert {"postgres", "redis", "migrate", "web", "worker", "beat", "flower"} <= set(services)
    django_services = [name for name, spec in services.items() if spec.get("image") == "partyplanner:latest"]
    assert set(django_services) == {"migrate", "web", "worker", "beat", "flower"}
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


def test_only_the_tls_proxy_publishes_ports():
    services = compose()["services"]
    assert {name for name, spec in services.items() if spec.get("ports")} == {"proxy"}
    assert services["proxy"]["image"].startswith("caddy")
    assert "./deploy/Caddyfile:/etc/caddy/Caddyfile:ro" in services["proxy"]["volumes"]
    environment = services["web"]["environment"]
    assert environment["TRUSTED_PROXY_COUNT"] == "1" and environment["DJANGO_BEHIND_TLS_PROXY"] == "true"


def test_the_proxy_serves_the_app_and_flower_but_not_flowers_metrics():
    caddyfile = (ROOT / "deploy" / "Caddyfile").read_text()
    assert "reverse_proxy web:8000" in caddyfile and "reverse_proxy flower:5555" in caddyfile
    assert re.search(r"@flower_metrics path /flower/metrics", caddyfile)
    assert "respond @flower_metrics 404" in caddyfile
    flower = " ".join(compose()["services"]["flower"]["command"])
    assert "--url_prefix=flower" in flower and "--basic-auth=" in flower


def prod_setting(name: str, **env: str) -> str:
    import os
    import subprocess
    import sys

    base = {
        "DJANGO_SETTINGS_MODULE": "partyproject.settings.prod",
        "DJANGO_SECRET_KEY": "a-production-secret-key-of-more-than-32-characters",
        "DJANGO_ALLOWED_HOSTS": "example.org",
        "DATABASE_URL": "postgres://u@db:5432/p",
        "REDIS_URL": "redis://redis:6379/0",
        "DJANGO_READ_DOT_ENV_FILE": "false",
    }
    code = f"import django; django.setup(); from django.conf import settings; print(getattr(settings, {name!r}, None))"
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, **base, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


def test_forwarded_proto_is_trusted_only_behind_the_documented_proxy():
    assert prod_setting("SECURE_PROXY_SSL_HEADER") == "None"
    assert prod_setting("SECURE_PROXY_SSL_HEADER", DJANGO_BEHIND_TLS_PROXY="true") == str(
        ("HTTP_X_FORWARDED_PROTO", "https")
    )


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
