"""Settings shared by every environment, all read from the environment.

Overlays (`dev`, `test`, `prod`) import everything from here and change only a few values.
Every variable is listed in `.env.example`.
"""

import logging
import os
import re
from datetime import timedelta
from pathlib import Path

import environ
from kombu import Exchange, Queue

from partyproject.logs import logging_config
from partyproject.redis_client import sentinel_addresses

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
if env.bool("DJANGO_READ_DOT_ENV_FILE", default=True) and (BASE_DIR / ".env").exists():
    env.read_env(str(BASE_DIR / ".env"))

# --- Core ---------------------------------------------------------------------------------------
SECRET_KEY = env("DJANGO_SECRET_KEY", default="insecure-dev-key-change-me-0123456789abcdefghijklmnop")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
ROOT_URLCONF = "partyproject.urls"
WSGI_APPLICATION = "partyproject.wsgi.application"
ASGI_APPLICATION = "partyproject.asgi.application"
ASGI_STREAM_ROUTING = "events.routing"  # the module with `sse_urlpatterns` and `websocket_application()`
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = env("DJANGO_STATIC_ROOT", default=str(VAR_DIR / "static"))
Path(STATIC_ROOT).mkdir(parents=True, exist_ok=True)  # WhiteNoise also serves what collectstatic put there
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "web:plan-list"
LOGOUT_REDIRECT_URL = "login"
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DJANGO_MAX_BODY_BYTES", default=64 * 1024)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# The Swagger UI comes from the installed package (drf-spectacular-sidecar) and is served by WhiteNoise.
WHITENOISE_USE_FINDERS = env.bool("DJANGO_STATIC_USE_FINDERS", default=True)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "corsheaders",
    "csp",
    "django_ratelimit",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "rest_framework_api_key",
    "drf_spectacular",
    "django_structlog",
    "drf_spectacular_sidecar",
    "channels",
    "planning",
    "events",
    "web",
    "agents",
    "api",
]

MIDDLEWARE = [
    "partyproject.metrics.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "api.middleware.ApiEdgeMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_structlog.middlewares.RequestMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------------------
# PostgreSQL in production (DATABASE_URL=postgres://…); SQLite is the embedded default.
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'partyplanner.sqlite3'}")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # A web process and prefork workers write at once: take the write lock at BEGIN and use WAL,
    # so that writers queue instead of failing with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL;",
        "timeout": 10,
    }
else:
    # Every wait on PostgreSQL is bounded (docs/reliability.md): a dead network cannot hold a connection
    # attempt, a statement, a row lock or an open transaction for longer than these. The idle-in-transaction
    # timeout is what frees the row locks of a session whose client vanished mid-transaction (a half-open
    # connection); keepalives and the TCP user timeout let the client notice a dead peer.
    DATABASES["default"]["OPTIONS"] = {
        "connect_timeout": env.int("DATABASE_CONNECT_TIMEOUT", default=5),
        "keepalives": 1,
        "keepalives_idle": env.int("DATABASE_KEEPALIVES_IDLE", default=10),
        "keepalives_interval": 5,
        "keepalives_count": 3,
        "tcp_user_timeout": env.int("DATABASE_TCP_USER_TIMEOUT_MS", default=20_000),
        "options": " ".join(
            f"-c {name}={env.int(variable, default=default)}"
            for name, variable, default in (
                ("statement_timeout", "DATABASE_STATEMENT_TIMEOUT_MS", 10_000),
                ("lock_timeout", "DATABASE_LOCK_TIMEOUT_MS", 5_000),
                ("idle_in_transaction_session_timeout", "DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS", 15_000),
            )
        ),
    }

# --- Redis: broker, result backend, cache, circuit breakers ---------------------------------------
# Unset means "embedded": `manage.py plan` and `manage.py demo` start a private Redis-protocol server
# and point everything at it (see partyproject/embedded.py).
REDIS_URL = env("REDIS_URL", default="")

