"""Arena: measure the value of post-training datasets.

The package is both the Django project (settings, urls, celery app) and the
dataset registry app (models, ingest, services, selectors, API).

Nothing is imported here on purpose: ``arena.client`` (the HTTP-only CLI) must load without Django or Celery.
Django processes load the Celery app in ``ArenaConfig.ready()``; ``celery -A arena`` finds ``arena.celery.app``.
"""
