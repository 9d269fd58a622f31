"""Leases and the sweeper, without workers: who may claim a row, and what the sweeper re-queues (and what not)."""
from __future__ import annotations

import json
from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from arena.leases import lease_claim, lease_held
from arena.models import Dataset
from arena.sweeps import DATASET_ACTIVE, sweep_stale_work
from tests.factories import ready_dataset

pytestmark = pytest.mark.django_db


def _dataset(user, **fields) -> Dataset:
    name = f"d{Dataset.objects.count()}"
    content = "".join(json.dumps({"instruction": f"{name} q{i}", "output": f"a{i}"}) + "\n" for i in range(5))
    dataset = ready_dataset(owner=user, name=name, content=content)
    Dataset.objects.filter(pk=dataset.pk).update(**fields)
    dataset.refresh_from_db()
    return dataset


def test_a_fresh_lease_cannot_be_taken_an_expired_one_can(user, settings):
    settings.ARENA_LEASE_SECONDS = 60
    dataset = _dataset(user, status="ingesting")
    assert lease_claim(model=Dataset, pk=dataset.pk, worker="w1", active=DATASET_ACTIVE)
    assert not lease_claim(model=Dataset, pk=dataset.pk, worker="w2", active=DATASET_ACTIVE)
    assert lease_claim(model=Dataset, pk=dataset.pk, worker="w1", active=DATASET_ACTIVE)  # its own holder may
    Dataset.objects.filter(pk=dataset.pk).update(heartbeat_at=timezone.now() - timedelta(seconds=61))
    assert lease_claim(model=Dataset, pk=dataset.pk, worker="w2", active=DATASET_ACTIVE)
    Dataset.objects.filter(pk=dataset.pk).update(status="ready", heartbeat_at=None)
    assert not lease_claim(model=Dataset, pk=dataset.pk, worker="w3", active=DATASET_ACTIVE)  # finished: no


def test_lease_held_releases_and_skips_when_taken(user):
    dataset = _dataset(user, status="uploaded")
    with lease_held(model=Dataset, pk=dataset.pk, active=DATASET_ACTIVE) as held:
        assert held
        dataset.refresh_from_db()
        assert dataset.worker and dataset.heartbeat_at
        with lease_held(model=Dataset, pk=dataset.pk, active=DATASET_ACTIVE) as second:
            assert second  # the same process (a retry) may re-enter
    dataset.refresh_from_db()
    assert dataset.heartbeat_at is None and dataset.worker  # released; who ran it is kept
    Dataset.objects.filter(pk=dataset.pk).update(worker="someone else", heartbeat_at=timezone.now())
    with lease_held(model=Dataset, pk=dataset.pk, active=DATASET_ACTIVE) as held:
        assert not held


def test_sweeper_requeues_only_stale_active_work_once(user, settings, django_capture_on_commit_callbacks):
    settings.ARENA_LEASE_SECONDS = 60
    old = timezone.now() - timedelta(seconds=120)
    stale = _dataset(user, status="ingesting", worker="dead", heartbeat_at=old, progress=0.4)
    fresh = _dataset(user, status="ingesting", worker="alive", heartbeat_at=timezone.now())
    finished = _dataset(user, worker="gone", heartbeat_at=old)  # ready: never re-queued
    queued = _dataset(user, status="uploaded")  # waiting in the broker: the broker's business, not the sweeper's
    with mock.patch("arena.tasks.dataset_ingest_task.delay") as delay:
        delay.return_value.id = "task-1"
        with django_capture_on_commit_callbacks(execute=True):
            with_commit = sweep_stale_work()
            again = sweep_stale_work()
    delay.assert_called_once_with(stale.pk)
    assert with_commit["arena.sweeps.datasets_sweep"]["requeued"] == 1
    assert again["arena.sweeps.datasets_sweep"]["requeued"] == 0  # idempotent: the reset row is not stale
    stale.refresh_from_db()
    assert stale.status == "uploaded" and stale.progress == 0 and stale.heartbeat_at is None
    for other, status in ((fresh, "ingesting"), (finished, "ready"), (queued, "uploaded")):
        other.refresh_from_db()
        assert other.status == status
