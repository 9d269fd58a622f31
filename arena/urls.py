"""Root URLs. Each app owns its API routes under /api/v1/ (`<app>/api/urls.py`) and the frontend owns every page."""
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

handler404 = "arena.api.errors.not_found"  # JSON {"error", "code"} under /api/, the HTML page elsewhere

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/schema/swagger/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    # frontend/redoc.html: the sidecar's ReDoc without the Google Fonts the stock template links
    path("api/schema/redoc/", SpectacularRedocView.as_view(url_name="schema", template_name="frontend/redoc.html"),
         name="redoc"),
    path("api/v1/", include("arena.api.urls")),
    path("api/v1/", include("lineage.api.urls")),
    path("api/v1/", include("scoring.api.urls")),
    path("api/v1/", include("training.api.urls")),
    path("api/v1/", include("frontend.api.urls")),  # endpoints composing several apps (compare, predictors)
    path("", include("frontend.urls")),
]
