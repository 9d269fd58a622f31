"""Server-rendered pages of this app (mounted at the site root by arena/urls.py)."""
from django.urls import path

from training import views

urlpatterns = [
    path("jobs/", views.job_list_page, name="job-list"),
    path("jobs/launch/", views.job_launch_page, name="job-launch"),
    path("jobs/<int:job_id>/", views.job_detail_page, name="job-detail"),
    path("jobs/<int:job_id>/cancel/", views.job_cancel_page, name="job-cancel"),
    path("jobs/<int:job_id>/retry/", views.job_retry_page, name="job-retry"),
]
