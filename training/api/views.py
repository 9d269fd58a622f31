"""Training REST endpoints: thin adapters over training.services and training.selectors."""
from __future__ import annotations

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import IsAdminUser, IsAuthenticated, IsAuthenticatedOrReadOnly
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from arena.selectors import dataset_get
from arena.api.schema import PAGE_PARAMETERS, paginated
from training import benchmark_services, selectors, services
from training.api.serializers import (
    BaseModelFromJobSerializer,
    BaseModelSerializer,
    BenchmarkCreateSerializer,
    BenchmarkKindSerializer,
    BenchmarkSerializer,
    EvalItemSerializer,
    JobBatchSerializer,
    JobCreateSerializer,
    JobDetailSerializer,
    JobSerializer,
    RecipeSerializer,
)


def _paginate(view, request, queryset, serializer_class):
    paginator = LimitOffsetPagination()
    paginator.default_limit = 50
    page = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(serializer_class(page, many=True, context={"request": request}).data)


class BaseModelListCreateView(APIView):
    """Anyone may list; registering a base model names a path on the workers, so it is for staff."""

    def get_permissions(self):
        return [IsAdminUser()] if self.request.method == "POST" else []

    @extend_schema(parameters=PAGE_PARAMETERS, responses=paginated(BaseModelSerializer))
    def get(self, request):
        return _paginate(self, request, selectors.base_model_list(), BaseModelSerializer)

    @extend_schema(request=BaseModelSerializer, responses={201: BaseModelSerializer})
    def post(self, request):
        serializer = BaseModelSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        model = services.base_model_create(
            name=data["name"], path=data["path"], revision=data.get("revision", ""), description=data.get("description", "")
        )
        return Response(BaseModelSerializer(model).data, status=status.HTTP_201_CREATED)


class RecipeListCreateView(APIView):
    permission_classes = [IsAuthenticatedOrReadOnly]

    @extend_schema(parameters=PAGE_PARAMETERS, responses=paginated(RecipeSerializer))
    def get(self, request):
        return _paginate(self, request, selectors.recipe_list(), RecipeSerializer)

    @extend_schema(request=RecipeSerializer, responses={201: RecipeSerializer})
    def post(self, request):
        if hasattr(request.data, "keys"):  # a JSON object or form: refuse fields a recipe does not have
            services.recipe_fields_check(names=set(request.data.keys()) - {"name", "description", "slug", "created_at"})
        serializer = RecipeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        recipe = services.recipe_create(**serializer.validated_data)
        return Response(RecipeSerializer(recipe).data, status=status.HTTP_201_CREATED)


class BenchmarkListCreateView(APIView):
    permission_classes = [IsAuthenticatedOrReadOnly]
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(parameters=[OpenApiParameter("domain", str), *PAGE_PARAMETERS], responses=paginated(BenchmarkSerializer))
    def get(self, request):
        return _paginate(self, request, selectors.benchmark_list(domain=request.query_params.get("domain", "")),
                         BenchmarkSerializer)

    @extend_schema(request=BenchmarkCreateSerializer, responses={201: BenchmarkSerializer})
    def post(self, request):
        serializer = BenchmarkCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        benchmark = benchmark_services.benchmark_create(
            name=data["name"], kind=data["kind"], domain=data["domain"], metric=data["metric"],
            upload=data["file"], filename=data["file"].name, description=data["description"],
            num_fewshot=data["num_fewshot"], max_gen_toks=data["max_gen_toks"], chat_template=data["chat_template"],
            limit=data["limit"],
        )
        return Response(BenchmarkSerializer(benchmark).data, status=status.HTTP_201_CREATED)


class BenchmarkKindListView(APIView):
    """The benchmark kinds a file can be registered as: their columns, metrics and harness defaults."""

    @extend_schema(responses=BenchmarkKindSerializer(many=True))
    def get(self, request):
        return Response(BenchmarkKindSerializer(selectors.benchmark_kind_list(), many=True).data)


class _LaunchThrottled:
    throttle_scope = "job_launch"

    def get_throttles(self):
        return [ScopedRateThrottle()] if self.request.method == "POST" else []


