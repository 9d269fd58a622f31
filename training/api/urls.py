from django.urls import path

from training.api import leaderboard_views, views

urlpatterns = [
    path("base-models/", views.BaseModelListCreateView.as_view(), name="api-base-model-list"),
    path("recipes/", views.RecipeListCreateView.as_view(), name="api-recipe-list"),
    path("benchmarks/", views.BenchmarkListCreateView.as_view(), name="api-benchmark-list"),
    path("benchmark-kinds/", views.BenchmarkKindListView.as_view(), name="api-benchmark-kind-list"),
    path("jobs/", views.JobListCreateView.as_view(), name="api-job-list"),
    path("jobs/batch/", views.JobBatchView.as_view(), name="api-job-batch"),
    path("jobs/<int:job_id>/", views.JobDetailView.as_view(), name="api-job-detail"),
    path("jobs/<int:job_id>/results/<slug:benchmark>/items/", views.EvalResultItemsView.as_view(),
         name="api-job-result-items"),
    path("jobs/<int:job_id>/cancel/", views.JobCancelView.as_view(), name="api-job-cancel"),
    path("jobs/<int:job_id>/retry/", views.JobRetryView.as_view(), name="api-job-retry"),
    path("jobs/<int:job_id>/weights/", views.JobWeightsView.as_view(), name="api-job-weights"),
    path("jobs/<int:job_id>/register-base-model/", views.JobRegisterBaseModelView.as_view(),
         name="api-job-register-base-model"),
    path("leaderboard/", leaderboard_views.LeaderboardView.as_view(), name="api-leaderboard"),
]
