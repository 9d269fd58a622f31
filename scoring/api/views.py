"""Scoring REST endpoints: thin adapters over scoring services and selectors."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.permissions import AllowAny, IsAuthenticated, IsAuthenticatedOrReadOnly
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from arena.api.schema import PAGE_PARAMETERS, paginated
from arena.api.serializers import DatasetSerializer
from arena.errors import InvalidInput
from arena.selectors import dataset_get
from scoring import selectors, services, subset_services
from scoring.api.serializers import (
    AggregateSerializer,
    ExportSerializer,
    RunCreateSerializer,
    RunSerializer,
    SampleScorePageSerializer,
    ScorerInfoSerializer,
)
from scoring.score_filters import parse_filter, parse_filters


class ScorerListView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(responses=ScorerInfoSerializer(many=True))
    def get(self, request):
        return Response(selectors.scorer_catalog())


class RunListCreateView(APIView):
    permission_classes = [IsAuthenticatedOrReadOnly]
    throttle_scope = "job_launch"

    def get_throttles(self):
        return [ScopedRateThrottle()] if self.request.method == "POST" else []

    @extend_schema(
        parameters=[OpenApiParameter("dataset", str), OpenApiParameter("status", str), *PAGE_PARAMETERS],
        responses=paginated(RunSerializer),
    )
    def get(self, request):
        slug = request.query_params.get("dataset", "")
        dataset = dataset_get(viewer=request.user, slug=slug) if slug else None
        qs = selectors.scoring_run_list(
            viewer=request.user, dataset=dataset, status=request.query_params.get("status", "")
        )
        paginator = LimitOffsetPagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(RunSerializer(page, many=True).data)

    @extend_schema(request=RunCreateSerializer, responses={202: RunSerializer})
    def post(self, request):
        serializer = RunCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        dataset = dataset_get(viewer=request.user, slug=data["dataset"])
        run = services.scoring_run_start(
            dataset=dataset, scorers=data["scorers"], user=request.user, chunk_rows=data.get("chunk_rows")
        )
        return Response(RunSerializer(run).data, status=status.HTTP_202_ACCEPTED)


class RunDetailView(APIView):
    permission_classes = [IsAuthenticatedOrReadOnly]

    @extend_schema(responses=RunSerializer)
    def get(self, request, run_id: int):
        return Response(RunSerializer(selectors.scoring_run_get(viewer=request.user, run_id=run_id)).data)


class RunResumeView(APIView):
    permission_classes = [IsAuthenticated]
    throttle_scope = "job_launch"
    throttle_classes = [ScopedRateThrottle]

    @extend_schema(request=None, responses={202: RunSerializer})
    def post(self, request, run_id: int):
        run = selectors.scoring_run_get(viewer=request.user, run_id=run_id)
        run = services.scoring_run_resume(run=run, user=request.user)
        return Response(RunSerializer(run).data, status=status.HTTP_202_ACCEPTED)


class RunCancelView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses=RunSerializer)
    def post(self, request, run_id: int):
        run = selectors.scoring_run_get(viewer=request.user, run_id=run_id)
        return Response(RunSerializer(services.scoring_run_cancel(run=run, user=request.user)).data)


class DatasetAggregatesView(APIView):
    permission_classes = [IsAuthenticatedOrReadOnly]

    @extend_schema(parameters=[OpenApiParameter("history", bool)], responses=AggregateSerializer(many=True))
    def get(self, request, slug: str):
        dataset = dataset_get(viewer=request.user, slug=slug)
        history = request.query_params.get("history", "") in ("1", "true", "yes")
        qs = selectors.dataset_score_aggregates(dataset=dataset, history=history)
        return Response(AggregateSerializer(qs, many=True).data)


def _int_param(request, name: str, default: int) -> int:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError:
        raise InvalidInput(f"{name} must be an integer, got {raw!r}") from None


def _query_filters(request) -> list:
    """``filter=scorer[.raw]:min:max`` (repeatable), plus the shorthand ``scorer=&min=&max=[&basis=raw]``."""
    filters = parse_filters(request.query_params.getlist("filter"))
    scorer = request.query_params.get("scorer")
    if scorer:
        filters.append(
            parse_filter(
                {
                    "scorer": scorer,
                    "basis": request.query_params.get("basis", "norm"),
                    "min": request.query_params.get("min"),
                    "max": request.query_params.get("max"),
                }
            )
        )
    return filters


class DatasetScoresView(APIView):
    permission_classes = [IsAuthenticatedOrReadOnly]
    max_limit = 500

    @extend_schema(
        parameters=[
            OpenApiParameter("filter", str, many=True, description="scorer[.raw]:min:max (normalised unless .raw)"),
            OpenApiParameter("scorer", str),
            OpenApiParameter("min", float),
            OpenApiParameter("max", float),
            OpenApiParameter("basis", str, description="norm (default) or raw, for scorer/min/max"),
            OpenApiParameter("run", int),
            OpenApiParameter("offset", int),
            OpenApiParameter("limit", int),
        ],
        responses=SampleScorePageSerializer,
    )
    def get(self, request, slug: str):
        dataset = dataset_get(viewer=request.user, slug=slug)
        offset, limit = _int_param(request, "offset", 0), _int_param(request, "limit", 50)
        if offset < 0 or limit < 1:
            raise InvalidInput("offset must be >= 0 and limit >= 1")
        run_param = request.query_params.get("run")
        page = selectors.dataset_sample_scores(
            dataset=dataset,
            filters=_query_filters(request),
            offset=offset,
            limit=min(limit, self.max_limit),
            run_id=_int_param(request, "run", 0) if run_param else None,
        )
        limit = min(limit, self.max_limit)

        def link(new_offset: int) -> str:
            query = request.query_params.copy()
            query["offset"], query["limit"] = str(new_offset), str(limit)
            return request.build_absolute_uri(f"{request.path}?{query.urlencode()}")

        return Response(
            {
                "run": page["run"],
                "count": page["count"],
                "filters_apply_to": "normalised values (0..1) unless the filter names scorer.raw",
                "next": link(offset + limit) if offset + limit < page["count"] else None,
                "previous": link(max(offset - limit, 0)) if offset > 0 else None,
                "results": page["results"],
            }
        )


class DatasetScoresExportView(APIView):
    permission_classes = [IsAuthenticated]
    throttle_scope = "job_launch"
    throttle_classes = [ScopedRateThrottle]

    @extend_schema(request=ExportSerializer, responses={201: DatasetSerializer, 202: DatasetSerializer})
    def post(self, request, slug: str):
        dataset = dataset_get(viewer=request.user, slug=slug)
        serializer = ExportSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        run = selectors.scoring_run_get(viewer=request.user, run_id=data["run"]) if "run" in data else None
        child = subset_services.scores_export_subset(
            dataset=dataset,
            user=request.user,
            name=data["name"],
            filters=data["filters"],
            run=run,
            visibility=data["visibility"],
        )
        code = status.HTTP_201_CREATED if child.status == child.Status.READY else status.HTTP_202_ACCEPTED
        return Response(DatasetSerializer(child, context={"request": request}).data, status=code)
