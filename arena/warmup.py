"""Start-up of a web process: load what every request needs once, then keep it out of the garbage collector's way.

Called by ``gunicorn.conf.py`` (gunicorn reads it from the working directory by default): in the master after
``--preload`` loaded the app (``when_ready``, so every worker inherits the result by fork), else in each worker
after it loaded the app (``post_worker_init``).

* ``warm_up()`` imports the root URLconf and every view and Dash app it names (Django does it lazily on the
  first request otherwise), without touching the database. Nothing here imports torch or transformers: model
  code is imported by the function that needs it (see ``tests/test_web_imports.py``).
* ``freeze()`` runs a full collection, then ``gc.freeze()``: the ~10^6 long-lived objects of the loaded app
  (modules, functions, Dash layouts, URL patterns) move to the permanent generation, so a full collection during
  a request scans only what requests made (without it a full pass took ~190 ms at the 1,000-dataset board and
  set the API's p95), and forked workers do not copy pages just by the collector touching reference counts.
"""
from __future__ import annotations

import gc
import time


def warm_up() -> float:
    """Load the URL routes and their views; returns the seconds it took."""
    started = time.perf_counter()
    from django.db import connections
    from django.urls import get_resolver

    resolver = get_resolver()
    resolver.url_patterns  # noqa: B018 - imports every view module the routes name
    resolver._populate()
    connections.close_all()  # nothing above queries; a forked worker must never share its parent's connection
    return time.perf_counter() - started


def freeze() -> int:
    """Collect once, then move every surviving object to the permanent generation; returns how many."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
