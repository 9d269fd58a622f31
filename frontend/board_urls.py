"""Leaderboard, comparison and analysis pages (Dash apps embedded in Django templates)."""
from django.urls import path

from frontend import board_views

urlpatterns = [
    path("leaderboard/", board_views.leaderboard_page, name="leaderboard"),
    path("leaderboard/compare/", board_views.compare_page, name="compare"),
]
