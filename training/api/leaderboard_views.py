"""Leaderboard REST endpoint: a thin adapter over ``training.leaderboard.selectors`` (the pages call the same)."""
from __future__ import annotations

from dataclasses import fields

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.permissions import AllowAny
import orjson
from rest_framework.renderers import BaseRenderer, BrowsableAPIRenderer, JSONRenderer
from rest_framework.utils.encoders import JSONEncoder
from rest_framework.response import Response
from rest_framework.views import APIView

from arena.csv_safety import csv_text
from arena.errors import InvalidInput
from training.leaderboard import selectors


class CSVRenderer(BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, dict):  # an error body
            data = [["error", "code"], [data.get("error", data.get("detail", "")), data.get("code", "")]]
        return csv_text(data).encode("utf-8")  # formula-like text cells escaped for spreadsheets


class FastJSONRenderer(JSONRenderer):
    """DRF's JSON media type, serialised by orjson (a 1,000-row board in a few ms instead of tens); types orjson
    does not know go through DRF's encoder, as with ``JSONRenderer``."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        return orjson.dumps(data, default=JSONEncoder().default)


MAX_PAGE_ROWS = 1000


def _page_param(params, name: str, *, minimum: int, maximum: int | None = None) -> int | None:
    value = _int_param(params, name)
    if value is not None and (value < minimum or (maximum is not None and value > maximum)):
        bound = f"between {minimum} and {maximum}" if maximum is not None else f"at least {minimum}"
        raise InvalidInput(f"{name} must be {bound} (got {value})")
    return value


def _int_param(params, name: str) -> int | None:
    raw = params.get(name, "")
    if raw in ("", None):
        return None
    try:
        return int(raw)
    except ValueError:
        raise InvalidInput(f"{name} must be an integer (got {raw!r})") from None


def filters_from_params(params) -> selectors.LeaderboardFilters:
    tags = params.get("tags", "")
    return selectors.LeaderboardFilters(
        search=params.get("search", "").strip(),
        domains=tuple(t.strip() for t in tags.split(",") if t.strip()),
        domain_match=params.get("tag_match", "any") or "any",
        size_min=_int_param(params, "size_min"),
        size_max=_int_param(params, "size_max"),
        year=_int_param(params, "year"),
    )


class LeaderboardView(APIView):
    permission_classes = [AllowAny]
    renderer_classes = [FastJSONRenderer, BrowsableAPIRenderer, CSVRenderer]

    @extend_schema(
        parameters=[
            OpenApiParameter("base_model", str, required=True, description="base model slug"),
            OpenApiParameter("domain", str, description="general, math, code or reasoning; empty = overall"),
            OpenApiParameter("search", str, description="substring of the dataset name or slug"),
            OpenApiParameter("tags", str, description="comma-separated dataset domain tags"),
            OpenApiParameter("tag_match", str, enum=["any", "exact"]),
            OpenApiParameter("size_min", int),
            OpenApiParameter("size_max", int),
            OpenApiParameter("year", int),
            OpenApiParameter("offset", int, description="skip this many ranked rows (with limit: one page)"),
            OpenApiParameter("limit", int, description=f"at most this many ranked rows (1-{MAX_PAGE_ROWS}); "
                             "default: all. `matched` gives the number of rows before the page is cut"),
            OpenApiParameter("format", str, enum=["json", "csv"]),
        ],
        responses={(200, "application/json"): OpenApiTypes.OBJECT, (200, "text/csv"): OpenApiTypes.STR},
    )
    def get(self, request, format=None):  # noqa: A002 - DRF's name
        leaderboard = selectors.leaderboard_get(
            viewer=request.user,
            base_model=request.query_params.get("base_model", ""),
            domain=request.query_params.get("domain", ""),
            filters=filters_from_params(request.query_params),
        )
        offset = _page_param(request.query_params, "offset", minimum=0) or 0
        limit = _page_param(request.query_params, "limit", minimum=1, maximum=MAX_PAGE_ROWS)
        matched = len(leaderboard.rows)
        if offset or limit is not None:
            leaderboard.rows = leaderboard.rows[offset:None if limit is None else offset + limit]
        if request.accepted_renderer.format == "csv":
            response = Response(selectors.leaderboard_csv_rows(leaderboard=leaderboard))
            name = f"leaderboard-{leaderboard.base_model['slug']}-{leaderboard.domain or 'overall'}.csv"
            response["Content-Disposition"] = f'attachment; filename="{name}"'
            return response
        body = {f.name: getattr(leaderboard, f.name) for f in fields(leaderboard)}
        if offset or limit is not None:
            body.update(matched=matched, offset=offset, limit=limit)
        return Response(body)
