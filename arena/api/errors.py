"""Turn service errors into clear JSON responses: ``{"error": "...", "code": "..."}``."""
from __future__ import annotations

from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from arena.errors import ArenaError
from arena.ingest.errors import IngestError
from arena.middleware import bad_input_message


def exception_handler(exc, context):
    response = _error_response(exc, context)
    request = context.get("request")
    renderer = getattr(request, "accepted_renderer", None)
    if response is not None and renderer is not None and renderer.format not in ("json", "api"):
        # An error is always the {"error", "code"} JSON, even where the answer would have been CSV or a file.
        request.accepted_renderer, request.accepted_media_type = JSONRenderer(), JSONRenderer.media_type
    return response


def _error_response(exc, context):
    if isinstance(exc, ArenaError):
        return Response({"error": exc.message, "code": exc.code}, status=exc.status_code)
    if isinstance(exc, IngestError):
        return Response({"error": str(exc), "code": "invalid_file"}, status=400)
    message = bad_input_message(exc)  # NUL refused by PostgreSQL, lone surrogates, deep nesting: bad input, not a crash
    if message is not None:
        return Response({"error": message, "code": "invalid"}, status=400)
    response = drf_exception_handler(exc, context)
    if response is not None and not (isinstance(response.data, dict) and "error" in response.data):
        # DRF's own errors (validation, auth, throttling, ...) get the same {"error", "code"} keys, kept additive.
        details = response.data if isinstance(response.data, dict) else {"errors": response.data}
        response.data = {"error": _flatten(response.data), "code": getattr(exc, "default_code", "error"), **details}
    return response


def _flatten(data, prefix: str = "") -> str:
    """One readable line from DRF's nested error detail: ``file: No file was submitted.; name: ...``."""
    if isinstance(data, dict):
        if set(data) == {"detail"}:
            return _flatten(data["detail"], prefix)
        return "; ".join(_flatten(value, f"{prefix}{key}: " if key != "non_field_errors" else prefix) for key, value in data.items())
    if isinstance(data, list):
        return "; ".join(_flatten(item, prefix) for item in data) if data else prefix.rstrip(": ")
    return f"{prefix}{data}"


def not_found(request, exception=None):
    """``handler404``: an unknown URL under /api/ (or a path parameter its converter refuses) answers with the
    same ``{"error", "code"}`` JSON as every other API error; pages keep Django's HTML 404."""
    from django.http import JsonResponse
    from django.views.defaults import page_not_found

    if request.path.startswith("/api/"):
        return JsonResponse({"error": f"no API endpoint or object at {request.path}", "code": "not_found"}, status=404)
    return page_not_found(request, exception)
