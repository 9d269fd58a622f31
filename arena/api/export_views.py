"""Dataset export endpoints: stream a dataset as JSONL and describe it for LLaMA-Factory."""

from __future__ import annotations

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.permissions import IsAuthenticatedOrReadOnly
from rest_framework.response import Response
from rest_framework.views import APIView

from arena import exports, selectors
from arena.api.schema import error_statuses

DATASET_INFO_SCHEMA = {
    "type": "object",
    "description": "LLaMA-Factory dataset_info.json: one entry per dataset name (data/README.md of LLaMA-Factory)",
    "additionalProperties": {
        "type": "object",
        "properties": {
            "file_name": {"type": "string"},
            "formatting": {"type": "string", "enum": ["alpaca", "sharegpt"]},
            "columns": {"type": "object", "additionalProperties": {"type": "string"}},
            "tags": {"type": "object", "additionalProperties": {"type": "string"}},
        },
        "required": ["file_name", "formatting", "columns"],
    },
}

_FORMAT_PARAM = OpenApiParameter("format", str, enum=list(exports.EXPORT_FORMATS), required=True)


class _FormatNamesExportFormat(DefaultContentNegotiation):
    """Here ``?format=`` names the export format, not a DRF renderer: always answer with the first (JSON) renderer."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


def _export_format(request) -> str:
    return exports.export_format_check(export_format=request.query_params.get("format", ""))


class DatasetExportView(APIView):
    permission_classes = [IsAuthenticatedOrReadOnly]
    content_negotiation_class = _FormatNamesExportFormat

    @extend_schema(parameters=[_FORMAT_PARAM], responses={(200, "application/x-ndjson"): OpenApiTypes.BINARY})
    @error_statuses(409)
    def get(self, request, slug: str):
        dataset = selectors.dataset_get(viewer=request.user, slug=slug)
        export_format = _export_format(request)
        lines = exports.dataset_export_lines(dataset=dataset, export_format=export_format)
        response = StreamingHttpResponse(lines, content_type="application/x-ndjson; charset=utf-8")
        name = exports.export_file_name(dataset=dataset, export_format=export_format)
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response


class DatasetInfoView(APIView):
    permission_classes = [IsAuthenticatedOrReadOnly]
    content_negotiation_class = _FormatNamesExportFormat

    @extend_schema(
        parameters=[
            _FORMAT_PARAM,
            OpenApiParameter("file_name", str, description="file name to record"),
            OpenApiParameter("name", str, description="the entry's name (default: the dataset slug)"),
        ],
        responses={200: DATASET_INFO_SCHEMA},
    )
    @error_statuses(409)
    def get(self, request, slug: str):
        dataset = selectors.dataset_get(viewer=request.user, slug=slug)
        entry = exports.dataset_info_entry(
            dataset=dataset,
            export_format=_export_format(request),
            file_name=request.query_params.get("file_name", ""),
            name=request.query_params.get("name", ""),
        )
        return Response(entry)