# Any Redis URL here may name Sentinels instead (sentinel://host1:26379;sentinel://host2:26379/db) with
# the master's name in REDIS_SENTINEL_MASTER: clients then follow a failover (partyproject/redis_client.py).
REDIS_SENTINEL_MASTER = env("REDIS_SENTINEL_MASTER", default="mymaster")
_cache_url = env("CACHE_URL", default=REDIS_URL or "redis://127.0.0.1:6379/0")
CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": _cache_url,
        "OPTIONS": {"CLIENT_CLASS": "django_redis.client.DefaultClient", "IGNORE_EXCEPTIONS": False},
        "KEY_PREFIX": "partyplanner",
    }
}
if _cache_url.startswith("sentinel://"):
    _sentinels, _cache_db = sentinel_addresses(_cache_url)
    DJANGO_REDIS_CONNECTION_FACTORY = "django_redis.pool.SentinelConnectionFactory"
    CACHES["default"]["LOCATION"] = f"redis://{REDIS_SENTINEL_MASTER}/{_cache_db}"
    CACHES["default"]["OPTIONS"] = {
        **CACHES["default"]["OPTIONS"],
        "CLIENT_CLASS": "django_redis.client.SentinelClient",
        "SENTINELS": _sentinels,
    }

# --- Live events and the outbound event bus (docs/events.md) -------------------------------------------
# Wake-ups ("plan X has new events") are Redis pub/sub messages, one PUBLISH per commit; subscribers then
# read the event log. A `sentinel://` URL works as for REDIS_URL; empty: no wake-ups, the streams only poll.
EVENTS_WAKE_URL = env("EVENTS_WAKE_URL", default=REDIS_URL)
EVENTS_PAGE_SIZE = env.int("EVENTS_PAGE_SIZE", default=200)
EVENTS_HEARTBEAT_SECONDS = env.float("EVENTS_HEARTBEAT_SECONDS", default=15)
EVENTS_POLL_SECONDS = env.float("EVENTS_POLL_SECONDS", default=5)
EVENTS_SEND_TIMEOUT_SECONDS = env.float("EVENTS_SEND_TIMEOUT_SECONDS", default=10)
# The outbound stream for other systems: "redis" (Redis Streams), "kafka", or "none".
EVENT_BUS = env("EVENT_BUS", default="redis")
EVENT_BUS_REDIS_URL = env("EVENT_BUS_REDIS_URL", default=REDIS_URL)
EVENT_BUS_STREAM_PREFIX = env("EVENT_BUS_STREAM_PREFIX", default="partyplanner:events")
EVENT_BUS_PARTITIONS = env.int("EVENT_BUS_PARTITIONS", default=8)
EVENT_BUS_MAXLEN = env.int("EVENT_BUS_MAXLEN", default=1_000_000)
EVENT_BUS_MAX_AGE_SECONDS = env.int("EVENT_BUS_MAX_AGE_SECONDS", default=7 * 24 * 3600)
EVENT_BUS_CLAIM_IDLE_SECONDS = env.float("EVENT_BUS_CLAIM_IDLE_SECONDS", default=60)
EVENT_BUS_KAFKA_BOOTSTRAP = env("EVENT_BUS_KAFKA_BOOTSTRAP", default="127.0.0.1:9092")
EVENT_BUS_KAFKA_TOPIC = env("EVENT_BUS_KAFKA_TOPIC", default="partyplanner.plan-events")
EVENT_RELAY_INTERVAL_SECONDS = env.float("EVENT_RELAY_INTERVAL_SECONDS", default=0.5)
EVENT_RELAY_BATCH = env.int("EVENT_RELAY_BATCH", default=500)
EVENT_RELAY_LOOKBACK_HOURS = env.int("EVENT_RELAY_LOOKBACK_HOURS", default=24)
EVENT_RELAY_MARGIN_SECONDS = env.float("EVENT_RELAY_MARGIN_SECONDS", default=30)
EVENT_RELAY_SWEEP_SECONDS = env.float("EVENT_RELAY_SWEEP_SECONDS", default=60)

