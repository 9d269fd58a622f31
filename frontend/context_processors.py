"""Navigation entries that other parts of the frontend add (leaderboard, genealogy, jobs...)."""
from django.urls import NoReverseMatch, reverse

NAV_ITEMS = [
    ("Leaderboard", "leaderboard"),
    ("Compare", "compare"),
    ("Genealogy", "genealogy"),
    ("Scoring", "scoring-runs"),
    ("Jobs", "job-list"),
]


def navigation(request) -> dict:
    items = []
    for label, name in NAV_ITEMS:
        try:
            items.append({"label": label, "url": reverse(name)})
        except NoReverseMatch:
            continue  # that page is not installed
    return {"arena_nav": items}
