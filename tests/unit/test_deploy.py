"""The deployment files, checked as far as a machine without a Docker engine or a cluster allows:
every command they run exists, every variable they set is one the code reads (and .env.example
lists), every metric the dashboard and the alerts query is one the code exports. Schemas and rule
tests run in bin/check-deploy."""

import importlib
import json
import re
import shlex
from pathlib import Path

import pytest
import yaml
from django.core.management import get_commands
from django.urls import resolve
from prometheus_client.metrics import MetricWrapperBase

from agents import telemetry
from partyproject import metrics

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
DJANGO_SERVICES = {"migrate", "web", "worker", "beat", "relay", "flower"}
# Read by libraries, not by our settings: the OTLP exporter, prometheus-client, the pod's own name.
LIBRARY_VARIABLES = {"OTEL_EXPORTER_OTLP_ENDPOINT", "PROMETHEUS_MULTIPROC_DIR", "POD_NAME", "FLOWER_BASIC_AUTH"}
SOURCE_DIRS = ("partyproject", "agents", "api", "planning")


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def k8s_documents() -> list[dict]:
    return [
        document
        for path in sorted(K8S.glob("*.yaml"))
        if path.name != "kustomization.yaml"
        for document in yaml.safe_load_all(path.read_text())
    ]


def k8s_containers() -> list[dict]:
    return [
        container
        for document in k8s_documents()
        if document["kind"] in ("Deployment", "Job")
        for container in document["spec"]["template"]["spec"]["containers"]
    ]


def source_text() -> str:
    return "\n".join(path.read_text() for folder in SOURCE_DIRS for path in (ROOT / folder).rglob("*.py"))


def env_example_names() -> set[str]:
    return set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.MULTILINE))


# --- Compose ------------------------------------------------------------------------------------------


def test_compose_runs_the_whole_system_from_one_django_service_definition():
    services = compose()["services"]
    assert {"postgres", "redis", "prometheus", "grafana", "otel-collector", *DJANGO_SERVICES} <= set(services)
    assert {name for name, spec in services.items() if spec.get("image") == "partyplanner:latest"} == DJANGO_SERVICES
    for name in DJANGO_SERVICES:
        environment = services[name]["environment"]
        assert environment["DJANGO_SETTINGS_MODULE"] == "partyproject.settings.prod", name
        assert {"DATABASE_URL", "REDIS_URL", "DJANGO_SECRET_KEY", "METRICS_TOKEN"} <= set(environment), name
    text = (ROOT / "docker-compose.yml").read_text()
    assert len(re.findall(r"^\s+DJANGO_SECRET_KEY:", text, re.MULTILINE)) == 1, "one Django environment (an anchor)"


def test_compose_web_is_asgi_workers_restart_and_are_checked_beat_is_single_and_nothing_private_is_public():
    services = compose()["services"]
    assert services["web"]["command"][:3] == ["gunicorn", "-c", "partyproject/gunicorn.py"]
    worker = services["worker"]
    assert worker["restart"] == "unless-stopped"
    assert worker["healthcheck"]["test"][1:4] == ["python", "-m", "partyproject.liveness"]
    assert worker["healthcheck"]["test"][4] == worker["environment"]["WORKER_LIVENESS_FILE"]
    assert "ports" not in worker and worker["expose"] == ["9808"], "worker metrics stay on the internal network"
    assert "deploy" not in services["beat"] and "scale" not in services["beat"]
    assert any(arg.startswith("--basic-auth=") for arg in services["flower"]["command"])
    for name, spec in services.items():
        for port in spec.get("ports", []):
            assert name == "proxy" or port.startswith("127.0.0.1:"), f"{name} publishes {port} beyond loopback"
    for name, spec in services.items():
        for dependency in spec.get("depends_on", {}):
            assert dependency in services, f"{name} depends on unknown {dependency}"


def test_compose_mounts_files_that_exist():
    for spec in compose()["services"].values():
        for volume in spec.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (ROOT / source).exists(), source


# --- Commands -----------------------------------------------------------------------------------------


def every_command() -> list[str]:
    compose_commands = [spec["command"] for spec in compose()["services"].values() if "command" in spec]
    k8s_commands = [container["command"] for container in k8s_containers()]
    commands = []
    for command in compose_commands + k8s_commands:
        if command[:2] == ["sh", "-c"]:
            commands.extend(part.strip() for part in re.split(r"&&|\|\|", command[2]))
        else:
            commands.append(shlex.join(command))
    return commands


