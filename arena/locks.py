"""Serialise racing writers on one key with a PostgreSQL transaction-level advisory lock."""
from __future__ import annotations

import hashlib

from django.db import connection


def advisory_xact_lock(*, namespace: str, key: str) -> None:
    """Block until no other transaction holds the lock on (namespace, key); released at commit or rollback.

    Must run inside ``transaction.atomic()``. Two uploads of the same file, or two ingests with the same
    content, take the same lock, so the check-then-insert between them cannot interleave.
    """
    if connection.vendor != "postgresql":
        # The embedded SQLite demo: SQLite lets one writer at a time hold the database, so writes are serialised
        # already; advisory locks are a PostgreSQL feature.
        return
    digest = hashlib.sha256(f"{namespace}:{key}".encode()).digest()
    lock_id = int.from_bytes(digest[:8], "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [lock_id])
