from django.urls import path

from arena.api import export_views, token_views, views

urlpatterns = [
    path("auth/token/", token_views.TokenLoginView.as_view(), name="api-token"),
    path("auth/tokens/", token_views.TokenListCreateView.as_view(), name="api-token-list"),
    path("auth/tokens/<int:token_id>/", token_views.TokenRevokeView.as_view(), name="api-token-revoke"),
    path("auth/tokens/<int:token_id>/rotate/", token_views.TokenRotateView.as_view(), name="api-token-rotate"),
    path("datasets/", views.DatasetListCreateView.as_view(), name="api-dataset-list"),
    path("datasets/preview/", views.DatasetPreviewView.as_view(), name="api-dataset-preview"),
    path("datasets/<slug:slug>/", views.DatasetDetailView.as_view(), name="api-dataset-detail"),
    path("datasets/<slug:slug>/rejects/", views.DatasetRejectsView.as_view(), name="api-dataset-rejects"),
    path("datasets/<slug:slug>/samples/", views.DatasetSamplesView.as_view(), name="api-dataset-samples"),
    path("datasets/<slug:slug>/export/", export_views.DatasetExportView.as_view(), name="api-dataset-export"),
    path(
        "datasets/<slug:slug>/export/dataset_info/",
        export_views.DatasetInfoView.as_view(),
        name="api-dataset-export-info",
    ),
]
