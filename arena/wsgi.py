import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "arena.settings")
application = get_wsgi_application()

# Load every URL module now (they register the Dash apps, which is slow): with `gunicorn --preload` this happens
# once, before forking, instead of inside each worker's first request (where it can exceed the worker timeout).
from django.urls import get_resolver  # noqa: E402

get_resolver().url_patterns