def test_every_command_the_deployment_runs_exists():
    available = set(get_commands())
    commands = every_command()
    for manage_command in re.findall(r"manage\.py (\w+)", " ".join(commands)):
        assert manage_command in available, manage_command
    celery = {command.split()[3] for command in commands if command.startswith("celery -A partyproject")}
    assert celery == {"beat", "flower", "worker"}
    gunicorn = [command for command in commands if command.startswith("gunicorn")]
    for command in gunicorn:
        _, _, config, application = command.split()
        assert (ROOT / config).exists()
        module, attribute = application.split(":")
        assert callable(getattr(importlib.import_module(module), attribute))
    config = {}
    exec((ROOT / "partyproject" / "gunicorn.py").read_text(), config)
    module, _, name = config["worker_class"].rpartition(".")
    assert getattr(importlib.import_module(module), name)


def test_the_dockerfile_is_multi_stage_non_root_with_a_healthcheck_and_runs_the_asgi_web():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert len(re.findall(r"^FROM ", dockerfile, re.MULTILINE)) == 2
    assert "USER app" in dockerfile and "HEALTHCHECK" in dockerfile
    assert resolve("/api/v1/health/").url_name == "health"
    command = json.loads(re.search(r"^CMD (.+)$", dockerfile, re.MULTILINE).group(1))
    assert command == compose()["services"]["web"]["command"]


def test_the_beat_schedule_names_a_registered_task():
    from django.conf import settings

    from partyproject.celery import app

    app.loader.import_default_modules()
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["task"] in app.tasks


# --- Environment --------------------------------------------------------------------------------------


def deployment_variables() -> set[str]:
    services = compose()["services"]
    names = {name for service in DJANGO_SERVICES for name in services[service]["environment"]}
    for document in k8s_documents():
        if document["kind"] == "ConfigMap" and document["metadata"]["name"] == "partyplanner-config":
            names |= set(document["data"])
    for container in k8s_containers():
        names |= {variable["name"] for variable in container.get("env", [])}
    names |= set(re.findall(r"--from-literal=([A-Z_]+)=", (K8S / "kustomization.yaml").read_text()))
    return names


def test_every_variable_the_deployment_sets_is_read_by_the_code_and_listed_in_env_example():
    from agents.registry import agent_names

    code, listed = source_text(), env_example_names()
    for name in sorted(deployment_variables() - LIBRARY_VARIABLES):
        policy = re.fullmatch(r"AGENT_(\w+)_POLICY", name)
        if policy:  # read for every agent by the pattern AGENT_<NAME>_POLICY
            assert policy.group(1).lower() in agent_names() and 'r"AGENT_([A-Z][A-Z0-9_]*)_POLICY"' in code
            continue
        assert f'"{name}"' in code, f"{name} is set by the deployment but read nowhere"
        assert name in listed, f"{name} is missing from .env.example"


def test_every_variable_the_settings_read_is_listed_in_env_example():
    settings_source = "\n".join(path.read_text() for path in (ROOT / "partyproject" / "settings").glob("*.py"))
    read = set(re.findall(r'env(?:\.\w+)?\(\s*f?"([A-Z][A-Z0-9_]+)"', settings_source))
    gunicorn = (ROOT / "partyproject" / "gunicorn.py").read_text()
    read |= set(re.findall(r'os\.environ(?:\.get)?\(\s*"([A-Z][A-Z0-9_]+)"', gunicorn))
    missing = read - env_example_names() - {"TEST_DATABASE_NAME"}
    assert not missing, f"not in .env.example: {sorted(missing)}"


# --- Kubernetes ---------------------------------------------------------------------------------------


def by_kind(kind: str) -> dict[str, dict]:
    return {document["metadata"]["name"]: document for document in k8s_documents() if document["kind"] == kind}


def test_kustomization_lists_every_manifest():
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    manifests = sorted(path.name for path in K8S.glob("*.yaml") if path.name != "kustomization.yaml")
    assert sorted(kustomization["resources"]) == manifests


