"""Root URLs. Each app owns its API routes under /api/v1/ and the frontend owns the pages."""
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from frontend.dash_routes import staff_add_stateless_apps

handler404 = "arena.api.errors.not_found"  # JSON {"error", "code"} under /api/, the HTML page elsewhere

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/schema/swagger/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    # frontend/redoc.html: the sidecar's ReDoc without the Google Fonts the stock template links
    path("api/schema/redoc/", SpectacularRedocView.as_view(url_name="schema", template_name="frontend/redoc.html"),
         name="redoc"),
    path("api/v1/", include("arena.api.urls")),
    path("api/v1/", include("arena.api.export_urls")),
    path("api/v1/", include("lineage.api.urls")),
    path("api/v1/", include("scoring.api.urls")),
    path("api/v1/", include("training.api.urls")),
    path("api/v1/", include("training.leaderboard.api_urls")),
    # shadows the library's own GET-and-write route of the same path (frontend/dash_routes.py)
    path("django_plotly_dash/add_stateless_apps", staff_add_stateless_apps),
    path("django_plotly_dash/", include("django_plotly_dash.urls")),
    path("", include("lineage.page_urls")),
    path("", include("scoring.page_urls")),
    path("", include("training.page_urls")),
    path("", include("frontend.urls")),
]
