"""REST endpoints that compose several apps (the comparison of datasets, which scores predict value): thin
adapters over ``frontend.composition``, the same reads the comparison page's Dash apps call."""
from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from frontend import composition


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
            composition.leaderboard_compare(
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
            composition.score_predictors(viewer=request.user, base_model=request.query_params.get("base_model", ""))
        )
