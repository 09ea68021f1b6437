"""A small cluster for fault injection, built from real processes and never the machine's shared services:
a private Redis on a free port (broker, results, breakers), a TCP proxy in front of PostgreSQL (so the
database can be cut cleanly or left half-open), a supervised prefork worker and a beat process.

Used by the chaos tests (tests/chaos/, a few plans per fault) and by `bench/chaos.py` (hundreds, faults at random
times).
"""

import contextlib
import logging
import os
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import redis

from partyproject.embedded import BASE_DIR, die_with_parent, free_port, server_binary, wait_until
from partyproject.liveness import is_fresh

logger = logging.getLogger(__name__)

# Limits for a chaos run: production's shape (soft < hard < visibility < stall window), scaled down so a
# fault heals in seconds. `production` keeps the shipped defaults, to measure the real recovery bound.
SHORT_TIMEOUTS = {
    "AGENT_SOFT_TIME_LIMIT": "3",
    "AGENT_TIME_LIMIT": "5",
    "AGENT_RETRY_BACKOFF_MAX": "1",
    "AGENT_CAKE_POLICY": "{}",
    "CELERY_TASK_SOFT_TIME_LIMIT": "4",
    "CELERY_TASK_TIME_LIMIT": "6",
    "CELERY_VISIBILITY_TIMEOUT": "10",
    "PLAN_STALLED_AFTER": "15",
    "PLAN_RECONCILE_INTERVAL": "2",
    "PLAN_DISPATCH_SWEEP_INTERVAL": "1",
    "PLAN_DISPATCH_GRACE": "2",
    "CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT": "3",
    "DATABASE_CONNECT_TIMEOUT": "2",
    "DATABASE_STATEMENT_TIMEOUT_MS": "3000",
    "DATABASE_LOCK_TIMEOUT_MS": "2000",
    "DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS": "4000",
    "DATABASE_KEEPALIVES_IDLE": "2",
    "DATABASE_TCP_USER_TIMEOUT_MS": "4000",
}
PRODUCTION_TIMEOUTS = {"AGENT_RETRY_BACKOFF_MAX": "8", "AGENT_CAKE_POLICY": "{}"}


# The worker's healthcheck in compose and Kubernetes restarts a worker whose liveness file is older than this.
LIVENESS_MAX_AGE = 30.0


class PrivateRedis:
    """A redis-server of our own on a free port, with nothing on disk; killed and restarted at will."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server") or server_binary()
        command = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        log = open(self.workdir / "redis.log", "ab")  # noqa: SIM115 - the child process owns it
        self.process = subprocess.Popen(
            [*command, "--dir", str(self.workdir)], stdout=log, stderr=subprocess.STDOUT, preexec_fn=die_with_parent
        )
        log.close()
        client = redis.Redis(port=self.port, socket_connect_timeout=1)
        wait_until(client.ping, timeout=15, what=f"the private Redis on port {self.port}")

    def kill(self) -> None:
        """SIGKILL: everything it held (queues, unacked messages, chord counters) is gone."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def wipe(self) -> None:
        redis.Redis(port=self.port).flushall()


