"""Server-rendered pages of this app (mounted at the site root by arena/urls.py)."""
from django.urls import path

from lineage.pages import genealogy_page

urlpatterns = [
    path("lineage/", genealogy_page, name="genealogy"),
]
