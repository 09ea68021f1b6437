"""What PostgreSQL reads to answer a query: for tests that a query stays small however large a table grows."""

import json

from django.db import connection


def query_plan(sql: str, params: dict | list | tuple | None = None) -> dict:
    """The top node of `EXPLAIN (ANALYZE, BUFFERS)` for `sql`, run once after the tables' statistics are
    brought up to date (PostgreSQL only)."""
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql, params)
        plan = cursor.fetchone()[0]
    return (json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]


def rows_read(node: dict) -> int:
    """Table and index rows a plan's scans returned or dropped by a filter, over all their loops (an index
    condition on a column other than the index's first is not counted: `pages_read` sees that one)."""
    scanned = 0
    if "Scan" in node["Node Type"]:
        returned_or_dropped = ("Actual Rows", "Rows Removed by Filter", "Rows Removed by Index Recheck")
        scanned = sum(node.get(key, 0) for key in returned_or_dropped) * node["Actual Loops"]
    return scanned + sum(rows_read(child) for child in node.get("Plans", []))


def pages_read(node: dict) -> int:
    """Buffer pages (tables and indexes, from cache or disk) a plan read."""
    return node["Shared Hit Blocks"] + node["Shared Read Blocks"]


def queryset_plan(queryset) -> dict:
    """`query_plan` for a queryset."""
    sql, params = queryset.query.sql_with_params()
    return query_plan(sql, params)
