"""Tests: real PostgreSQL and Redis on loopback, fast retries."""

import os

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/1")
os.environ.setdefault("CACHE_URL", "redis://127.0.0.1:6379/2")
os.environ.setdefault("DJANGO_READ_DOT_ENV_FILE", "false")

from .base import *  # noqa: F403
from .base import AGENT_DEFAULT_POLICY, AGENT_POLICY_OVERRIDES, env

DATABASES["default"]["TEST"] = {"NAME": os.environ.get("TEST_DATABASE_NAME", "test_partyplanner")}  # noqa: F405
SECRET_KEY = "test-secret-key-of-at-least-thirty-two-bytes-0123456789"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Retries without waiting (the backoff is capped at 0 s); the cake agent gets a short soft limit so
# that the time-limit test needs only a little injected latency. The environment still wins, so that the
# chaos suite can run its workers with production-shaped limits.
AGENT_DEFAULT_POLICY = {**AGENT_DEFAULT_POLICY, "retry_backoff_max": env.int("AGENT_RETRY_BACKOFF_MAX", default=0)}
AGENT_POLICY_OVERRIDES = {"cake": {"soft_time_limit": 2, "time_limit": 10}, **AGENT_POLICY_OVERRIDES}
REST_FRAMEWORK = {**REST_FRAMEWORK}  # noqa: F405
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {
    **REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
    "anon": "10000/min",
    "user": "10000/min",
    "plan_create": "10000/min",
    "token": "10000/min",
}