# --- Agents -----------------------------------------------------------------------------------------
# Retry policy and time limits: one default for every agent (and the planner), and per-agent overrides
# as a JSON object in AGENT_<NAME>_POLICY, e.g. AGENT_VENUE_POLICY='{"max_retries": 5, "soft_time_limit": 5}'.
# Catalog queries take milliseconds: the limits only bound a stuck dependency.
AGENT_DEFAULT_POLICY = {
    "max_retries": env.int("AGENT_MAX_RETRIES", default=3),
    "retry_backoff": env.int("AGENT_RETRY_BACKOFF", default=1),
    "retry_backoff_max": env.int("AGENT_RETRY_BACKOFF_MAX", default=8),
    "retry_jitter": env.bool("AGENT_RETRY_JITTER", default=True),
    "soft_time_limit": env.int("AGENT_SOFT_TIME_LIMIT", default=10),
    "time_limit": env.int("AGENT_TIME_LIMIT", default=15),
}
AGENT_POLICY_OVERRIDES = {
    match[1].lower(): env.json(key)
    for key in sorted(os.environ)
    if (match := re.fullmatch(r"AGENT_([A-Z][A-Z0-9_]*)_POLICY", key)) and match[1] != "DEFAULT"
}
# Circuit breaker around each agent's catalog provider; state shared by every worker through Redis.
AGENT_BREAKER = {
    "fail_max": env.int("AGENT_BREAKER_FAIL_MAX", default=5),
    "reset_timeout": env.int("AGENT_BREAKER_RESET_TIMEOUT", default=30),
    "storage": env("AGENT_BREAKER_STORAGE", default="redis"),
    # How long a process may answer from the shared state it last read (an agent task reads it once, at its
    # first catalog call): the bound on how late a process outside a task sees another's change.
    "snapshot_seconds": env.float("AGENT_BREAKER_SNAPSHOT_SECONDS", default=1.0),
}
# The catalog version's copy in Redis expires after this many seconds (then the database answers once and
# republishes it): the bound on how long a lost publish can keep a process on an old catalog.
CATALOG_VERSION_TTL = env.int("CATALOG_VERSION_TTL", default=60)
# Fault injection at the provider boundary, for tests and demos. JSON: agent -> {"error_rate": 0..1,
# "latency_ms": int, "error": "transient" | "permanent", "ignore_soft_limit": bool}.
AGENT_FAULTS = env.json("AGENT_FAULTS", default={})
ANALYZER_RULES_PATH = env("ANALYZER_RULES_PATH", default="") or None
# The optional learned party-type classifier: "" (off, the default) or "embedding" (needs requirements-ml.txt).
ANALYZER_CLASSIFIER = env("ANALYZER_CLASSIFIER", default="")

