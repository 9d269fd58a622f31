"""Leaderboard, comparison and analysis pages (Dash apps embedded in Django templates)."""
from django.urls import path  # noqa: F401

urlpatterns: list = []
