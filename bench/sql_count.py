"""Counts SQL statements per task in a worker (loaded with `--include bench.sql_count`): each pool process
wraps its database connection and adds, after every task, what it ran to Redis, keyed by task name."""

from celery import signals
from django.db import connection

from partyproject.redis_client import redis_client

KEY = "bench:sql"


class StatementCounter:
    """A connection.execute_wrapper that counts the statements it sees."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)

    def take(self) -> int:
        count, self.count = self.count, 0
        return count


counter = StatementCounter()


@signals.worker_process_init.connect
def _install(**_) -> None:
    connection.execute_wrappers.append(counter)


@signals.task_postrun.connect
def _record(sender=None, **_) -> None:
    count = counter.take()
    if sender is not None and not sender.name.startswith("bench."):
        pipe = redis_client().pipeline()
        pipe.hincrby(KEY, sender.name, count)
        pipe.hincrby(f"{KEY}:tasks", sender.name, 1)
        pipe.execute()


def sql_reset() -> None:
    redis_client().delete(KEY, f"{KEY}:tasks")


def sql_read() -> dict[str, dict[str, int]]:
    """Statements and task runs by task name since the last reset."""
    client = redis_client()
    statements = {key.decode(): int(value) for key, value in client.hgetall(KEY).items()}
    runs = {key.decode(): int(value) for key, value in client.hgetall(f"{KEY}:tasks").items()}
    return {"statements": statements, "runs": runs}
