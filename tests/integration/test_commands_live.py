"""The `plan` and `demo` commands in-process, against the real worker, PostgreSQL and Redis."""

import json

import pytest
from django.core.management import call_command
from django.db import connection

from planning.models import Plan

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

JAZZ_PARTY = "30th birthday, 40 guests, Austin, jazz theme, $3,000, one vegan"


def test_plan_command_prints_the_finished_plan(catalog, worker, capsys):
    call_command("plan", JAZZ_PARTY, "--user", "cli-user")
    out = capsys.readouterr().out
    assert ": COMPLETE" in out and "Venue" in out and "within budget" in out
    call_command("plan", JAZZ_PARTY, "--user", "cli-user", "--json")
    plan = json.loads(capsys.readouterr().out)
    assert plan["status"] == "complete" and "vegan" in plan["result"]["cake"]["dietary"]
    assert Plan.objects.filter(owner__username="cli-user").count() == 2


def test_demo_command_once_plans_the_sample_party(catalog, worker, monkeypatch, capsys):
    database = connection.settings_dict
    monkeypatch.setenv(
        "DATABASE_URL", f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}"
    )
    call_command("demo", "--once")
    out = capsys.readouterr().out
    assert "Planning a sample party" in out and ": COMPLETE" in out
    assert Plan.objects.filter(owner__username="demo", status="complete").exists()
