"""Every page of the site (mounted at the root by arena/urls.py). The API routes live in each app's
``api/urls.py`` under /api/v1/; the page views live in ``frontend/pages/<topic>.py``."""
from django.contrib.auth import views as auth_views
from django.urls import include, path

from frontend.dash_routes import staff_add_stateless_apps
from frontend.pages import accounts, datasets, genealogy, jobs, leaderboard, scoring

urlpatterns = [
    # the Dash apps' routes; the first shadows the library's own GET-and-write route of the same path
    path("django_plotly_dash/add_stateless_apps", staff_add_stateless_apps),
    path("django_plotly_dash/", include("django_plotly_dash.urls")),
    # lineage
    path("lineage/", genealogy.genealogy_page, name="genealogy"),
    # the JSON schemas of Arena's own OpenLineage facets: the stable targets of their _schemaURL
    path("openlineage/facets/1-0-0/<str:name>.json", genealogy.openlineage_facet_schema,
         name="openlineage-facet-schema"),
    # scoring
    path("scoring/", scoring.scoring_runs_page, name="scoring-runs"),
    path("scoring/start/", scoring.scoring_run_start_page, name="scoring-run-start"),
    path("scoring/runs/<int:run_id>/", scoring.scoring_run_detail_page, name="scoring-run-detail"),
    path("scoring/runs/<int:run_id>/resume/", scoring.scoring_run_resume_page, name="scoring-run-resume"),
    # training
    path("jobs/", jobs.job_list_page, name="job-list"),
    path("jobs/launch/", jobs.job_launch_page, name="job-launch"),
    path("jobs/<int:job_id>/", jobs.job_detail_page, name="job-detail"),
    path("jobs/<int:job_id>/cancel/", jobs.job_cancel_page, name="job-cancel"),
    path("jobs/<int:job_id>/retry/", jobs.job_retry_page, name="job-retry"),
    # datasets
    path("favicon.ico", datasets.favicon, name="favicon"),
    path("api/schema/redoc/redoc.standalone.js", datasets.redoc_bundle, name="redoc-bundle"),
    path("", datasets.dataset_list_page, name="home"),
    path("datasets/", datasets.dataset_list_page, name="dataset-list"),
    path("datasets/upload/", datasets.dataset_upload_page, name="dataset-upload"),
    path("datasets/<slug:slug>/", datasets.dataset_detail_page, name="dataset-detail"),
    # accounts
    path("accounts/login/", accounts.ThrottledLoginView.as_view(), name="login"),
    path("accounts/password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("accounts/tokens/", accounts.tokens_page, name="account-tokens"),
    path("accounts/tokens/<int:token_id>/revoke/", accounts.token_revoke_page, name="account-token-revoke"),
    path("accounts/tokens/<int:token_id>/rotate/", accounts.token_rotate_page, name="account-token-rotate"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    # leaderboard and comparison
    path("leaderboard/", leaderboard.leaderboard_page, name="leaderboard"),
    path("leaderboard/compare/", leaderboard.compare_page, name="compare"),
]
