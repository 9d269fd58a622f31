from django.urls import path

from arena.api import export_views

urlpatterns = [
    path("datasets/<slug:slug>/export/", export_views.DatasetExportView.as_view(), name="api-dataset-export"),
    path(
        "datasets/<slug:slug>/export/dataset_info/",
        export_views.DatasetInfoView.as_view(),
        name="api-dataset-export-info",
    ),
]
