from django.urls import path
from rest_framework.authtoken.views import obtain_auth_token

from arena.api import views

urlpatterns = [
    path("auth/token/", obtain_auth_token, name="api-token"),
    path("datasets/", views.DatasetListCreateView.as_view(), name="api-dataset-list"),
    path("datasets/preview/", views.DatasetPreviewView.as_view(), name="api-dataset-preview"),
    path("datasets/<slug:slug>/", views.DatasetDetailView.as_view(), name="api-dataset-detail"),
    path("datasets/<slug:slug>/rejects/", views.DatasetRejectsView.as_view(), name="api-dataset-rejects"),
    path("datasets/<slug:slug>/samples/", views.DatasetSamplesView.as_view(), name="api-dataset-samples"),
]
