"""What /api/schema/ says about every operation beyond its success body, written once for all apps.

* ``ErrorSerializer``: the ``{"error", "code"}`` body every error answer carries (``arena.api.errors``), one
  component (``Error``) referenced by every documented 4xx.
* ``ArenaAutoSchema`` (``DEFAULT_SCHEMA_CLASS``) documents the error statuses an operation can return, by rules
  that follow from how the API is built (see ``_ERROR_RULES``), plus the ones a view names with
  ``@error_statuses(...)``.
* ``paginated(Serializer)`` + ``PAGE_PARAMETERS``: the ``{count, next, previous, results}`` envelope and the
  ``limit``/``offset`` parameters of a list paginated with ``LimitOffsetPagination`` inside an ``APIView``.
* ``postprocess_blank_urls``: a blank-able ``URLField`` becomes ``oneOf: [uri (non-empty), ""]`` with its default
  outside the branches, so ``""`` matches exactly one branch and the default validates.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

ERROR_DESCRIPTIONS = {
    400: "Bad input: the message says which field or parameter and why.",
    401: "Missing, invalid, expired or revoked credentials where they are needed.",
    403: "Authenticated but not allowed (not the owner, not staff, or no CSRF token for a session).",
    404: "No such object, or one the requester may not see.",
    409: "The object is not in a state that allows this (e.g. not ready, already running).",
    413: "The upload or request body is larger than the configured limit.",
    415: "Unsupported request media type.",
    422: "The upload was recorded but could not be ingested (the dataset is failed; see its error).",
    429: "Rate limit reached; retry after the time given in the Retry-After header.",
}

_UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


class ErrorSerializer(serializers.Serializer):
    """Every error answer: one readable sentence and a machine code; DRF validation errors add their fields."""

    error = serializers.CharField(help_text="one readable sentence: what was wrong and what to do")
    code = serializers.CharField(help_text="machine-readable code, e.g. invalid, not_found, conflict, throttled")


def error_statuses(*codes: int) -> Callable:
    """Document error statuses a view method returns beyond those the rules in ``ArenaAutoSchema`` derive."""
    unknown = set(codes) - set(ERROR_DESCRIPTIONS)
    if unknown:
        raise ValueError(f"no description for status(es) {sorted(unknown)}")

    def decorate(method):
        method.arena_error_statuses = tuple(sorted(set(getattr(method, "arena_error_statuses", ())) | set(codes)))
        return method

    return decorate


PAGE_PARAMETERS = [
    OpenApiParameter("limit", int, description="number of results to return per page"),
    OpenApiParameter("offset", int, description="the initial index from which to return the results"),
]


@lru_cache(maxsize=None)
def paginated(item_serializer: type[serializers.BaseSerializer] | None) -> type[serializers.Serializer]:
    """The ``LimitOffsetPagination`` envelope around ``item_serializer`` (one component per item serializer;
    ``None``: results are free-form objects)."""
    base = item_serializer.__name__.removesuffix("Serializer") if item_serializer else "Object"
    results = item_serializer(many=True) if item_serializer else serializers.ListField(child=serializers.DictField())
    return type(
        f"Paginated{base}ListSerializer",
        (serializers.Serializer,),
        {
            "__module__": __name__,
            "__doc__": f"One page of {base} objects (limit/offset pagination).",
            "is_page_envelope": True,
            "count": serializers.IntegerField(help_text="total number of results"),
            "next": serializers.URLField(allow_null=True, help_text="the next page, or null on the last page"),
            "previous": serializers.URLField(allow_null=True, help_text="the previous page, or null on the first"),
            "results": results,
        },
    )


# GET /api/v1/lineage/export/ answers a JSON array of OpenLineage run events (lineage/openlineage.py).
OPENLINEAGE_EVENTS_SCHEMA = {
    "type": "array",
    "description": "OpenLineage run events, each valid against https://openlineage.io/spec/2-0-2/OpenLineage.json",
    "items": {
        "type": "object",
        "properties": {
            "eventType": {"type": "string", "enum": ["START", "RUNNING", "COMPLETE", "ABORT", "FAIL", "OTHER"]},
            "eventTime": {"type": "string", "format": "date-time"},
            "producer": {"type": "string", "format": "uri"},
            "schemaURL": {"type": "string", "format": "uri"},
            "run": {"type": "object"},
            "job": {"type": "object"},
            "inputs": {"type": "array", "items": {"type": "object"}},
            "outputs": {"type": "array", "items": {"type": "object"}},
        },
        "required": ["eventTime", "producer", "schemaURL", "run", "job"],
    },
}


def _has_throttles(view) -> bool:
    try:
        return bool(view.get_throttles())
    except Exception:  # a view whose throttles depend on request data: document the limit rather than guess
        return True


def _admin_only(view) -> bool:
    from rest_framework.permissions import IsAdminUser

    try:
        return any(isinstance(p, IsAdminUser) for p in view.get_permissions())
    except Exception:
        return False


def _model_field(field):
    model = getattr(getattr(field.parent, "Meta", None), "model", None)
    if model is None or "." in (field.source or ""):
        return None
    try:
        return model._meta.get_field(field.source)
    except Exception:  # not a model field (a property, an annotation): nothing to say
        return None


def _nullable_model_field(field) -> bool:
    return bool(getattr(_model_field(field), "null", False))


def _blank_model_field(field) -> bool:
    return bool(getattr(field, "allow_blank", False) or getattr(_model_field(field), "blank", False))


class ArenaAutoSchema(AutoSchema):
    """drf-spectacular's AutoSchema plus the error answers of each operation, each with the shared ``Error`` body.

    Rules (each follows from a mechanism every view shares):
    400 every operation (query-string/body validation, NUL bytes, deep JSON: ``arena.middleware``);
    401 every operation (a wrong ``Authorization: Token`` is refused before permissions are checked);
    403 writes (owner/staff checks, CSRF for session clients) and staff-only operations;
    404 operations that name an object (path parameter, query parameter or request body);
    409 writes other than the token endpoints (state conflicts raised by services);
    413 multipart uploads; 415 operations with a request body; 429 operations with a throttle.
    ``@error_statuses(...)`` on a view method adds the rest (e.g. 409 on a GET export of a dataset not ready).
    """

    def _error_codes(self) -> set[int]:
        view, method = self.view, self.method
        codes = {400, 401}
        has_body = method in {"POST", "PUT", "PATCH"} and self.get_request_serializer() is not None
        query = [p for p in self._get_parameters() if p.get("in") == "query" and p["name"] not in ("limit", "offset")]
        names_object = "{" in self.path or has_body or bool(query)
        if method in _UNSAFE or _admin_only(view):
            codes.add(403)
        if names_object:
            codes.add(404)
        if method in _UNSAFE and not self.path.startswith("/api/v1/auth/"):
            codes.add(409)
        if has_body:
            codes.add(415)
            if "multipart/form-data" in self.map_parsers():
                codes.add(413)
        if _has_throttles(view):
            codes.add(429)
        handler = getattr(view, method.lower(), None)
        codes |= set(getattr(handler, "arena_error_statuses", ()))
        return codes

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        """A read-only related field over a nullable foreign key is nullable (e.g. a base-model job's dataset)."""
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if isinstance(field, serializers.RelatedField) and not field.allow_null and _nullable_model_field(field):
            schema["nullable"] = True
        if isinstance(field, serializers.URLField) and schema.get("format") == "uri" and _blank_model_field(field):
            # a read-only URL that may be blank: "" is not a URI, so say "a URI or empty" (as writable fields do)
            extra = {k: schema.pop(k) for k in list(schema) if k not in ("type", "format")}
            schema = {"oneOf": [{**schema, "minLength": 1}, {"type": "string", "maxLength": 0}], **extra}
        return schema

    def get_operation_id(self) -> str:
        """A paginated list keeps the ``..._list`` id it had when it was declared as a plain array."""
        operation_id = super().get_operation_id()
        if self.method == "GET" and getattr(self.get_response_serializers(), "is_page_envelope", False):
            operation_id = operation_id.removesuffix("_retrieve") + "_list"
        return operation_id

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response" or self.path == "/api/schema/":
            return responses
        error = self.resolve_serializer(ErrorSerializer, "response").ref
        for code in sorted(self._error_codes()):
            responses.setdefault(
                str(code),
                {"description": ERROR_DESCRIPTIONS[code], "content": {"application/json": {"schema": error}}},
            )
        return responses


def _blank_url_fix(node) -> None:
    if isinstance(node, dict):
        branches = node.get("oneOf")
        if (
            isinstance(branches, list)
            and len(branches) == 2
            and branches[0].get("format") == "uri"
            and branches[1].get("maxLength") == 0
        ):
            branches[0].setdefault("minLength", 1)
            if "default" in branches[0]:
                node["default"] = branches[0].pop("default")
        for value in node.values():
            _blank_url_fix(value)
    elif isinstance(node, list):
        for value in node:
            _blank_url_fix(value)


def postprocess_blank_urls(result, generator, request, public):
    _blank_url_fix(result.get("components", {}))
    return result
