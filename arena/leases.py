"""Leases on long work: which worker holds a row (a dataset ingest, a scoring chunk, a training job) and when it
last proved it was alive.

A worker *claims* a row before working on it: the claim succeeds only if nobody holds it, or the holder's
heartbeat is older than the lease (``ARENA_LEASE_SECONDS``), so two workers never run the same work. While the
work runs, a background thread renews the heartbeat every ``ARENA_HEARTBEAT_SECONDS``; a worker that dies as a
whole (SIGKILL, machine loss) stops renewing, and the sweeper (``arena.sweeps``) re-queues the work once the
lease has expired. Models taking part have two fields: ``worker`` (who) and ``heartbeat_at`` (when; null = not
held).
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection
from django.db.models import Model, Q
from django.utils import timezone

logger = logging.getLogger(__name__)

_INCARNATION = uuid.uuid4().hex[:8]  # tells a restarted process with a reused pid from its dead predecessor


def worker_identity() -> str:
    """``<celery node or host> pid <pid> <random>``: unique per process lifetime, readable by an operator."""
    node = ""
    try:
        from celery import current_task

        if current_task and current_task.request and current_task.request.hostname:
            node = current_task.request.hostname
    except Exception:  # pragma: no cover - outside Celery
        node = ""
    return f"{node or socket.gethostname()} pid {os.getpid()} {_INCARNATION}"[:200]


def lease_cutoff(*, now: datetime | None = None) -> datetime:
    """Heartbeats older than this belong to dead workers."""
    return (now or timezone.now()) - timedelta(seconds=settings.ARENA_LEASE_SECONDS)


def lease_claim(*, model: type[Model], pk: int, worker: str, active: Q | None = None) -> bool:
    """Atomically take the lease on row ``pk`` if it is free or expired (and, with ``active``, still active)."""
    now = timezone.now()
    free = Q(heartbeat_at__isnull=True) | Q(heartbeat_at__lt=lease_cutoff(now=now)) | Q(worker=worker)
    queryset = model.objects.filter(free, pk=pk)
    if active is not None:
        queryset = queryset.filter(active)
    return queryset.update(worker=worker, heartbeat_at=now) == 1


def lease_renew(*, model: type[Model], pk: int, worker: str) -> bool:
    """Record a heartbeat; False if the lease was lost (re-queued by the sweeper after a long stall)."""
    return model.objects.filter(pk=pk, worker=worker).update(heartbeat_at=timezone.now()) == 1


def lease_release(*, model: type[Model], pk: int, worker: str) -> None:
    """Give the lease back (the worker name stays as a record of who last ran the work)."""
    model.objects.filter(pk=pk, worker=worker).update(heartbeat_at=None)


class _Heartbeat(threading.Thread):
    def __init__(self, *, model: type[Model], pk: int, worker: str, interval: float) -> None:
        super().__init__(name=f"heartbeat-{model._meta.label}-{pk}", daemon=True)
        self.model, self.pk, self.worker, self.interval = model, pk, worker, interval
        self.stopped = threading.Event()

    def run(self) -> None:
        try:
            while not self.stopped.wait(self.interval):
                try:
                    close_old_connections()
                    if not lease_renew(model=self.model, pk=self.pk, worker=self.worker):
                        logger.warning("%s %s: lease lost to another worker", self.model._meta.label, self.pk)
                        return
                except DatabaseError as exc:  # the database is briefly gone: try again at the next beat
                    logger.warning("heartbeat of %s %s failed: %s", self.model._meta.label, self.pk, exc)
                    connection.close()
        finally:
            connection.close()  # this thread's own connection


@contextmanager
def lease_held(*, model: type[Model], pk: int, active: Q | None = None) -> Iterator[bool]:
    """Claim the lease on a row and keep it alive while the block runs; yields False if a live worker holds it."""
    worker = worker_identity()
    if not lease_claim(model=model, pk=pk, worker=worker, active=active):
        yield False
        return
    beat = _Heartbeat(model=model, pk=pk, worker=worker, interval=settings.ARENA_HEARTBEAT_SECONDS)
    beat.start()
    try:
        yield True
    finally:
        beat.stopped.set()
        beat.join(timeout=5)
        try:
            lease_release(model=model, pk=pk, worker=worker)
        except DatabaseError as exc:  # the lease then simply expires
            logger.warning("could not release the lease on %s %s: %s", model._meta.label, pk, exc)


def lease_expired(*, now: datetime | None = None) -> Q:
    """Rows whose holder stopped beating (to be combined with each model's "still active" condition)."""
    return Q(heartbeat_at__lt=lease_cutoff(now=now))
