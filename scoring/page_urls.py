"""Server-rendered pages of this app (mounted at the site root by arena/urls.py)."""

from django.urls import path

from scoring import pages

urlpatterns = [
    path("scoring/", pages.scoring_runs_page, name="scoring-runs"),
    path("scoring/start/", pages.scoring_run_start_page, name="scoring-run-start"),
    path("scoring/runs/<int:run_id>/", pages.scoring_run_detail_page, name="scoring-run-detail"),
    path("scoring/runs/<int:run_id>/resume/", pages.scoring_run_resume_page, name="scoring-run-resume"),
]