class TcpProxy:
    """Forwards 127.0.0.1:`port` to a target, and can cut the path in the two ways a network fails.

    `cut()` closes every connection and turns new ones away (a clean outage: peers notice at once).
    `blackhole()` stops forwarding without closing anything, new connections included: peers wait on
    sockets that look alive. `heal()` forwards new connections again, but those caught in the black hole
    stay dead — half-open — until their owners give up on them.
    """

    def __init__(self, target_port: int) -> None:
        self.target = ("127.0.0.1", target_port)
        self.port = free_port()
        self.mode = "forward"
        self._lock = threading.Lock()
        self._frozen: list[socket.socket] = []
        self._live: list[tuple[socket.socket, socket.socket]] = []
        self._listener = socket.create_server(("127.0.0.1", self.port), reuse_port=False)
        self._listener.settimeout(0.2)
        self._closing = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._closing.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                mode = self.mode
            if mode == "cut":
                client.close()
            elif mode == "blackhole":
                with self._lock:
                    self._frozen.append(client)
            else:
                self._connect(client)

    def _connect(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(self.target, timeout=2)
        except OSError:
            client.close()
            return
        pair = (client, upstream)
        with self._lock:
            self._live.append(pair)
        threading.Thread(target=self._pump, args=(pair,), daemon=True).start()

    def _pump(self, pair: tuple[socket.socket, socket.socket]) -> None:
        client, upstream = pair
        peer = {client: upstream, upstream: client}
        selector = selectors.DefaultSelector()
        for sock in pair:
            selector.register(sock, selectors.EVENT_READ)
        try:
            while not self._closing.is_set():
                with self._lock:
                    if pair not in self._live:
                        return
                for key, _ in selector.select(timeout=0.2):
                    with self._lock:
                        if pair not in self._live:
                            return
                    data = key.fileobj.recv(65536)
                    if not data:
                        self._drop(pair)
                        return
                    peer[key.fileobj].sendall(data)
        except OSError:
            self._drop(pair)
        finally:
            selector.close()

    def _drop(self, pair: tuple[socket.socket, socket.socket]) -> None:
        with self._lock:
            if pair in self._live:
                self._live.remove(pair)
        for sock in pair:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def cut(self) -> None:
        """Close every connection and refuse new ones."""
        with self._lock:
            self.mode = "cut"
            pairs = list(self._live)
        for pair in pairs:
            self._drop(pair)

    def blackhole(self) -> None:
        """Stop forwarding on every connection, without closing any."""
        with self._lock:
            self.mode = "blackhole"
            for client, upstream in self._live:
                self._frozen.extend((client, upstream))
            self._live.clear()

    def heal(self) -> None:
        """Forward new connections again (half-open ones stay dead; a cut's peers reconnect)."""
        with self._lock:
            self.mode = "forward"

    def close(self) -> None:
        self._closing.set()
        self._listener.close()
        with self._lock:
            pairs, frozen = list(self._live), list(self._frozen)
            self._live.clear()
            self._frozen.clear()
        for pair in pairs:
            self._drop(pair)
        for sock in frozen:
            sock.close()


def child_pids(pid: int) -> list[int]:
    """The direct children of a process (from /proc)."""
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                children.append(int(entry.name))
    return children


@dataclass
class Cluster:
    """A private Redis, a proxy in front of PostgreSQL, one supervised worker and one beat process."""

    database_name: str
    concurrency: int = 2
    timeouts: Mapping[str, str] = field(default_factory=lambda: dict(SHORT_TIMEOUTS))
    database_port: int = 5432
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="partyplanner-chaos-")))

    def __post_init__(self) -> None:
        self.redis = PrivateRedis(self.workdir)
        self.proxy = TcpProxy(self.database_port)
        self.worker: subprocess.Popen | None = None
        self.beat: subprocess.Popen | None = None
        self.restarts = 0
        self._supervising = threading.Event()
        self._stopping = threading.Event()

    @property
    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "partyproject.settings.test",
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:{self.proxy.port}/{self.database_name}",
            "REDIS_URL": self.redis.url,
            "DATABASE_CONN_MAX_AGE": "60",
            "WORKER_LIVENESS_FILE": str(self.workdir / "worker.alive"),
            **self.timeouts,
        }

    def start(self) -> None:
        self.redis.start()
        self.start_worker()
        self.beat = self._spawn(
            ["beat", "--schedule", str(self.workdir / "beat-schedule"), "--loglevel", "WARNING"], "beat"
        )
        threading.Thread(target=self._supervise, daemon=True).start()

    def _spawn(self, args: Iterable[str], name: str) -> subprocess.Popen:
        log = open(self.workdir / f"{name}.log", "ab")  # noqa: SIM115 - the child process owns it
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "partyproject", *args],
            stdout=log, stderr=subprocess.STDOUT, env=self.env, cwd=BASE_DIR, start_new_session=True,
            preexec_fn=die_with_parent,
        )  # fmt: skip
        log.close()
        return process

    def start_worker(self) -> None:
        """Start the worker and wait until its pool is up (its liveness file appears)."""
        alive = self.workdir / "worker.alive"
        alive.unlink(missing_ok=True)
        self.worker = self._spawn(
            ["worker", "--pool", "prefork", "--concurrency", str(self.concurrency), "--loglevel", "INFO",
             "--hostname", f"chaos-{os.getpid()}-{self.restarts}@%h", "--without-gossip", "--without-mingle"],
            "worker",
        )  # fmt: skip
        wait_until(alive.exists, timeout=60, what="the chaos worker to start")

    def _supervise(self) -> None:
        """Restart a worker that exited (what compose's restart policy does) or whose liveness file went
        stale (what its healthcheck does: a worker whose consumer died may hang in its shutdown), unless
        stopping."""
        alive = self.workdir / "worker.alive"
        while not self._stopping.wait(0.5):
            running = self.worker is not None and self.worker.poll() is None
            stale = alive.exists() and not is_fresh(alive, max_age=LIVENESS_MAX_AGE)  # a starting worker has none
            if running and stale and not self._supervising.is_set():
                logger.warning("chaos worker stopped consuming (%s is stale); killing it", alive)
                os.killpg(self.worker.pid, signal.SIGKILL)
                self.worker.wait()
            if self.worker is not None and self.worker.poll() is not None and not self._supervising.is_set():
                self.restarts += 1
                logger.warning("chaos worker exited with %s; restarting", self.worker.returncode)
                try:
                    self.start_worker()
                except TimeoutError:
                    logger.exception("chaos worker did not come back")

    def kill_worker(self, sig: int = signal.SIGKILL) -> None:
        """Signal the worker's whole process group (the main process and its pool), as a container kill."""
        if self.worker and self.worker.poll() is None:
            os.killpg(self.worker.pid, sig)

    def kill_pool_child(self) -> bool:
        """SIGKILL one pool process of the worker; False if it has none."""
        children = child_pids(self.worker.pid) if self.worker else []
        if not children:
            return False
        os.kill(children[0], signal.SIGKILL)
        return True

    def stop(self) -> None:
        self._stopping.set()
        for process in (self.beat, self.worker):
            if process and process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()
        self.proxy.close()
        self.redis.kill()

    def log(self, name: str = "worker") -> str:
        path = self.workdir / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""


