"""Server-rendered pages of this app (mounted at the site root by arena/urls.py)."""
from django.urls import path

from lineage.pages import genealogy_page, openlineage_facet_schema

urlpatterns = [
    path("lineage/", genealogy_page, name="genealogy"),
    # the JSON schemas of Arena's own OpenLineage facets: the stable targets of their _schemaURL
    path("openlineage/facets/1-0-0/<str:name>.json", openlineage_facet_schema, name="openlineage-facet-schema"),
]
