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


def empty_figure(message: str) -> go.Figure:
    fig = go.Figure()
    fig.update_layout(
        xaxis={"visible": False}, yaxis={"visible": False}, height=220, margin={"l": 10, "r": 10, "t": 10, "b": 10},
        annotations=[{"text": message, "showarrow": False, "xref": "paper", "yref": "paper", "x": 0.5, "y": 0.5}],
    )
    return fig

