"""Turn service errors into clear JSON responses: ``{"error": "...", "code": "..."}``."""
from __future__ import annotations

from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from arena.errors import ArenaError
from arena.ingest.errors import IngestError


def exception_handler(exc, context):
    if isinstance(exc, ArenaError):
        return Response({"error": exc.message, "code": exc.code}, status=exc.status_code)
    if isinstance(exc, IngestError):
        return Response({"error": str(exc), "code": "invalid_file"}, status=400)
    return drf_exception_handler(exc, context)
