"""Deployment checks (``manage.py check --deploy``) for what Django's own checks do not know about Arena."""
from __future__ import annotations

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def shared_cache_check(app_configs, **kwargs):
    backend = settings.CACHES["default"]["BACKEND"]
    if backend.endswith(("locmem.LocMemCache", "dummy.DummyCache")):
        return [Warning(
            "the default cache is local to each process: login/upload/launch rate limits are counted per gunicorn "
            "process and workers' 'waiting for ...' notes are invisible to the web",
            hint="set REDIS_CACHE_URL (e.g. redis://redis:6379/2) or ARENA_CACHE=database",
            id="arena.W001",
        )]
    return []


@register(Tags.security, deploy=True)
def broker_check(app_configs, **kwargs):
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return [Warning(
            "Celery runs tasks inside the web process (no CELERY_BROKER_URL): long work blocks requests and "
            "nothing recovers it after a crash",
            hint="set CELERY_BROKER_URL and run workers for the ingest, scoring and gpu queues plus celery beat",
            id="arena.W002",
        )]
    return []
