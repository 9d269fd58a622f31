"""Start a real Celery worker process against the test database, storage and a Redis broker.

Used by integration tests through the ``celery_worker`` fixture (tests/conftest.py)::

    @pytest.mark.django_db(transaction=True)
    def test_something(celery_worker):
        worker = celery_worker(queues=["ingest"])
        ...                     # .delay() now goes to Redis and the worker runs it
        worker.kill()           # SIGKILL, as a crashed machine would
        worker = celery_worker(queues=["ingest"])  # a fresh worker picks up redelivered tasks

The Redis database number comes from ARENA_TEST_REDIS_DB (default 13, a number Arena itself never uses: its
deployments use 0 and 1) and only that database is flushed, so parallel test runs must use different numbers.
Under pytest-xdist (``-n N``) worker ``gwK`` uses ARENA_TEST_REDIS_DB + K (as it uses its own test database,
test_<name>_gwK), so its workers never see, or flush, another xdist worker's tasks.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import redis
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


REDIS_DATABASES = 16  # Redis's default `databases`


def redis_db() -> int:
    """This test process's Redis database number: ARENA_TEST_REDIS_DB, plus the xdist worker's index."""
    base = int(os.environ.get("ARENA_TEST_REDIS_DB", "13"))
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")  # gw0, gw1 ... under pytest -n
    number = base + (int(worker[2:]) if worker.startswith("gw") and worker[2:].isdigit() else 0)
    if not 0 <= number < REDIS_DATABASES:
        raise RuntimeError(
            f"Redis database {number} (ARENA_TEST_REDIS_DB={base} + xdist worker {worker or 'none'}) does not exist: "
            f"choose ARENA_TEST_REDIS_DB so that it plus the number of xdist workers stays below {REDIS_DATABASES}"
        )
    return number


def broker_url() -> str:
    return f"redis://127.0.0.1:6379/{redis_db()}"


@dataclass
class WorkerProcess:
    queues: list[str]
    env: dict
    log_path: Path
    process: subprocess.Popen | None = None
    extra_args: list[str] = field(default_factory=list)

    def start(self, *, timeout: float = 60.0) -> "WorkerProcess":
        log = open(self.log_path, "ab")
        hostname = f"test-{os.getpid()}-{time.monotonic_ns()}@localhost"
        self.process = subprocess.Popen(
            [
                sys.executable, "-m", "celery", "-A", "arena", "worker",
                "-Q", ",".join(self.queues), "--pool=solo", "--concurrency=1",
                "--without-gossip", "--without-mingle", "--without-heartbeat",
                "-n", hostname, "--loglevel=INFO", *self.extra_args,
            ],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"celery worker exited with {self.process.returncode}:\n{self.log()}")
            if b"ready." in self.log_path.read_bytes():
                return self
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"celery worker did not become ready in {timeout}s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:]

    def kill(self) -> None:
        """SIGKILL the worker (and its children): the crash case."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


def worker_env(*, storage_dir: str, tmp_dir: str) -> dict:
    db = settings.DATABASES["default"]
    url = f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{connection.settings_dict['NAME']}"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "CELERY_BROKER_URL": broker_url(),
        "CELERY_RESULT_BACKEND": broker_url(),
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "ARENA_STORAGE": storage_dir,
        "ARENA_TMP_DIR": tmp_dir,
        "PYTHONUNBUFFERED": "1",
        # Celery's Django fixup runs the system checks at every worker start, importing every URLconf, view and
        # Dash app (about half a worker's start-up); tests/arena/test_settings.py runs them once instead.
        "CELERY_SKIP_CHECKS": "1",
        "HF_HUB_OFFLINE": "1",
        "ARENA_AFTER_INGEST_HOOKS": ",".join(settings.ARENA_AFTER_INGEST_HOOKS),
    }
    return env


def flush_broker() -> None:
    redis.Redis.from_url(broker_url()).flushdb()
