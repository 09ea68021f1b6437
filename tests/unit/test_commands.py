"""Management commands, the embedded launcher, production settings and admin pages."""

import importlib
import json
import secrets
import subprocess
import sys

import pytest
import redis
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.test import Client

from agents import services as orchestration
from agents.faults import faults_list
from partyproject.embedded import EmbeddedServices, free_port, wait_until
from planning.models import City, Venue
from tests.conftest import user_create

KIDS_PARTY = "Birthday party for 25 kids in Austin, superhero theme, budget $1200, one guest is gluten-free"


def test_faults_command_sets_lists_and_clears(db, capsys):
    call_command("faults", "set", "venue", "--error-rate", "0.25", "--latency-ms", "5")
    call_command("faults", "list")
    assert json.loads(capsys.readouterr().out.split("\n", 1)[1])["venue"]["error_rate"] == 0.25
    with pytest.raises(CommandError):
        call_command("faults", "set", "venue", "--error-rate", "3")
    call_command("faults", "clear", "venue")
    assert "venue" not in faults_list()


def test_seed_catalog_from_a_file_updates_in_place(db, tmp_path, capsys):
    data = {
        "version": 1,
        "cities": [{"slug": "tinytown", "name": "Tinytown", "state": "TX", "aliases": [], "cost_index": 0.9}],
        "venues": [
            {
                "name": "Town Hall", "city": "tinytown", "capacity": 50, "min_guests": 5, "base_price": 300,
                "price_per_guest": 5, "setting": "indoor", "amenities": ["parking"], "party_types": ["general"],
                "rating": 4.1, "description": "",
            }
        ],
        "themes": [],
        "bakeries": [{"name": "Crumb", "city": "tinytown", "rating": 4.0}],
        "cakes": [
            {
                "bakery": "Crumb", "city": "tinytown", "name": "Plain", "flavor": "vanilla", "price_per_serving": 3,
                "dietary": [], "min_servings": 5, "max_servings": 60, "lead_time_days": 2, "style_tags": [],
                "description": "",
            }
        ],
    }  # fmt: skip
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(data))
    call_command("seed_catalog", "--file", str(path))
    assert "1 cities, 1 venues, 0 themes, 1 bakeries, 1 cakes" in capsys.readouterr().out
    data["venues"][0]["capacity"] = 70
    path.write_text(json.dumps(data))
    call_command("seed_catalog", "--file", str(path), verbosity=0)
    assert Venue.objects.get().capacity == 70 and City.objects.count() == 1


def test_embedded_broker_starts_answers_and_stops():
    with EmbeddedServices() as embedded:
        url = embedded.start_broker()
        client = redis.Redis.from_url(url)
        assert client.ping() and client.info("server")["redis_version"]
        process = embedded.processes[0]
    assert process.poll() is not None, "the broker stops with its owner"


def test_the_visibility_timeout_must_cover_the_longest_task(settings):
    from agents.checks import visibility_timeout_covers_tasks

    assert visibility_timeout_covers_tasks(None) == []
    settings.CELERY_VISIBILITY_TIMEOUT = 10
    (error,) = visibility_timeout_covers_tasks(None)
    assert error.id == "agents.E001" and "10s" in error.msg


def test_wait_until_names_what_it_waited_for():
    with pytest.raises(TimeoutError, match="the moon"):
        wait_until(lambda: False, timeout=0.2, what="the moon", interval=0.05)
    assert 0 < free_port() < 65536


def test_production_settings_refuse_a_missing_or_default_secret(monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOWED_HOSTS", "plans.example.com")
    monkeypatch.delenv("DJANGO_SECRET_KEY", raising=False)
    sys.modules.pop("partyproject.settings.prod", None)
    with pytest.raises(ImproperlyConfigured, match="DJANGO_SECRET_KEY"):
        importlib.import_module("partyproject.settings.prod")
    monkeypatch.setenv("DJANGO_SECRET_KEY", "p" * 50)
    monkeypatch.setenv("REDIS_URL", "")
    sys.modules.pop("partyproject.settings.prod", None)
    with pytest.raises(ImproperlyConfigured, match="REDIS_URL must be set"):
        importlib.import_module("partyproject.settings.prod")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/1")
    sys.modules.pop("partyproject.settings.prod", None)
    prod = importlib.import_module("partyproject.settings.prod")
    assert prod.DEBUG is False and prod.SESSION_COOKIE_SECURE and prod.ALLOWED_HOSTS == ["plans.example.com"]
    sys.modules.pop("partyproject.settings.prod", None)


def test_production_settings_pass_the_deploy_checks():
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "partyproject.settings.prod",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "plans.example.com",
        "DATABASE_URL": "sqlite:////tmp/partyplanner-deploy-check.sqlite3",
        "REDIS_URL": "redis://127.0.0.1:6379/1",
    }
    completed = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stdout + completed.stderr


@pytest.mark.django_db
def test_admin_pages_show_plans_with_their_runs_and_events(catalog):
    staff = user_create("operator", is_staff=True, is_superuser=True)
    plan = orchestration.plan_create(owner=staff, text=KIDS_PARTY)
    client = Client()
    client.force_login(staff)
    for page in ("plan", "agentrun", "planevent", "city", "venue", "theme", "bakery", "cake"):
        response = client.get(f"/admin/planning/{page}/")
        assert response.status_code == 200, page
    detail = client.get(f"/admin/planning/plan/{plan.id}/change/").content.decode()
    assert "plan.received" in detail and "budget" in detail
    assert client.get("/admin/planning/plan/?status=running&q=superhero").status_code == 200
    assert client.get("/admin/planning/plan/add/").status_code == 403


def test_port_in_use_tells_a_listening_port_from_a_free_one():
    import socket

    from partyproject.embedded import port_in_use

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        assert port_in_use(listener.getsockname()[1])
    assert not port_in_use(free_port())


def test_broker_backlog_counts_waiting_messages():
    from kombu import Exchange, Queue

    from partyproject.celery import app
    from planning.selectors import broker_backlog

    name = f"partyplanner-backlog-{secrets.token_hex(4)}"
    assert broker_backlog(name) == 0
    queue = Queue(name, Exchange(name), routing_key=name)
    with app.connection_for_write() as connection:
        producer = connection.Producer()
        for number in range(3):
            producer.publish({"n": number}, exchange=queue.exchange, routing_key=name, declare=[queue])
        try:
            assert broker_backlog(name) == 3
        finally:
            queue(connection.default_channel).delete()
