from django.urls import path

from lineage.api import views

urlpatterns = [
    path("lineage/graph/", views.GraphView.as_view(), name="api-lineage-graph"),
    path("lineage/analysis/", views.AnalysisView.as_view(), name="api-lineage-analysis"),
    path("lineage/edges/", views.EdgeListCreateView.as_view(), name="api-lineage-edges"),
    path("lineage/edges/import/", views.EdgeImportView.as_view(), name="api-lineage-edges-import"),
    path("lineage/overlap/", views.OverlapView.as_view(), name="api-lineage-overlap"),
    path("lineage/contamination/", views.ContaminationView.as_view(), name="api-lineage-contamination"),
    path("lineage/contamination/items/", views.ContaminationItemsView.as_view(), name="api-lineage-contamination-items"),
    path("lineage/release/", views.ReleaseView.as_view(), name="api-lineage-release"),
    path("lineage/export/", views.ExportView.as_view(), name="api-lineage-export"),
]