# --- Celery ---------------------------------------------------------------------------------------
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default=REDIS_URL)
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_RESULT_EXTENDED = False
CELERY_RESULT_EXPIRES = env.int("CELERY_RESULT_EXPIRES", default=24 * 3600)
CELERY_RESULT_BACKEND_ALWAYS_RETRY = True
CELERY_RESULT_BACKEND_MAX_RETRIES = 3
# Tasks other than the agents (the planner has its own policy above): sweeps and reconciles.
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=20)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=25)
# Late acknowledgement and requeue on a lost worker process: a task whose worker dies runs again.
# Our tasks are idempotent (conditional state transitions, results upserted by plan and agent),
# so running again is safe; the stock default (early ack) would lose the task instead.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_DEDUPLICATE_SUCCESSFUL_TASKS = True
CELERY_WORKER_PREFETCH_MULTIPLIER = env.int("CELERY_WORKER_PREFETCH_MULTIPLIER", default=4)
# Celery's Django fixup closes the database connection before and after every task unless this is set:
# a new PostgreSQL connection per task. With it, the fixup closes them only every this many tasks, and
# partyproject.celery treats each task as Django treats a request (CONN_MAX_AGE, health checks, and a
# connection that saw an error is dropped).
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", default=1000)
# A connection that ended a task without error this recently is not health-checked (a SELECT 1) before the
# next one; 0 checks before every task, as Django does before every request.
DATABASE_HEALTH_CHECK_GRACE_SECONDS = env.float("DATABASE_HEALTH_CHECK_GRACE_SECONDS", default=1.0)
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A warm shutdown waits at most this long for running tasks; what is left is handed back to the broker.
CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT = env.float("CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT", default=10.0)
CELERY_WORKER_ENABLE_SOFT_SHUTDOWN_ON_IDLE = True
# Publishing never blocks for long: a web request that cannot reach the broker leaves the plan in the
# dispatch outbox (planning.PlanDispatch) for the sweeper instead of retrying for ~20 s.
CELERY_BROKER_CONNECTION_TIMEOUT = env.float("CELERY_BROKER_CONNECTION_TIMEOUT", default=2.0)
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.5, "interval_max": 0.5}
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = 2
CELERY_REDIS_SOCKET_TIMEOUT = 5
# Every timeout below derives from the agents' time limits (docs/reliability.md): a dead worker's unacked
# messages come back after the visibility timeout, which must exceed the longest task run plus its longest
# retry countdown (ETA messages are held unacked too); the reconciler takes a plan for stalled only after
# that, so it never races a redelivery. Any single fault is then recovered within about a minute.
_longest_task = max(
    CELERY_TASK_TIME_LIMIT,
    *(
        {**AGENT_DEFAULT_POLICY, **override}["time_limit"] + {**AGENT_DEFAULT_POLICY, **override}["retry_backoff_max"]
        for override in [{}, *AGENT_POLICY_OVERRIDES.values()]
    ),
)
CELERY_VISIBILITY_TIMEOUT = env.int("CELERY_VISIBILITY_TIMEOUT", default=_longest_task + 10)
# Queues, consumed in this order (a worker started without -Q consumes them all): chord callbacks
# finish plans; follow-up steps of a chain (cake after theme) move started plans on; periodic work; then
# the first steps of new plans in the default queue. With Redis a worker checks them in this fixed order
# ("priority"); the default round robin would let new plans' work overtake plans already started.
CELERY_PLANNER_QUEUE = "planner"
CELERY_FOLLOWUP_QUEUE = "followup"
CELERY_MAINTENANCE_QUEUE = "maintenance"
CELERY_TASK_DEFAULT_QUEUE = "celery"
# Agent classes routed to queues of their own (JSON: agent -> queue), e.g. {"venue": "venue"}, so that
# a worker node can be given to them (`celery worker -Q venue -n venue@%h`); such an agent keeps its
# queue whether it starts a chain or follows another step.
AGENT_QUEUES = env.json("AGENT_QUEUES", default={})
CELERY_QUEUE_NAMES = list(
    dict.fromkeys(
        (
            CELERY_PLANNER_QUEUE,
            CELERY_FOLLOWUP_QUEUE,
            CELERY_MAINTENANCE_QUEUE,
            *AGENT_QUEUES.values(),
            CELERY_TASK_DEFAULT_QUEUE,
        )
    )
)
CELERY_TASK_ROUTES = {
    "agents.planner": {"queue": CELERY_PLANNER_QUEUE},
    "agents.plan_rescue": {"queue": CELERY_PLANNER_QUEUE},
    "agents.reconcile": {"queue": CELERY_MAINTENANCE_QUEUE},
    "agents.dispatch_sweep": {"queue": CELERY_MAINTENANCE_QUEUE},
    "agents.dead_letter_record": {"queue": CELERY_MAINTENANCE_QUEUE},
    **{f"agents.{agent}": {"queue": queue} for agent, queue in AGENT_QUEUES.items()},
}
_broker_scheme = CELERY_BROKER_URL.partition("://")[0]
# RabbitMQ: quorum queues (replicated, at-least-once dead-lettering), publisher confirms, and a topic
# exchange per queue so that countdown retries use Celery's native delayed delivery (a direct exchange
# would hold the retry in the worker instead). Redis keeps Celery's direct exchanges: an exchange keeps
# its type in the broker, and a topic lookup would also match the direct bindings already stored there.
CELERY_BROKER_IS_AMQP = _broker_scheme in {"amqp", "amqps", "pyamqp"}
_exchange_type = "topic" if CELERY_BROKER_IS_AMQP else "direct"
CELERY_TASK_QUEUES = [
    Queue(
        name,
        Exchange(name, type=_exchange_type),
        routing_key=name,
        queue_arguments={"x-queue-type": "quorum"} if CELERY_BROKER_IS_AMQP else None,
    )
    for name in CELERY_QUEUE_NAMES
]
CELERY_TASK_DEFAULT_EXCHANGE = CELERY_TASK_DEFAULT_QUEUE
CELERY_TASK_DEFAULT_EXCHANGE_TYPE = _exchange_type
CELERY_TASK_DEFAULT_ROUTING_KEY = CELERY_TASK_DEFAULT_QUEUE
CELERY_TASK_DEFAULT_QUEUE_TYPE = "quorum" if CELERY_BROKER_IS_AMQP else "classic"
# Redis Sentinel (see the Redis section): kombu and the result backend take the master's name as an option.
_sentinel_options = {"master_name": REDIS_SENTINEL_MASTER}
if CELERY_BROKER_IS_AMQP:
    CELERY_BROKER_TRANSPORT_OPTIONS = {"confirm_publish": True}
    CELERY_BROKER_HEARTBEAT = 10
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
        "unacked_restore_throttle": 1,
        "queue_order_strategy": env("CELERY_QUEUE_ORDER_STRATEGY", default="priority"),
        "socket_connect_timeout": CELERY_REDIS_SOCKET_CONNECT_TIMEOUT,
        "socket_timeout": CELERY_REDIS_SOCKET_TIMEOUT,
        "socket_keepalive": True,
        "health_check_interval": 10,
        **(_sentinel_options if _broker_scheme == "sentinel" else {}),
    }
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
    "retry_policy": {"max_retries": 3, "interval_start": 0, "interval_step": 0.5, "interval_max": 1},
    **(_sentinel_options if CELERY_RESULT_BACKEND.startswith("sentinel://") else {}),
}
# Keep Django's LOGGING (structured, see Logging below) in the worker instead of Celery's own format.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# --- Reconciler and dispatch outbox -------------------------------------------------------------------
# A running plan with no event for PLAN_STALLED_AFTER seconds is driven on from the database: its
# unfinished agents run again (at most PLAN_MAX_REDRIVES times, each re-drive waiting twice as long as the
# one before), or it is finalized with what it has.
PLAN_STALLED_AFTER = env.int("PLAN_STALLED_AFTER", default=CELERY_VISIBILITY_TIMEOUT + 10)
# Selection strategies under test: arm name -> traffic weight; each owner always gets the same arm.
SELECTION_ARMS = {arm: float(weight) for arm, weight in env.dict("SELECTION_ARMS", default={"balanced": "1"}).items()}
SELECTION_EXPERIMENT = env("SELECTION_EXPERIMENT", default="selection-1")
PLAN_MAX_REDRIVES = env.int("PLAN_MAX_REDRIVES", default=3)
# Above this many waiting messages, stalled plans are most likely queued, not lost: wait.
PLAN_RECONCILE_MAX_BACKLOG = env.int("PLAN_RECONCILE_MAX_BACKLOG", default=1000)
PLAN_RECONCILE_INTERVAL = env.int("PLAN_RECONCILE_INTERVAL", default=5)
# Dispatches the web process could not publish (broker down) are published by the sweeper; a fresh one is
# left to the web process for PLAN_DISPATCH_GRACE seconds. After a failed publish the web process stops
# trying for PLAN_DISPATCH_BREAKER_RESET seconds, so a broker outage costs new plans no latency.
PLAN_DISPATCH_SWEEP_INTERVAL = env.int("PLAN_DISPATCH_SWEEP_INTERVAL", default=2)
PLAN_DISPATCH_GRACE = env.int("PLAN_DISPATCH_GRACE", default=5)
PLAN_DISPATCH_BREAKER_RESET = env.int("PLAN_DISPATCH_BREAKER_RESET", default=5)
# Admission: each user runs at most PLAN_ADMISSION_PER_USER plans at once and all users together at most
# PLAN_ADMISSION_TOTAL (0 = no bound); the rest wait in the database, not in the broker, and are admitted
# in fair order (the user with the fewest running plans first) as plans end.
PLAN_ADMISSION_PER_USER = env.int("PLAN_ADMISSION_PER_USER", default=4)
PLAN_ADMISSION_TOTAL = env.int("PLAN_ADMISSION_TOTAL", default=0)
CELERY_BEAT_SCHEDULE = {
    "reconcile-stalled-plans": {
        "task": "agents.reconcile",
        "schedule": PLAN_RECONCILE_INTERVAL,
        "options": {"expires": PLAN_RECONCILE_INTERVAL},
    },
    "sweep-dispatch-outbox": {
        "task": "agents.dispatch_sweep",
        "schedule": PLAN_DISPATCH_SWEEP_INTERVAL,
        "options": {"expires": PLAN_DISPATCH_SWEEP_INTERVAL},
    },
}
# The worker touches this file while its consumer loop is alive (liveness probe: see docs/reliability.md).
WORKER_LIVENESS_FILE = env("WORKER_LIVENESS_FILE", default="")

