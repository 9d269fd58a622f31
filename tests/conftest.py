"""Shared fixtures. Tests run against the real PostgreSQL named by DATABASE_URL (see scripts/test.sh)."""
from __future__ import annotations

import io

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model


# Fixtures through which a test reaches the database; a test that requests none of them (and has no django_db
# mark) is marked ``pure``: ``pytest -m pure`` runs without PostgreSQL (pytest-django refuses any DB access).
DATABASE_FIXTURES = frozenset(
    {"db", "transactional_db", "live_server", "django_db_reset_sequences", "django_db_serialized_rollback"}
)


@pytest.hookimpl(tryfirst=True)  # before -m deselects by marker
def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.get_closest_marker("django_db") is None and not DATABASE_FIXTURES & set(item.fixturenames):
            item.add_marker(pytest.mark.pure)


def pytest_collection_finish(session):
    engine = settings.DATABASES["default"]["ENGINE"]
    needs_database = [item for item in session.items if item.get_closest_marker("pure") is None]
    if needs_database and "postgresql" not in engine:
        raise pytest.UsageError(
            f"{len(needs_database)} selected tests (e.g. {needs_database[0].nodeid}) need PostgreSQL: export "
            "DATABASE_URL=postgres://postgres@127.0.0.1:5432/arena_suite (scripts/test.sh does this), "
            "or select the tests that need no database with -m pure"
        )


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Drop the test database at the end even when a Celery worker (or a killed one's backend) still holds a
    connection to it: terminate those backends first, so PostgreSQL never refuses the DROP."""
    yield
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid()"
            )
        connection.close()


@pytest.fixture(autouse=True)
def _isolated_storage(tmp_path, settings):
    """Every test gets its own storage and temp directories."""
    storage = tmp_path / "storage"
    tmp = tmp_path / "tmp"
    storage.mkdir()
    tmp.mkdir()
    settings.ARENA_STORAGE = storage
    settings.ARENA_TMP_DIR = tmp
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(storage)}},
    }
    # Lineage indexing after ingest is on by default; tests that exercise it switch it on themselves.
    settings.ARENA_AFTER_INGEST_HOOKS = []
    yield storage  # Django's setting_changed handler rebuilds default_storage


@pytest.fixture
def user(db):
    return get_user_model().objects.create_user("alice", password="pw-alice-123")


@pytest.fixture
def other_user(db):
    return get_user_model().objects.create_user("bob", password="pw-bob-123")


@pytest.fixture
def make_upload():
    """A file-like upload with a name, as the services receive it."""

    def _make(content: bytes | str, name: str = "data.jsonl"):
        data = content.encode() if isinstance(content, str) else content
        handle = io.BytesIO(data)
        handle.name = name
        return handle

    return _make


@pytest.fixture
def celery_worker(_isolated_storage, tmp_path, settings):
    """Factory: ``celery_worker(queues=[...])`` starts a real worker on Redis; all are stopped at teardown.

    Also points this process's Celery app at the same broker, so ``.delay()`` really enqueues.
    Tests using it need ``@pytest.mark.django_db(transaction=True)`` so the worker sees committed rows.
    """
    from arena.celery import app
    from tests.celery_worker import WorkerProcess, broker_url, flush_broker, worker_env

    flush_broker()
    previous = {
        "broker_url": app.conf.broker_url,
        "result_backend": app.conf.result_backend,
        "task_always_eager": app.conf.task_always_eager,
    }
    settings.CELERY_TASK_ALWAYS_EAGER = False
    app.conf.update(broker_url=broker_url(), result_backend=broker_url(), task_always_eager=False)
    _reset_connections(app)
    workers: list = []

    def start(*, queues: list[str], extra_args: list[str] | None = None, env: dict | None = None):
        env = {**worker_env(storage_dir=str(_isolated_storage), tmp_dir=str(tmp_path / "tmp")), **(env or {})}
        worker = WorkerProcess(
            queues=queues, env=env, log_path=tmp_path / f"worker-{len(workers)}.log", extra_args=extra_args or []
        )
        workers.append(worker)
        return worker.start()

    yield start
    for worker in workers:
        worker.stop()
    app.conf.update(**previous)
    _reset_connections(app)
    flush_broker()


def _reset_connections(app) -> None:
    """Drop cached broker connections and result backend so the next call uses the current settings."""
    from kombu import pools

    pools.reset()  # kombu caches pools per broker URL, globally
    app._pool = None
    app.amqp._producer_pool = None  # as Celery itself does after a fork
    app._backend_cache = None
    app._local.__dict__.pop("backend", None)


@pytest.fixture(autouse=True)
def _autocommit_outside_the_codes_own_atomic_blocks(monkeypatch):
    """pytest-django runs a non-transactional test inside atomic blocks that are never committed. Code that opens
    no atomic block of its own runs in autocommit mode in production, where ``transaction.on_commit`` (and so
    ``arena.queueing.enqueue_on_commit``) runs the callback at once; keep exactly that here: a callback registered
    while only the test case's own blocks are open runs at once (Django itself ignores test-case blocks the same
    way for ``durable`` atomics). Inside the code's own atomic blocks callbacks still wait for a commit (tests of
    that use ``transaction=True`` or ``django_capture_on_commit_callbacks``)."""
    from django.db.backends.base.base import BaseDatabaseWrapper

    original = BaseDatabaseWrapper.on_commit

    def on_commit(self, func, robust=False):
        if self.atomic_blocks and all(getattr(block, "_from_testcase", False) for block in self.atomic_blocks):
            return func()
        return original(self, func, robust=robust)

    monkeypatch.setattr(BaseDatabaseWrapper, "on_commit", on_commit)
