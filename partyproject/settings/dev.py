"""Local development: debug on, the embedded default unless REDIS_URL/DATABASE_URL say otherwise."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