# --- Security: proxies, headers, CORS, login limits (docs/security.md) ------------------------------
# How many reverse proxies in front of the app append to X-Forwarded-For. 0: the client address is
# REMOTE_ADDR and X-Forwarded-For is ignored; 1 behind the compose file's Caddy.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
# Trust X-Forwarded-Proto only behind a TLS-terminating proxy that always sets it (never when clients
# can reach the app directly).
if env.bool("DJANGO_BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
CSRF_FAILURE_VIEW = "api.exceptions.csrf_failure"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_URLS_REGEX = r"^/api/.*$"
CORS_PREFLIGHT_MAX_AGE = env.int("CORS_PREFLIGHT_MAX_AGE", default=600)
# Same-origin pages with their own static scripts and styles, connecting back to their own origin
# (fetch, WebSocket, server-sent events); nothing inline, nothing from elsewhere.
_CSP_SELF = ["'self'"]
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": _CSP_SELF,
        "script-src": _CSP_SELF,
        "style-src": _CSP_SELF,
        "img-src": [*_CSP_SELF, "data:"],
        "font-src": _CSP_SELF,
        "connect-src": [*_CSP_SELF, *env.list("CSP_CONNECT_SRC", default=[])],
        "object-src": ["'none'"],
        "base-uri": _CSP_SELF,
        "form-action": _CSP_SELF,
        "frame-ancestors": ["'none'"],
    }
}
# Failed logins per account from any address, for the token endpoint and the admin (django-ratelimit
# rate: count/period, e.g. 10/15m), and admin login attempts per client address.
LOGIN_FAILURES_PER_ACCOUNT = env("LOGIN_FAILURES_PER_ACCOUNT", default="10/15m")
ADMIN_LOGIN_RATE = env("ADMIN_LOGIN_RATE", default="10/m")
RATELIMIT_IP_META_KEY = "api.ip.client_ip"
RATELIMIT_USE_CACHE = "default"
# JSON bodies nested deeper than this are refused with 400 before they are parsed.
API_MAX_JSON_DEPTH = env.int("API_MAX_JSON_DEPTH", default=32)
# Retry-After (seconds) on a 503 when the database or Redis cannot be reached.
API_RETRY_AFTER_OUTAGE = env.int("API_RETRY_AFTER_OUTAGE", default=5)
# How long an Idempotency-Key on POST /plans/ is remembered (the same key and body replay the first answer).
API_IDEMPOTENCY_TTL = env.int("API_IDEMPOTENCY_TTL", default=24 * 3600)
# Count every catalog provider call in Redis (benchmarks and tests of incremental re-planning).
AGENT_COUNT_PROVIDER_CALLS = env.bool("AGENT_COUNT_PROVIDER_CALLS", default=False)
# An API key's last use is written at most this often (seconds).
API_KEY_LAST_USED_PRECISION = env.int("API_KEY_LAST_USED_PRECISION", default=60)
# The OpenAPI schema and Swagger UI: public, or for authenticated users only (token, API key, or an
# admin session in the browser).
API_DOCS_PUBLIC = env.bool("API_DOCS_PUBLIC", default=True)

