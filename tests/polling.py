"""Waiting for work done by another process (a Celery worker) in integration tests."""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(
    fetch: Callable[[], T],
    done: Callable[[T], bool],
    *,
    timeout: float,
    interval: float = 0.1,
    describe: Callable[[T], str] = repr,
) -> T:
    """Call ``fetch`` until ``done(value)``; fail with ``describe(value)`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    value = fetch()
    while not done(value):
        if time.monotonic() > deadline:
            raise AssertionError(f"not done after {timeout}s: {describe(value)}")
        time.sleep(interval)
        value = fetch()
    return value
