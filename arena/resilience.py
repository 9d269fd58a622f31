"""Transient infrastructure errors: a database or broker that is briefly unreachable.

Every long-work task (ingest, scoring chunk, training job) derives from :class:`ResilientTask`:

- an unreachable database or broker inside the task is retried with exponential backoff (1 s, 2 s, 4 s, ... at
  most ``ARENA_INFRA_RETRY_MAX_DELAY`` apart) up to ``ARENA_INFRA_RETRIES`` times; meanwhile the object shows
  ``waiting for the database (attempt 3 of 10, next in 4 s): <error>``, then after the cap it is failed with a
  clear error;
- a web process that cannot reach the broker to *send* the task records ``waiting for the broker`` on the object
  (in the database) instead of failing the request, and the sweeper sends it when the broker is back.

A worker cut off from the database cannot write to it, so its notes go to the shared cache (Redis in production)
keyed by the object; :func:`waiting_message` shows a row's note, from the database or the cache.
"""
from __future__ import annotations

import logging
import uuid

import kombu.exceptions
import redis.exceptions
from celery import Task
from celery.result import AsyncResult
from django.apps import apps
from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, InterfaceError, OperationalError
from django.db.models import Model
from django.utils import timezone

logger = logging.getLogger(__name__)

DATABASE_ERRORS = (OperationalError, InterfaceError)
BROKER_ERRORS = (kombu.exceptions.OperationalError, redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)
TRANSIENT_INFRA_ERRORS = DATABASE_ERRORS + BROKER_ERRORS
BROKER_WAIT_PREFIX = "waiting for the broker"
NOTE_TTL_S = 7 * 24 * 3600


def _what(exc: BaseException) -> str:
    return "the database" if isinstance(exc, DATABASE_ERRORS) else "the broker"


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}"[:200]


def _note_key(label: str, pk) -> str:
    return f"arena:waiting:{label.lower()}:{pk}"


def note_set(*, label: str, pk, message: str, failed: bool = False) -> None:
    """Publish a worker's note about a row through the shared cache (best effort: never raises)."""
    try:
        cache.set(_note_key(label, pk), {"message": message, "failed": failed, "at": timezone.now().isoformat()},
                  NOTE_TTL_S)
    except Exception as exc:  # the cache is the broker's Redis: it may be gone too
        logger.warning("could not publish the note %r on %s %s: %s", message, label, pk, exc)


def note_get(*, label: str, pk) -> dict | None:
    try:
        return cache.get(_note_key(label, pk))
    except Exception:
        return None


def note_clear(*, label: str, pk) -> None:
    try:
        cache.delete(_note_key(label, pk))
    except Exception:
        pass


def waiting_message(obj: Model) -> str:
    """What an active row is waiting for: the broker (recorded in the row) or the database (a worker's note)."""
    if getattr(obj, "waiting", ""):
        return obj.waiting
    note = note_get(label=obj._meta.label, pk=obj.pk)
    return note["message"] if note else ""


def row_mark_waiting_for_broker(*, model: type[Model], pk, exc: BaseException) -> None:
    model.objects.filter(pk=pk).update(
        waiting=f"{BROKER_WAIT_PREFIX} since {timezone.now():%Y-%m-%d %H:%M:%S} UTC: {_short(exc)}"[:300]
    )


class ResilientTask(Task):
    """Base of tasks whose first argument is the pk of ``subject`` (a model label, e.g. "arena.Dataset")."""

    abstract = True
    subject = ""
    #: dotted path of ``fail(*, pk, message)``: records a failure on the subject after the retries ran out
    fail_path = ""
    acks_late = True
    reject_on_worker_lost = True
    autoretry_for = TRANSIENT_INFRA_ERRORS
    retry_backoff = 1
    retry_jitter = False

    @property
    def max_retries(self) -> int:  # read at each retry, so settings/env changes apply
        return settings.ARENA_INFRA_RETRIES

    @property
    def retry_backoff_max(self) -> int:
        return settings.ARENA_INFRA_RETRY_MAX_DELAY

    def _model(self) -> type[Model]:
        return apps.get_model(self.subject)

    def apply_async(self, args=None, kwargs=None, task_id=None, **options):
        """Send the task; if the broker is unreachable, record "waiting for the broker" on the row instead of
        raising, and let the sweeper send it later (the returned result carries the id the task will get)."""
        try:
            return super().apply_async(args=args, kwargs=kwargs, task_id=task_id, **options)
        except BROKER_ERRORS as exc:
            if not self.subject or not args or self.app.conf.task_always_eager:
                raise
            logger.warning("%s(%s): broker unreachable, the sweeper will send it: %s", self.name, args, exc)
            row_mark_waiting_for_broker(model=self._model(), pk=args[0], exc=exc)
            return AsyncResult(task_id or str(uuid.uuid4()), app=self.app)

    def on_retry(self, exc, task_id, args, kwargs, einfo) -> None:
        if not self.subject or not args:
            return
        attempt = self.request.retries + 1
        message = f"waiting for {_what(exc)} (attempt {attempt} of {self.max_retries}): {_short(exc)}"
        logger.warning("%s %s: %s", self.subject, args[0], message)
        note_set(label=self.subject, pk=args[0], message=message)

    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:
        if not self.subject or not args or not isinstance(exc, TRANSIENT_INFRA_ERRORS):
            return
        message = (
            f"{_what(exc)} stayed unreachable through {self.max_retries} retries (ARENA_INFRA_RETRIES); "
            f"giving up: {_short(exc)}"
        )
        logger.error("%s %s: %s", self.subject, args[0], message)
        note_set(label=self.subject, pk=args[0], message=message, failed=True)
        try:
            failed_apply(model=self._model(), fail_path=self.fail_path, pk=args[0], message=message)
        except DatabaseError:
            pass  # still unreachable: the sweeper applies the failure from the note once it can

    def on_success(self, retval, task_id, args, kwargs) -> None:
        if self.subject and args:
            note_clear(label=self.subject, pk=args[0])


def failed_apply(*, model: type[Model], fail_path: str, pk, message: str) -> None:
    from django.utils.module_loading import import_string

    import_string(fail_path)(pk=pk, message=message)
    note_clear(label=model._meta.label, pk=pk)


def notes_apply_failures(*, model: type[Model], fail_path: str, pks) -> int:
    """Rows whose task gave up while the database was unreachable: record the failure now that it is back."""
    applied = 0
    for pk in pks:
        note = note_get(label=model._meta.label, pk=pk)
        if note and note.get("failed"):
            failed_apply(model=model, fail_path=fail_path, pk=pk, message=note["message"])
            applied += 1
    return applied