# --- REST API -----------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.StatelessJWTAuthentication",
        "api.authentication.ApiKeyAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["api.permissions.IsAuthenticatedWithinScope"],
    "DEFAULT_RENDERER_CLASSES": ["api.renderers.FastJSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["api.parsers.BoundedJSONParser"],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.NewestFirstPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_SCHEMA_CLASS": "api.schema.ApiAutoSchema",
    "EXCEPTION_HANDLER": "api.exceptions.api_exception_handler",
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
    "DEFAULT_THROTTLE_CLASSES": [
        "api.throttling.AnonThrottle",
        "api.throttling.UserOrKeyThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env("API_THROTTLE_ANON", default="60/min"),
        "user": env("API_THROTTLE_USER", default="600/min"),
        "plan_create": env("API_THROTTLE_PLAN_CREATE", default="30/min"),
        "token": env("API_THROTTLE_TOKEN", default="20/min"),
    },
}

# Plan renderings (GET of one plan, by ETag): how many each process keeps, and how long the shared cache does.
API_PLAN_RENDERINGS_LOCAL = env.int("API_PLAN_RENDERINGS_LOCAL", default=512)
API_PLAN_RENDERINGS_TTL = env.int("API_PLAN_RENDERINGS_TTL", default=24 * 3600)
# Each web process rereads the list of revoked access tokens at most this often (seconds; docs/security.md).
API_REVOCATIONS_REFRESH = env.float("API_REVOCATIONS_REFRESH", default=1.0)

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=1)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "ALGORITHM": "HS256",
    "UPDATE_LAST_LOGIN": False,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Partyplanner API",
    "DESCRIPTION": "Describe a party in plain words; cooperating agents plan it.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": [
        "rest_framework.permissions.AllowAny" if API_DOCS_PUBLIC else "rest_framework.permissions.IsAuthenticated"
    ],
    "SERVE_AUTHENTICATION": [
        "api.authentication.StatelessJWTAuthentication",
        "api.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "PlanStatusEnum": "planning.models.PlanStatus",
        "AgentRunStatusEnum": "planning.models.AgentRunStatus",
    },
}

