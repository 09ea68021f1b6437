"""How should worker metrics be collected? Measures the two ways that stay correct with prefork pools
and several hosts, and prints one JSON object.

- multiprocess: each process records into prometheus-client's mmap files (PROMETHEUS_MULTIPROC_DIR);
  cost = one agent attempt's recording (a counter and a histogram) per task, and the scrape that adds
  the files of every process up.
- events: an exporter fed by Celery task events; cost = the events a worker publishes to the broker per
  task (task-received, task-started, task-succeeded at least), measured as publishes to the real broker.

Usage: REDIS_URL=redis://127.0.0.1:6379/5 .venv/bin/python bench/metrics_modes.py [--tasks 20000]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

RECORD = """
import os, sys, time
from prometheus_client import Counter, Histogram
tasks = Counter("bench_tasks", "", ["agent", "outcome"])
duration = Histogram("bench_duration_seconds", "", ["agent", "outcome"])
n = int(sys.argv[1])
started = time.perf_counter()
for i in range(n):
    tasks.labels("venue", "succeeded").inc()
    duration.labels("venue", "succeeded").observe(0.012)
print((time.perf_counter() - started) / n * 1e6)
"""


def record_cost_us(tasks: int, multiproc_dir: str | None) -> float:
    """Microseconds to record one task attempt (counter + histogram) in a fresh process."""
    env = {key: value for key, value in os.environ.items() if key != "PROMETHEUS_MULTIPROC_DIR"}
    if multiproc_dir:
        env["PROMETHEUS_MULTIPROC_DIR"] = multiproc_dir
    runs = [
        float(subprocess.run([sys.executable, "-c", RECORD, str(tasks)], env=env, capture_output=True, text=True,
                             check=True).stdout)
        for _ in range(3)
    ]  # fmt: skip
    return round(statistics.median(runs), 2)


def scrape_ms(multiproc_dir: str, processes: int, tasks: int) -> float:
    """Milliseconds for one scrape adding up the files of `processes` processes."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": multiproc_dir}
    for _ in range(processes):
        subprocess.run([sys.executable, "-c", RECORD, str(tasks)], env=env, capture_output=True, check=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = multiproc_dir
    from prometheus_client import CollectorRegistry, generate_latest, multiprocess

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    times = []
    for _ in range(20):
        started = time.perf_counter()
        generate_latest(registry)
        times.append(time.perf_counter() - started)
    del os.environ["PROMETHEUS_MULTIPROC_DIR"]
    return round(statistics.median(times) * 1000, 2)


def event_publish_cost_us(url: str, events: int) -> float:
    """Microseconds for a worker to publish one task event to the broker."""
    from celery import Celery

    app = Celery("bench", broker=url)
    with app.connection_for_write() as connection:
        dispatcher = app.events.Dispatcher(
            connection, hostname="bench@localhost", enabled=True, buffer_while_offline=False
        )
        started = time.perf_counter()
        for index in range(events):
            dispatcher.send("task-succeeded", uuid=f"task-{index}", result="{}", runtime=0.012)
        elapsed = time.perf_counter() - started
        dispatcher.close()
    return round(elapsed / events * 1e6, 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=20000)
    parser.add_argument("--events", type=int, default=5000)
    options = parser.parse_args()
    url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/5")
    with tempfile.TemporaryDirectory() as one, tempfile.TemporaryDirectory() as many:
        multiprocess_us = record_cost_us(options.tasks, one)
        scrape_2 = scrape_ms(many, 2, 100)
        scrape_16 = scrape_ms(many, 14, 100)
    single_us = record_cost_us(options.tasks, None)
    event_us = event_publish_cost_us(url, options.events)
    print(
        json.dumps(
            {
                "record_one_task_us": {"single_process": single_us, "multiprocess": multiprocess_us},
                "scrape_ms": {"2_processes": scrape_2, "16_processes": scrape_16},
                "events_per_task_us": {"one_event": event_us, "three_events": round(3 * event_us, 2)},
                "broker_messages_per_task": {"multiprocess": 0, "events": 3},
            }
        )
    )


if __name__ == "__main__":
    main()
