"""Leaderboard REST endpoints: thin adapters over ``training.leaderboard.selectors`` (the pages call the same)."""
from __future__ import annotations

from dataclasses import fields

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.renderers import BaseRenderer, BrowsableAPIRenderer, JSONRenderer
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
    renderer_classes = [JSONRenderer, BrowsableAPIRenderer, CSVRenderer]

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
        if request.accepted_renderer.format == "csv":
            response = Response(selectors.leaderboard_csv_rows(leaderboard=leaderboard))
            name = f"leaderboard-{leaderboard.base_model['slug']}-{leaderboard.domain or 'overall'}.csv"
            response["Content-Disposition"] = f'attachment; filename="{name}"'
            return response
        return Response({f.name: getattr(leaderboard, f.name) for f in fields(leaderboard)})


class LeaderboardCompareView(APIView):
    permission_classes = [AllowAny]
    renderer_classes = [JSONRenderer, BrowsableAPIRenderer]

    @extend_schema(
        parameters=[
            OpenApiParameter("datasets", str, required=True, description="2 to 4 comma-separated dataset slugs"),
            OpenApiParameter("base_model", str, description="one base model slug; default: every base model "
                             "with results for these datasets"),
        ],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request, format=None):  # noqa: A002
        return Response(
            selectors.leaderboard_compare(
                viewer=request.user,
                datasets=request.query_params.get("datasets", "").split(","),
                base_model=request.query_params.get("base_model", ""),
            )
        )


class ScorePredictorsView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(parameters=[OpenApiParameter("base_model", str, required=True)], responses=OpenApiTypes.OBJECT)
    def get(self, request, format=None):  # noqa: A002
        return Response(
            selectors.score_predictors(viewer=request.user, base_model=request.query_params.get("base_model", ""))
        )