# --- Feature flags and load shedding --------------------------------------------------------------
# Switched-off agents are left out of every new plan; optional agents may fail without making the
# plan partial. Either way the plan says so (agents/flags.py).
AGENTS_DISABLED = env.list("AGENTS_DISABLED", default=[])
AGENTS_OPTIONAL = env.list("AGENTS_OPTIONAL", default=[])
# POST /api/v1/plans/ answers 503 + Retry-After while more messages than this wait in the broker
# (0 switches shedding off). Kept below PLAN_RECONCILE_MAX_BACKLOG: shed new work before the
# reconciler starts to hold back.
PLAN_SHED_BACKLOG = env.int("PLAN_SHED_BACKLOG", default=500)
PLAN_SHED_RETRY_AFTER = env.int("PLAN_SHED_RETRY_AFTER", default=30)

# --- Observability ----------------------------------------------------------------------------------
# /metrics (web) answers only a bearer token equal to METRICS_TOKEN or a client inside
# METRICS_ALLOWED_NETWORKS. Workers serve their own /metrics on WORKER_METRICS_PORT (0 = none).
# With several processes per host, PROMETHEUS_MULTIPROC_DIR (read by prometheus-client itself)
# must name an empty directory private to that host's processes.
METRICS_TOKEN = env("METRICS_TOKEN", default="")
METRICS_ALLOWED_NETWORKS = env.list("METRICS_ALLOWED_NETWORKS", default=["127.0.0.0/8", "::1/128"])
WORKER_METRICS_PORT = env.int("WORKER_METRICS_PORT", default=0)
WORKER_METRICS_ADDR = env("WORKER_METRICS_ADDR", default="127.0.0.1")
# Readiness: a worker must answer a ping within this many seconds; the answer is reused this long.
READINESS_WORKER_TIMEOUT = env.float("READINESS_WORKER_TIMEOUT", default=1.0)
READINESS_WORKER_CACHE = env.float("READINESS_WORKER_CACHE", default=10.0)
# OpenTelemetry: off unless TRACING_ENABLED; spans go over OTLP/HTTP to OTEL_EXPORTER_OTLP_ENDPOINT
# (read by the exporter itself), or as JSON lines to TRACING_EXPORT_FILE (development and tests).
TRACING_ENABLED = env.bool("TRACING_ENABLED", default=False)
TRACING_EXPORT_FILE = env("TRACING_EXPORT_FILE", default="")
OTEL_SERVICE_NAME = env("OTEL_SERVICE_NAME", default="partyplanner")

# --- Logging --------------------------------------------------------------------------------------
# LOG_FORMAT=json in production (one JSON object a line, with request, user, plan, task and trace
# ids bound while serving a plan); console (readable) in development.
LOG_LEVEL = env("LOG_LEVEL", default="INFO")
LOG_FORMAT = env("LOG_FORMAT", default="console")
LOGGING = logging_config(level=LOG_LEVEL, renderer=LOG_FORMAT)
DJANGO_STRUCTLOG_CELERY_ENABLED = True
# One line per request (`request_finished`, with method, path, status and user); `request_started` only at
# LOG_LEVEL=DEBUG. The client address is bound by api.signals from api.ip (trusting proxies only as configured),
# not by django-structlog's ipware, which takes X-Forwarded-For from anyone.
DJANGO_STRUCTLOG_STATUS_START_LOG_LEVEL = logging.DEBUG
DJANGO_STRUCTLOG_IP_LOGGING_ENABLED = False