def wait_terminal(plan_ids: list, *, timeout: float) -> float:
    """Seconds until every plan is terminal (raises TimeoutError naming how many are not)."""
    from planning.models import Plan

    started = time.monotonic()
    deadline = started + timeout
    while True:
        open_plans = Plan.objects.filter(pk__in=plan_ids).exclude(status__in=Plan.TERMINAL).count()
        if not open_plans:
            return time.monotonic() - started
        if time.monotonic() > deadline:
            raise TimeoutError(f"{open_plans} of {len(plan_ids)} plans are not terminal after {timeout:.0f}s")
        time.sleep(0.25)


@dataclass(frozen=True)
class Verdict:
    """What a fault did to a batch of plans, checked in the database."""

    submitted: int
    terminal: int
    complete: int
    partial: int
    failed: int
    lost: int
    duplicated: int
    seq_problems: int
    double_results: int

    @property
    def ok(self) -> bool:
        return self.lost == self.duplicated == self.seq_problems == self.double_results == 0


TERMINAL_EVENTS = ("plan.complete", "plan.partial", "plan.failed", "plan.cancelled")


def verdict(plan_ids: list) -> Verdict:
    """Every plan terminal exactly once, with a gapless log and no agent result applied twice."""
    from django.db.models import Count

    from planning.models import Plan, PlanEvent

    statuses = dict(Plan.objects.filter(pk__in=plan_ids).values_list("id", "status"))
    ends = dict(
        PlanEvent.objects.filter(plan_id__in=plan_ids, type__in=TERMINAL_EVENTS)
        .values("plan_id")
        .annotate(n=Count("id"))
        .values_list("plan_id", "n")
    )
    seq_problems = 0
    for plan_id in plan_ids:
        seqs = list(PlanEvent.objects.filter(plan_id=plan_id).order_by("seq").values_list("seq", flat=True))
        seq_problems += seqs != list(range(1, len(seqs) + 1))
    double = (
        PlanEvent.objects.filter(plan_id__in=plan_ids, type="agent.succeeded")
        .values("plan_id", "agent")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count()
    )
    values = list(statuses.values())
    terminal = sum(status in Plan.TERMINAL for status in values)
    return Verdict(
        submitted=len(plan_ids),
        terminal=terminal,
        complete=values.count("complete"),
        partial=values.count("partial"),
        failed=values.count("failed"),
        lost=len(plan_ids) - terminal,
        duplicated=sum(1 for n in ends.values() if n > 1),
        seq_problems=seq_problems,
        double_results=double,
    )


def celery_use(url: str) -> None:
    """Point this process's Celery app (broker, results), breakers and fault switches at `url`, leaving
    the cache where it is; cached connections and producers are dropped so nothing talks to the old one."""
    from django.conf import settings

    from partyproject.celery import app
    from partyproject.redis_client import redis_client_reset

    settings.REDIS_URL = url
    app.conf.broker_url = url
    app.conf.result_backend = url
    app._pool = None
    app.amqp._producer_pool = None
    if hasattr(app._local, "backend"):
        # The old backend's result consumer is subscribed to the old server, which may be gone soon: forget
        # its subscriptions and close it, or every AsyncResult collected later would retry against it.
        consumer = getattr(app._local.backend, "result_consumer", None)
        if consumer is not None:
            consumer.subscribed_to.clear()
            consumer.stop()
        del app._local.backend
    redis_client_reset()


RABBITMQ_URL = os.environ.get("RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672")


def rabbitmq_vhost_url(vhost: str) -> str:
    """The URL of a RabbitMQ virtual host of our own on the machine's RabbitMQ (created with rabbitmqctl,
    emptied of queues left from an earlier run), so that runs never share queues with anyone else."""
    subprocess.run(["rabbitmqctl", "-q", "delete_vhost", vhost], capture_output=True, check=False)
    subprocess.run(["rabbitmqctl", "-q", "add_vhost", vhost], capture_output=True, check=True)
    subprocess.run(
        ["rabbitmqctl", "-q", "set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"],
        capture_output=True,
        check=True,
    )
    return f"{RABBITMQ_URL.rstrip('/')}/{vhost}"
