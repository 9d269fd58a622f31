"""Small presentation helpers shared by the board Dash apps (no data access here)."""
from __future__ import annotations

import plotly.graph_objects as go

STYLESHEETS = ["/static/frontend/arena.css"]  # served by Django itself, never a CDN
DOMAIN_VIEWS = [
    {"label": "Overall", "value": ""},
    {"label": "General", "value": "general"},
    {"label": "Math", "value": "math"},
    {"label": "Code", "value": "code"},
    {"label": "Reasoning", "value": "reasoning"},
]
# Fewer visible datasets than this on a board: a ranking or a correlation says little; the page says so.
MIN_DATASETS_FOR_CLAIM = 5
# One colour per dataset, in the order the datasets were picked, in every chart of a page (colour-blind safe).
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
BASE_MODEL_COLOUR = "#4b5563"
FONT = {"family": "system-ui, -apple-system, Segoe UI, sans-serif", "size": 13, "color": "#1d2430"}


def dataset_colours(slugs: list[str]) -> dict[str, str]:
    return {slug: PALETTE[i % len(PALETTE)] for i, slug in enumerate(slugs)}


def empty_figure(message: str, *, height: int = 160) -> go.Figure:
    fig = go.Figure()
    fig.update_layout(
        xaxis={"visible": False}, yaxis={"visible": False}, height=height,
        margin={"l": 10, "r": 10, "t": 10, "b": 10}, font=FONT, plot_bgcolor="white",
        annotations=[{"text": message, "showarrow": False, "xref": "paper", "yref": "paper", "x": 0.5, "y": 0.5,
                      "font": {"size": 15, "color": "#6b7280"}}],
    )
    return fig


def too_few_note(count: int, *, what: str) -> str:
    """The visible warning when a board holds too few datasets for ``what`` to mean much; "" otherwise."""
    if count >= MIN_DATASETS_FOR_CLAIM:
        return ""
    return (f"Only {count} dataset{'s' if count != 1 else ''} here: too few for {what} "
            f"(read it as anecdote below {MIN_DATASETS_FOR_CLAIM}). ")
