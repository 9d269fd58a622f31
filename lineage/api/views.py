"""Lineage REST endpoints: thin adapters over lineage services and selectors, scoped to the requester."""
from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated, IsAuthenticatedOrReadOnly
from rest_framework.response import Response
from rest_framework.views import APIView

from arena.errors import InvalidInput, NotFound
from arena.selectors import dataset_get
from arena.api.schema import OPENLINEAGE_EVENTS_SCHEMA, PAGE_PARAMETERS, paginated
from lineage import openlineage, reports, selectors, services
from lineage.api.serializers import (
    ContaminationScanSerializer,
    EdgeCreateSerializer,
    EdgeImportSerializer,
    EdgeSerializer,
    ReleaseDeclareSerializer,
)

DATASETS = OpenApiParameter("dataset", str, many=True, description="target dataset slug (repeatable)")
DEPTH = OpenApiParameter("depth", int, description="generations up and down (0-10, default 2)")


def _slugs(request) -> list[str]:
    slugs = [s for value in request.query_params.getlist("dataset") for s in value.split(",") if s.strip()]
    if not slugs:
        raise InvalidInput("give at least one ?dataset=<slug>")
    return slugs


def _one_dataset(request):
    slugs = _slugs(request)
    if len(slugs) != 1:
        raise InvalidInput("give exactly one ?dataset=<slug>")
    return dataset_get(viewer=request.user, slug=slugs[0])


class GraphView(APIView):
    permission_classes = [IsAuthenticatedOrReadOnly]

    @extend_schema(parameters=[DATASETS, DEPTH], responses=dict)
    def get(self, request):
        return Response(
            selectors.lineage_graph(viewer=request.user, slugs=_slugs(request), depth=request.query_params.get("depth", 2))
        )


class AnalysisView(APIView):
    permission_classes = [IsAuthenticatedOrReadOnly]

    @extend_schema(parameters=[DATASETS, DEPTH], responses=dict)
    def get(self, request):
        return Response(
            selectors.lineage_analysis(viewer=request.user, slugs=_slugs(request), depth=request.query_params.get("depth", 2))
        )


class EdgeListCreateView(APIView):
    permission_classes = [IsAuthenticatedOrReadOnly]
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    @extend_schema(
        parameters=[
            OpenApiParameter("dataset", str, description="edges touching this dataset"),
            OpenApiParameter("relation", str),
            OpenApiParameter("origin", str, description="declared or inferred"),
            OpenApiParameter("history", bool, description="include superseded edges"),
            *PAGE_PARAMETERS,
        ],
        responses=paginated(EdgeSerializer),
    )
    def get(self, request):
        params = request.query_params
        dataset = dataset_get(viewer=request.user, slug=params["dataset"]) if params.get("dataset") else None
        history = params.get("history", "").lower()
        if history not in ("", "0", "1", "true", "false"):
            raise InvalidInput(f"history must be true or false, got {history!r}")
        qs = selectors.edge_list(
            viewer=request.user,
            dataset=dataset,
            relation=params.get("relation", ""),
            origin=params.get("origin", ""),
            include_history=history in ("1", "true"),
        )
        paginator = LimitOffsetPagination()
        paginator.default_limit = 50
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response([selectors.edge_as_dict(e) for e in page])

    @extend_schema(request=EdgeCreateSerializer, responses={201: EdgeSerializer})
    def post(self, request):
        serializer = EdgeCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        edge = services.edge_create(
            user=request.user,
            child=dataset_get(viewer=request.user, slug=data["child"]),
            parent=dataset_get(viewer=request.user, slug=data["parent"]),
            relation=data["relation"],
            evidence=data["evidence"],
            confidence=data["confidence"],
        )
        return Response(selectors.edge_as_dict(edge), status=status.HTTP_201_CREATED)


