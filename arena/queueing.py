"""The one way Arena sends a Celery task: after the current transaction commits.

A worker on another machine must always find the rows a task is about: a task sent from inside a transaction
(an outer ``atomic`` block of a caller, a view under ``ATOMIC_REQUESTS``, a test) could reach a worker before the
commit, or for a row that is then rolled back. ``enqueue_on_commit`` defers the send with
``transaction.on_commit``; outside any transaction it sends at once.

Services import their tasks inside the function that enqueues, and tasks import services inside their bodies,
so no ``services <-> tasks`` import circle exists.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.db import transaction


def enqueue_on_commit(*, task: Any, args: Sequence[Any] = (), on_sent: Callable[[str], None] | None = None) -> None:
    """Send ``task.delay(*args)`` once the current transaction commits; ``on_sent(task_id)`` runs right after the
    send (e.g. to record the task id on the row)."""
    values = tuple(args)

    def send() -> None:
        result = task.delay(*values)
        if on_sent is not None:
            on_sent(result.id or "")

    transaction.on_commit(send)
