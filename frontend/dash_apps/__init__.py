"""Dash apps embedded in Django pages (django-plotly-dash). Importing a module registers its app."""
