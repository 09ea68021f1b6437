"""The README's promise: `manage.py plan "…"` works alone on the embedded default (SQLite, private broker)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def test_plan_command_on_the_embedded_default(tmp_path):
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("REDIS_URL", "CACHE_URL", "DATABASE_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND")
    }
    env.update(
        DJANGO_SETTINGS_MODULE="partyproject.settings.dev",
        DATABASE_URL=f"sqlite:///{tmp_path / 'embedded.sqlite3'}",
        DJANGO_READ_DOT_ENV_FILE="false",
    )
    text = "Birthday party for 25 kids in Austin, superhero theme, budget $1200, one guest is gluten-free"
    completed = subprocess.run(
        [sys.executable, "manage.py", "plan", text, "--json"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr[-3000:]
    plan = json.loads(completed.stdout)
    assert plan["status"] == "complete"
    result = plan["result"]
    assert "gluten_free" in result["cake"]["dietary"]
    assert result["venue"]["city"] == "Austin"
    assert result["costs"]["within_budget"] is True