def test_k8s_probes_resources_disruption_budgets_single_beat_and_worker_autoscaling_on_queue_depth():
    deployments = by_kind("Deployment")
    for name, deployment in deployments.items():
        for container in deployment["spec"]["template"]["spec"]["containers"]:
            assert container["resources"]["requests"], name
    web = deployments["partyplanner-web"]["spec"]["template"]["spec"]["containers"][0]
    assert resolve(web["livenessProbe"]["httpGet"]["path"]).url_name == "health"
    assert resolve(web["readinessProbe"]["httpGet"]["path"]).url_name == "ready"
    assert "livenessProbe" in deployments["partyplanner-worker"]["spec"]["template"]["spec"]["containers"][0]
    beat = deployments["partyplanner-beat"]["spec"]
    assert beat["replicas"] == 1 and beat["strategy"]["type"] == "Recreate"
    assert {"partyplanner-web", "partyplanner-worker"} <= set(by_kind("PodDisruptionBudget"))
    worker_hpa = by_kind("HorizontalPodAutoscaler")["partyplanner-worker"]["spec"]["metrics"][0]
    assert worker_hpa["type"] == "External"
    assert worker_hpa["external"]["metric"]["name"] in exported_metric_names()


# --- Dashboards and alerts ----------------------------------------------------------------------------


def exported_metric_names() -> set[str]:
    """Every sample name the code exports: recorded metrics (with their suffixes) and scrape-time gauges."""
    names = set()
    for metric in vars(metrics).values():
        if isinstance(metric, MetricWrapperBase):
            suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum")}[metric._type]
            names |= {metric._name + suffix for suffix in suffixes}
    for module in (metrics, telemetry):
        names |= set(re.findall(r'GaugeMetricFamily\(\s*"(\w+)"', Path(module.__file__).read_text()))
    return names


def rules() -> dict:
    return yaml.safe_load((ROOT / "deploy/prometheus/rules/partyplanner.yml").read_text())


def queried_names(expression: str) -> set[str]:
    expression = re.sub(r'"[^"]*"', "", expression)
    return set(re.findall(r"\b(partyplanner_\w+|partyplanner:[\w:]+)", expression))


def test_every_metric_the_alerts_and_the_dashboard_query_is_exported_or_recorded():
    recorded = {rule["record"] for group in rules()["groups"] for rule in group["rules"] if "record" in rule}
    known = exported_metric_names() | recorded
    expressions = [rule["expr"] for group in rules()["groups"] for rule in group["rules"]]
    dashboard = json.loads((ROOT / "deploy/grafana/dashboards/partyplanner.json").read_text())
    expressions += [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    used = set().union(*(queried_names(expression) for expression in expressions))
    assert used and used <= known, sorted(used - known)


@pytest.mark.parametrize("alert", [rule for group in rules()["groups"] for rule in group["rules"] if "alert" in rule])
def test_every_alert_names_a_runbook_that_exists(alert):
    assert (ROOT / alert["annotations"]["runbook"]).exists(), alert["alert"]


def test_prometheus_scrapes_the_jobs_the_alerts_name():
    config = yaml.safe_load((ROOT / "deploy/prometheus/prometheus.yml").read_text())
    jobs = {job["job_name"] for job in config["scrape_configs"]}
    named = set(re.findall(r'job="([\w-]+)"', (ROOT / "deploy/prometheus/rules/partyplanner.yml").read_text()))
    assert named <= jobs


def test_only_the_tls_proxy_publishes_ports():
    services = compose()["services"]
    public = {name for name, spec in services.items() for port in spec.get("ports", []) if not port.startswith("127.")}
    assert public == {"proxy"}, "only the TLS proxy is reachable from outside the host"
    assert services["proxy"]["image"].startswith("caddy")
    assert "./deploy/Caddyfile:/etc/caddy/Caddyfile:ro" in services["proxy"]["volumes"]
    environment = services["web"]["environment"]
    assert environment["TRUSTED_PROXY_COUNT"] == "1" and environment["DJANGO_BEHIND_TLS_PROXY"] == "true"


def test_the_proxy_serves_the_app_and_flower_but_not_flowers_metrics():
    caddyfile = (ROOT / "deploy" / "Caddyfile").read_text()
    assert "reverse_proxy web:8000" in caddyfile and "reverse_proxy flower:5555" in caddyfile
    assert re.search(r"@metrics path /metrics /metrics/\* /flower/metrics", caddyfile)
    assert "respond @metrics 404" in caddyfile
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
