"""Leaderboard and comparison pages: Django templates that embed the Dash apps (the apps call the selectors)."""
from __future__ import annotations

from django.shortcuts import render

from frontend.dash_apps import compare, leaderboard  # noqa: F401 - importing registers the Dash apps
from training.leaderboard.selectors import DEFINITIONS, MAX_COMPARE


def leaderboard_page(request):
    return render(request, "frontend/leaderboard.html", {"app_name": leaderboard.APP_NAME,
                                                         "definitions": DEFINITIONS})


def compare_page(request):
    slugs = [s.strip() for s in request.GET.get("datasets", "").split(",") if s.strip()][:MAX_COMPARE]
    return render(
        request,
        "frontend/compare.html",
        {
            "compare_app": compare.COMPARE_APP,
            "predictors_app": compare.PREDICTORS_APP,
            # the Dash app keeps only slugs the viewer may see (its init callback filters them)
            "initial": {"initial": {"data": slugs}},
            "definitions": DEFINITIONS,
        },
    )
