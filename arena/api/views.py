"""Dataset REST endpoints: thin adapters over services and selectors."""
from __future__ import annotations

from django.db.models import Prefetch
from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated, IsAuthenticatedOrReadOnly
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from arena import selectors, services, uploads
from arena.api.schema import PAGE_PARAMETERS, paginated
from arena.api.serializers import (
    DatasetCreateSerializer,
    DatasetPreviewSerializer,
    DatasetSerializer,
    DatasetUpdateSerializer,
    SampleSerializer,
)
from arena.permissions import dataset_visible_queryset
from lineage.models import LineageEdge


def _with_parents(queryset, *, viewer):
    edges = LineageEdge.objects.filter(
        superseded_at__isnull=True,
        origin=LineageEdge.Origin.DECLARED,
        parent__in=dataset_visible_queryset(viewer=viewer).values("pk"),
    ).select_related("parent")
    return queryset.prefetch_related(Prefetch("parent_edges", queryset=edges, to_attr="_prefetched_parent_edges"))


class DatasetListCreateView(APIView):
    permission_classes = [IsAuthenticatedOrReadOnly]
    parser_classes = [MultiPartParser, FormParser, JSONParser]
    throttle_scope = "uploads"

    def get_throttles(self):
        return [ScopedRateThrottle()] if self.request.method == "POST" else []

    @extend_schema(
        parameters=[
            OpenApiParameter("search", str),
            OpenApiParameter("domain", str),
            OpenApiParameter("status", str),
            OpenApiParameter("owner", str),
            *PAGE_PARAMETERS,
        ],
        responses=paginated(DatasetSerializer),
    )
    def get(self, request):
        qs = selectors.dataset_list(
            viewer=request.user,
            search=request.query_params.get("search", ""),
            domain=request.query_params.get("domain", ""),
            status=request.query_params.get("status", ""),
            owner=request.query_params.get("owner", ""),
        )
        paginator = LimitOffsetPagination()
        paginator.default_limit = 50
        page = paginator.paginate_queryset(_with_parents(qs, viewer=request.user), request, view=self)
        data = DatasetSerializer(page, many=True, context={"request": request}).data
        return paginator.get_paginated_response(data)

    @extend_schema(
        request=DatasetCreateSerializer,
        responses={202: DatasetSerializer, 201: DatasetSerializer, 422: DatasetSerializer},
    )
    def post(self, request):
        serializer = DatasetCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        parents = [
            services.ParentSpec(
                dataset=selectors.dataset_get(viewer=request.user, slug=p["dataset"]),
                relation=p["relation"],
                evidence=p.get("evidence", ""),
            )
            for p in data["parents"]
        ]
        upload = data["file"]
        dataset = services.dataset_register(
            owner=request.user,
            upload=upload,
            filename=upload.name,
            name=data["name"],
            visibility=data["visibility"],
            domains=data["domains"],
            license=data["license"],
            description=data["description"],
            source_url=data["source_url"],
            parents=parents,
            file_format=data.get("file_format") or None,
            sample_format=data.get("sample_format") or None,
            policy=data["policy"],
        )
        dataset.refresh_from_db()
        body = DatasetSerializer(dataset, context={"request": request}).data
        code = status.HTTP_201_CREATED if dataset.status == dataset.Status.READY else status.HTTP_202_ACCEPTED
        if dataset.status == dataset.Status.FAILED:
            code = status.HTTP_422_UNPROCESSABLE_ENTITY
        return Response(body, status=code)


class DatasetPreviewView(APIView):
    """What registering a file would do (formats, and the ingest policy's report on its first records); records nothing."""

    permission_classes = [IsAuthenticated]
    parser_classes = [MultiPartParser, FormParser]
    throttle_scope = "uploads"
    throttle_classes = [ScopedRateThrottle]

    @extend_schema(request=DatasetPreviewSerializer, responses=OpenApiTypes.OBJECT)
    def post(self, request):
        serializer = DatasetPreviewSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        preview = uploads.dataset_preview(
            owner=request.user,
            upload=data["file"],
            filename=data["file"].name,
            file_format=data.get("file_format") or None,
            sample_format=data.get("sample_format") or None,
            policy=data["policy"],
        )
        return Response(preview)


class DatasetRejectsView(APIView):
    """The records the repair policy skipped: gzipped JSONL of {line|record, location, rule, problem, record}."""

    permission_classes = [IsAuthenticatedOrReadOnly]

    @extend_schema(responses={(200, "application/gzip"): OpenApiTypes.BINARY})
    def get(self, request, slug: str):
        dataset = selectors.dataset_get(viewer=request.user, slug=slug)
        handle = selectors.dataset_rejects_open(dataset=dataset)
        return FileResponse(
            handle, as_attachment=True, filename=f"{dataset.slug}.rejects.jsonl.gz", content_type="application/gzip"
        )


class DatasetDetailView(APIView):
    permission_classes = [IsAuthenticatedOrReadOnly]
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    @extend_schema(responses=DatasetSerializer)
    def get(self, request, slug: str):
        dataset = selectors.dataset_get(viewer=request.user, slug=slug)
        return Response(DatasetSerializer(dataset, context={"request": request}).data)

    @extend_schema(request=DatasetUpdateSerializer, responses=DatasetSerializer)
    def patch(self, request, slug: str):
        dataset = selectors.dataset_get(viewer=request.user, slug=slug)
        serializer = DatasetUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        dataset = services.dataset_update(dataset=dataset, user=request.user, **serializer.validated_data)
        return Response(DatasetSerializer(dataset, context={"request": request}).data)

    @extend_schema(request=DatasetUpdateSerializer, responses=DatasetSerializer)
    def put(self, request, slug: str):
        return self.patch(request, slug)

    @extend_schema(responses={204: None})
    def delete(self, request, slug: str):
        dataset = selectors.dataset_get(viewer=request.user, slug=slug)
        services.dataset_delete(dataset=dataset, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class DatasetSamplesView(APIView):
    permission_classes = [IsAuthenticatedOrReadOnly]

    @extend_schema(
        parameters=PAGE_PARAMETERS,
        responses=paginated(SampleSerializer),
    )
    def get(self, request, slug: str):
        dataset = selectors.dataset_get(viewer=request.user, slug=slug)
        paginator = _SamplePagination()
        offset, limit = paginator.window(request)
        rows = selectors.dataset_samples_page(dataset=dataset, offset=offset, limit=limit)
        return paginator.response(request, rows=rows, count=dataset.sample_count or 0, offset=offset, limit=limit)


class _SamplePagination:
    """Offset/limit pagination over the Parquet file (no queryset behind it)."""

    max_limit = 200

    def window(self, request) -> tuple[int, int]:
        from arena.errors import InvalidInput

        try:
            offset = int(request.query_params.get("offset", 0))
            limit = int(request.query_params.get("limit", 20))
        except ValueError:
            raise InvalidInput("offset and limit must be integers") from None
        if offset < 0 or limit < 1:
            raise InvalidInput("offset must be >= 0 and limit >= 1")
        return offset, min(limit, self.max_limit)

    def response(self, request, *, rows: list[dict], count: int, offset: int, limit: int) -> Response:
        def link(new_offset: int) -> str:
            return request.build_absolute_uri(f"{request.path}?offset={new_offset}&limit={limit}")

        return Response(
            {
                "count": count,
                "next": link(offset + limit) if offset + limit < count else None,
                "previous": link(max(offset - limit, 0)) if offset > 0 else None,
                "results": SampleSerializer(rows, many=True).data,
            }
        )
