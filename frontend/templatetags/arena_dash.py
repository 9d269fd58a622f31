"""``{% arena_dash_app %}``: embed a Dash app in a same-origin iframe that links can navigate out of and that
grows with its content.

django-plotly-dash's own ``plotly_app`` tag gives the iframe a fixed height and a sandbox without
``allow-top-navigation-by-user-activation``, so a clicked ``target="_top"`` link inside the app is blocked
("Unsafe attempt to initiate navigation"). This tag reuses that tag's app lookup and initial-argument
cache, and renders its own iframe: the sandbox lets a *clicked* link navigate the page (never a script on
its own), and ``frontend/dash-frame.js`` resizes the iframe to the height of what the app rendered.
"""
from __future__ import annotations

from django import template
from django_plotly_dash.templatetags.plotly_dash import plotly_app

register = template.Library()

SANDBOX = " ".join([
    "allow-downloads", "allow-scripts", "allow-same-origin", "allow-modals", "allow-popups",
    "allow-popups-to-escape-sandbox", "allow-top-navigation-by-user-activation",
])


@register.inclusion_tag("frontend/tags/dash_app.html", takes_context=True)
def arena_dash_app(context, name: str, title: str, min_height: str = "320px", initial_arguments=None) -> dict:
    located = plotly_app(context, name=name, initial_arguments=initial_arguments, height=min_height)
    return {"src": located["app"].base_url, "sandbox": SANDBOX, "min_height": min_height, "title": title,
            "name": name}
