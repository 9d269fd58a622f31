from django.urls import path

from scoring.api import views

urlpatterns = [
    path("scorers/", views.ScorerListView.as_view(), name="api-scorer-list"),
    path("scoring/runs/", views.RunListCreateView.as_view(), name="api-scoring-run-list"),
    path("scoring/runs/<int:run_id>/", views.RunDetailView.as_view(), name="api-scoring-run-detail"),
    path("scoring/runs/<int:run_id>/resume/", views.RunResumeView.as_view(), name="api-scoring-run-resume"),
    path("scoring/runs/<int:run_id>/cancel/", views.RunCancelView.as_view(), name="api-scoring-run-cancel"),
    path(
        "datasets/<slug:slug>/scores/aggregates/",
        views.DatasetAggregatesView.as_view(),
        name="api-dataset-score-aggregates",
    ),
    path("datasets/<slug:slug>/scores/", views.DatasetScoresView.as_view(), name="api-dataset-scores"),
    path(
        "datasets/<slug:slug>/scores/export/", views.DatasetScoresExportView.as_view(), name="api-dataset-scores-export"
    ),
]