class JobListCreateView(_LaunchThrottled, APIView):
    permission_classes = [IsAuthenticatedOrReadOnly]

    @extend_schema(
        parameters=[
            *(OpenApiParameter(name, str) for name in ("status", "dataset", "base_model", "batch", "created_by")),
            *PAGE_PARAMETERS,
        ],
        responses=paginated(JobSerializer),
    )
    def get(self, request):
        params = request.query_params
        qs = selectors.job_list(
            viewer=request.user, status=params.get("status", ""), dataset=params.get("dataset", ""),
            base_model=params.get("base_model", ""), batch=params.get("batch", ""),
            created_by=params.get("created_by", ""),
        ).prefetch_related("benchmarks")
        return _paginate(self, request, qs, JobSerializer)

    @extend_schema(request=JobCreateSerializer, responses={201: JobDetailSerializer})
    def post(self, request):
        serializer = JobCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        job = services.job_create(
            dataset=dataset_get(viewer=request.user, slug=data["dataset"]) if data.get("dataset") else None,
            base_model=selectors.base_model_get(slug=data["base_model"]),
            recipe=selectors.recipe_get(slug=data["recipe"]) if data.get("recipe") else None,
            seed=data["seed"],
            benchmarks=selectors.benchmarks_by_slugs(slugs=data["benchmarks"]),
            user=request.user,
        )
        job = selectors.job_get(viewer=request.user, job_id=job.pk)
        return Response(JobDetailSerializer(job).data, status=status.HTTP_201_CREATED)


class JobBatchView(_LaunchThrottled, APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=JobBatchSerializer, responses={201: JobSerializer(many=True)})
    def post(self, request):
        serializer = JobBatchSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        jobs = services.jobs_launch_batch(
            dataset=dataset_get(viewer=request.user, slug=data["dataset"]) if data.get("dataset") else None,
            base_models=selectors.base_models_by_slugs(slugs=data["base_models"]),
            seeds=data["seeds"],
            recipe=selectors.recipe_get(slug=data["recipe"]) if data.get("recipe") else None,
            benchmarks=selectors.benchmarks_by_slugs(slugs=data["benchmarks"]),
            user=request.user,
        )
        qs = selectors.job_list(viewer=request.user).filter(pk__in=[j.pk for j in jobs]).order_by("id")
        return Response(
            {"batch": str(jobs[0].batch), "jobs": JobSerializer(qs.prefetch_related("benchmarks"), many=True).data},
            status=status.HTTP_201_CREATED,
        )


class JobDetailView(APIView):
    @extend_schema(responses=JobDetailSerializer)
    def get(self, request, job_id: int):
        return Response(JobDetailSerializer(selectors.job_get(viewer=request.user, job_id=job_id)).data)


class EvalResultItemsView(APIView):
    """What the model answered on each item of one benchmark (paginated); visible to whoever may see the job."""

    @extend_schema(parameters=PAGE_PARAMETERS, responses=paginated(EvalItemSerializer))
    def get(self, request, job_id: int, benchmark: str):
        result = selectors.eval_result_get(viewer=request.user, job_id=job_id, benchmark_slug=benchmark)
        paginator = LimitOffsetPagination()
        paginator.default_limit, paginator.max_limit = 20, 200
        paginator.limit = paginator.get_limit(request)
        paginator.offset = paginator.get_offset(request)
        paginator.count = result.n_items
        paginator.request = request
        rows = selectors.eval_result_items_page(result=result, offset=paginator.offset, limit=paginator.limit)
        return paginator.get_paginated_response(EvalItemSerializer(rows, many=True).data)


class JobCancelView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses=JobDetailSerializer)
    def post(self, request, job_id: int):
        job = services.job_cancel(job=selectors.job_get(viewer=request.user, job_id=job_id), user=request.user)
        return Response(JobDetailSerializer(selectors.job_get(viewer=request.user, job_id=job.pk)).data)


class JobRetryView(_LaunchThrottled, APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses=JobDetailSerializer)
    def post(self, request, job_id: int):
        job = services.job_retry(job=selectors.job_get(viewer=request.user, job_id=job_id), user=request.user)
        return Response(JobDetailSerializer(selectors.job_get(viewer=request.user, job_id=job.pk)).data)


class JobWeightsView(APIView):
    """The job's fine-tuned weights (safetensors + tokenizer) as a zip stream, for whoever may see the job."""

    @extend_schema(request=None, responses={(200, "application/zip"): OpenApiTypes.BINARY})
    def get(self, request, job_id: int):
        from training.weights import weights_zip_stream

        job = selectors.job_get(viewer=request.user, job_id=job_id)
        directory = selectors.job_weights_directory(job=job)
        response = StreamingHttpResponse(weights_zip_stream(directory=directory, prefix=f"arena-job-{job.pk}"),
                                         content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="arena-job-{job.pk}-weights.zip"'
        return response


class JobRegisterBaseModelView(APIView):
    """Register the job's kept weights as a new base model."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=BaseModelFromJobSerializer, responses={201: BaseModelSerializer})
    def post(self, request, job_id: int):
        serializer = BaseModelFromJobSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        model = services.base_model_from_job(
            job=selectors.job_get(viewer=request.user, job_id=job_id), user=request.user,
            name=serializer.validated_data["name"], description=serializer.validated_data["description"],
        )
        return Response(BaseModelSerializer(model).data, status=status.HTTP_201_CREATED)
