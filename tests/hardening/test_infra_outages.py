"""Database or broker briefly unreachable: work waits (and says so), resumes when it is back, fails clearly after
the retry cap, and is never silently discarded.

The worker reaches PostgreSQL through a TCP proxy that the test keeps closed (connection refused), then opens.
"""
from __future__ import annotations

import json
import secrets

import pytest
from django.db import connection
from rest_framework.test import APIClient

from arena.celery import app
from arena.models import Dataset
from arena.services import dataset_register
from arena.sweeps import sweep_stale_work
from tests.celery_worker import broker_url
from tests.polling import wait_until
from tests.tcp_proxy import TcpProxy

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.integration]

RECORDS = 50


@pytest.fixture
def shared_cache(settings):
    """This process and the workers share one Redis cache, as gunicorn and workers do in production."""
    url = broker_url()
    prefix = f"infra-{secrets.token_hex(4)}"
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url,
                                   "KEY_PREFIX": prefix}}
    return {"REDIS_CACHE_URL": url, "ARENA_CACHE_PREFIX": prefix}


def _content(tag: str) -> str:
    return "".join(json.dumps({"instruction": f"{tag} q{i}", "input": "", "output": f"a{i}"}) + "\n"
                   for i in range(RECORDS))


def _api_view(dataset: Dataset) -> dict:
    return APIClient().get(f"/api/v1/datasets/{dataset.slug}/").json()


def _poll(dataset: Dataset, done, *, timeout: float, what: str, worker=None) -> dict:
    return wait_until(lambda: _api_view(dataset), done, timeout=timeout, interval=0.2,
                      describe=lambda v: f"{what}: {v.get('status')} {v.get('waiting')!r} {v.get('error')!r}\n"
                      + (worker.log() if worker else ""))


def _database_through(proxy: TcpProxy) -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER'] or 'postgres'}@127.0.0.1:{proxy.port}/{db['NAME']}"


def test_worker_waits_for_the_database_then_finishes(celery_worker, user, make_upload, shared_cache):
    proxy = TcpProxy(target_port=int(connection.settings_dict["PORT"] or 5432))  # closed: connection refused
    worker = celery_worker(queues=["ingest"], env={
        **shared_cache, "DATABASE_URL": _database_through(proxy), "ARENA_INFRA_RETRIES": "30",
        "ARENA_INFRA_RETRY_MAX_DELAY": "2"})
    try:
        dataset = dataset_register(owner=user, upload=make_upload(_content("db")), filename="d.jsonl", name="Wait")
        waiting = _poll(dataset, lambda v: v["waiting"].startswith("waiting for the database"), timeout=60,
                        what="waiting note", worker=worker)
        assert waiting["status"] == "uploaded" and "attempt" in waiting["waiting"]
        assert "OperationalError" in waiting["waiting"]  # the reason, for an operator
        proxy.open()
        done = _poll(dataset, lambda v: v["status"] in ("ready", "failed"), timeout=90, what="after reopening",
                     worker=worker)
    finally:
        proxy.close()
    assert done["status"] == "ready", done["error"]
    assert done["sample_count"] == RECORDS and done["waiting"] == "" and done["error"] == ""


def test_gives_up_after_the_cap_with_a_clear_error(celery_worker, user, make_upload, shared_cache, settings):
    proxy = TcpProxy(target_port=int(connection.settings_dict["PORT"] or 5432))  # never opened
    worker = celery_worker(queues=["ingest"], env={
        **shared_cache, "DATABASE_URL": _database_through(proxy), "ARENA_INFRA_RETRIES": "2",
        "ARENA_INFRA_RETRY_MAX_DELAY": "1"})
    dataset = dataset_register(owner=user, upload=make_upload(_content("cap")), filename="d.jsonl", name="Cap")
    gave_up = _poll(dataset, lambda v: "giving up" in v["waiting"], timeout=60, what="give-up note", worker=worker)
    assert "the database stayed unreachable through 2 retries" in gave_up["waiting"]
    assert gave_up["status"] == "uploaded"  # the worker could not write it; the sweeper records it
    settings.ARENA_LEASE_SECONDS = 0
    sweep_stale_work()
    failed = _api_view(dataset)
    assert failed["status"] == "failed" and failed["waiting"] == ""
    assert failed["error"].startswith("the database stayed unreachable through 2 retries (ARENA_INFRA_RETRIES)")
    assert Dataset.objects.get(pk=dataset.pk).raw_file == ""  # nothing left behind


def _use_broker(url: str) -> None:
    from kombu import pools

    app.conf.broker_url = url
    pools.reset()
    app._pool = None
    app.amqp._producer_pool = None


def test_unreachable_broker_at_upload_is_recorded_and_sent_later(celery_worker, user, make_upload, settings):
    closed = TcpProxy(target_port=6379)
    _use_broker(f"redis://127.0.0.1:{closed.port}/0")
    try:
        dataset = dataset_register(owner=user, upload=make_upload(_content("broker")), filename="d.jsonl",
                                   name="Broker")
    finally:
        _use_broker(broker_url())
    view = _api_view(dataset)
    assert view["status"] == "uploaded" and view["waiting"].startswith("waiting for the broker since")
    worker = celery_worker(queues=["ingest"])
    report = sweep_stale_work()
    assert report["arena.sweeps.datasets_sweep"]["sent"] == 1
    done = _poll(dataset, lambda v: v["status"] in ("ready", "failed"), timeout=90, what="sent by the sweeper",
                 worker=worker)
    assert done["status"] == "ready" and done["sample_count"] == RECORDS and done["waiting"] == ""
