"""One Redis connection pool per process for our own keys (breakers, fault injection).

REDIS_URL is a plain `redis://host:port/db` or, for a highly available Redis, a list of Sentinels in
Celery's form, `sentinel://host1:26379;sentinel://host2:26379/db`, with the master named by
REDIS_SENTINEL_MASTER: the client then asks the Sentinels for the current master on every reconnect.
"""

from functools import cache
from urllib.parse import urlsplit

import redis
from django.conf import settings
from redis.sentinel import Sentinel

TIMEOUTS = {"socket_timeout": 2, "socket_connect_timeout": 2}


def sentinel_addresses(url: str) -> tuple[list[tuple[str, int]], int]:
    """The (host, port) of each Sentinel in a `sentinel://a:26379;sentinel://b:26379/0` URL, and the db."""
    addresses, db = [], 0
    for part in url.split(";"):
        parsed = urlsplit(part.strip())
        addresses.append((parsed.hostname or "127.0.0.1", parsed.port or 26379))
        if parsed.path.strip("/"):
            db = int(parsed.path.strip("/"))
    return addresses, db


@cache
def _client(url: str, master: str) -> redis.Redis:
    if url.startswith("sentinel://"):
        addresses, db = sentinel_addresses(url)
        return Sentinel(addresses, sentinel_kwargs=TIMEOUTS, **TIMEOUTS).master_for(master, db=db)
    return redis.Redis.from_url(url, **TIMEOUTS)


def redis_client() -> redis.Redis:
    """The client for settings.REDIS_URL (not decoding responses, as pybreaker's storage needs)."""
    return _client(settings.REDIS_URL, settings.REDIS_SENTINEL_MASTER)


def redis_client_reset() -> None:
    """Drop cached clients, e.g. after REDIS_URL changed."""
    _client.cache_clear()
