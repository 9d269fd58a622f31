"""Property-based run of every operation in /api/schema/ (schemathesis, in-process WSGI): never a 5xx.

Runs as an authenticated user (DRF token) against seeded data, so writes reach the services rather than
stopping at 401. The only check is ``not_a_server_error``: 4xx answers to generated nonsense are expected.
"""

from __future__ import annotations

import io
import json

import pytest
import schemathesis
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck
from hypothesis import settings as hyp_settings
from tests.factories import api_token_key
from schemathesis.checks import not_a_server_error

from arena.services import dataset_register


@pytest.fixture
def _connections_kept_open():
    """As Django's test client does: the WSGI app must not close the connection holding the test transaction."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def token(user, _connections_kept_open) -> str:
    rows = [{"instruction": f"q{i}", "input": "", "output": f"a{i}"} for i in range(5)]
    upload = io.BytesIO("".join(json.dumps(r) + "\n" for r in rows).encode())
    dataset_register(owner=user, upload=upload, filename="seed.jsonl", name="seed", ingest_now=True)
    return api_token_key(user)


def _load_schema():
    from arena.wsgi import application

    return schemathesis.openapi.from_wsgi("/api/schema/", application)  # generating the schema needs no database


schema = _load_schema()


@pytest.mark.django_db
@schema.parametrize()
@hyp_settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_operation_answers_with_a_server_error(case, token):
    cache.clear()  # keep the upload throttle from turning every later case into a 429
    case.call_and_validate(headers={"Authorization": f"Token {token}"}, checks=[not_a_server_error])
