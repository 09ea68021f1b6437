"""Production: secrets are required, security headers on, DEBUG off."""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import env, logging_config

SECRET_KEY = env("DJANGO_SECRET_KEY", default="")
if len(SECRET_KEY) < 32 or SECRET_KEY.startswith("insecure"):
    raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set to a random value of at least 32 characters.")
for required in ("DATABASE_URL", "REDIS_URL"):
    if not env(required, default=""):
        raise ImproperlyConfigured(f"{required} must be set in production (no embedded default there).")
DEBUG = False
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
# One JSON object a line for the log collector.
LOG_FORMAT = env("LOG_FORMAT", default="json")
LOGGING = logging_config(level=LOG_LEVEL, renderer=LOG_FORMAT)  # noqa: F405
