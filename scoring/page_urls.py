"""Server-rendered pages of this app (mounted at the site root by arena/urls.py)."""
from django.urls import path  # noqa: F401

urlpatterns: list = []