class EdgeImportView(APIView):
    permission_classes = [IsAuthenticated]
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(request=EdgeImportSerializer, responses={201: EdgeSerializer(many=True)})
    def post(self, request):
        serializer = EdgeImportSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        edges = services.edges_import_jsonl(user=request.user, upload=serializer.validated_data["file"])
        return Response(
            {"created": len(edges), "edges": [selectors.edge_as_dict(e) for e in edges]}, status=status.HTTP_201_CREATED
        )


class OverlapView(APIView):
    permission_classes = [IsAuthenticatedOrReadOnly]

    @extend_schema(parameters=[OpenApiParameter("dataset", str, required=True)], responses=dict)
    def get(self, request):
        return Response(reports.overlap_report(viewer=request.user, dataset=_one_dataset(request)))


class ContaminationView(APIView):
    permission_classes = [IsAuthenticatedOrReadOnly]
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    @extend_schema(parameters=[OpenApiParameter("dataset", str, required=True)], responses=dict)
    def get(self, request):
        return Response(reports.contamination_report(viewer=request.user, dataset=_one_dataset(request)))

    @extend_schema(request=ContaminationScanSerializer, responses={202: dict})
    def post(self, request):
        from training.models import Benchmark

        serializer = ContaminationScanSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        dataset = dataset_get(viewer=request.user, slug=data["dataset"])
        found = {b.slug: b for b in Benchmark.objects.filter(slug__in=data["benchmarks"])}
        missing = [s for s in data["benchmarks"] if s not in found]
        if missing:
            raise NotFound(f"no benchmark(s) {', '.join(missing)}")
        findings = services.contamination_scan_request(
            user=request.user,
            dataset=dataset,
            benchmarks=[found[s] for s in dict.fromkeys(data["benchmarks"])],
            ngram_size=data["ngram_size"],
            semantic=data["semantic"],
        )
        for finding in findings:
            finding.refresh_from_db()
        return Response(
            {"findings": [reports.finding_as_dict(f) for f in findings]}, status=status.HTTP_202_ACCEPTED
        )


class ContaminationItemsView(APIView):
    """Every flagged benchmark item of a dataset, with the matching text on both sides (paginated)."""

    permission_classes = [IsAuthenticatedOrReadOnly]

    @extend_schema(
        parameters=[
            OpenApiParameter("dataset", str, required=True),
            OpenApiParameter("benchmark", str, description="one benchmark (default: the latest scan of each)"),
            OpenApiParameter("finding", int, description="one scan by id"),
            OpenApiParameter("signal", str, description="ngram or semantic"),
            *PAGE_PARAMETERS,
        ],
        responses=paginated(None),
    )
    def get(self, request):
        params = request.query_params
        hits = reports.contamination_hits(
            viewer=request.user,
            dataset=_one_dataset(request),
            benchmark=params.get("benchmark", ""),
            finding_id=params.get("finding"),
            signal=params.get("signal", ""),
        )
        paginator = LimitOffsetPagination()
        paginator.default_limit = 50
        paginator.max_limit = 500
        page = paginator.paginate_queryset(hits, request, view=self)
        return paginator.get_paginated_response([reports.hit_as_dict(h) for h in page])


class ReleaseView(APIView):
    """Declare a dataset's release date (owner only); the inferred edges around it are re-decided."""

    permission_classes = [IsAuthenticated]
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    @extend_schema(request=ReleaseDeclareSerializer, responses={201: dict})
    def post(self, request):
        serializer = ReleaseDeclareSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        release = services.dataset_release_declare(
            user=request.user, dataset=dataset_get(viewer=request.user, slug=data["dataset"]), released_on=data["released_on"]
        )
        return Response(
            {"dataset": data["dataset"], "released_on": release.released_on.isoformat()}, status=status.HTTP_201_CREATED
        )


class ExportView(APIView):
    permission_classes = [IsAuthenticatedOrReadOnly]

    @extend_schema(parameters=[DATASETS, DEPTH], responses={200: OPENLINEAGE_EVENTS_SCHEMA})
    def get(self, request):
        return Response(
            openlineage.lineage_openlineage_events(
                viewer=request.user, slugs=_slugs(request), depth=request.query_params.get("depth", 2)
            )
        )
