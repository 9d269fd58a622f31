"""Arena: measure the value of post-training datasets.

The package is both the Django project (settings, urls, celery app) and the
dataset registry app (models, ingest, services, selectors, API).
"""
from arena.celery import app as celery_app

__all__ = ["celery_app"]
