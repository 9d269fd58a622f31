"""The leaderboard Dash app: tabs per base model, filters, per-domain view, sortable table, CI figure, CSV link.

Callbacks are thin: they call ``training.leaderboard.selectors`` with the request's user (injected by
django-plotly-dash) and only reshape the result for display.
"""
from __future__ import annotations

from urllib.parse import urlencode

import plotly.graph_objects as go
from dash import dash_table, dcc, html
from dash.dependencies import Input, Output
from django.urls import reverse
from django_plotly_dash import DjangoDash

from arena.errors import ArenaError
from frontend.dash_apps.common import DOMAIN_VIEWS, STYLESHEETS, empty_figure
from training.leaderboard import selectors
from training.leaderboard.compute import DOMAINS

APP_NAME = "arena-leaderboard"
FIGURE_ROWS = 30
PAGE_SIZE = 25

app = DjangoDash(APP_NAME, serve_locally=True, external_stylesheets=STYLESHEETS)

app.layout = html.Div(
    className="dash-board",
    children=[
        dcc.Store(id="init", data=0),
        dcc.Tabs(id="base-model", value=None, children=[]),
        html.Div(
            className="lb-filters",
            children=[
                html.Label(["View ", dcc.RadioItems(id="view", options=DOMAIN_VIEWS, value="", inline=True)]),
                dcc.Input(id="search", type="search", placeholder="search name", debounce=True, value="",
                          style={"width": "16rem"}),
                dcc.Dropdown(id="tags", multi=True, placeholder="domain tags", options=[], value=[],
                             style={"minWidth": "14rem"}),
                dcc.RadioItems(id="tag-match", options=[{"label": "any tag", "value": "any"},
                                                        {"label": "exact tags", "value": "exact"}],
                               value="any", inline=True),
                html.Div(dcc.Input(id="size-min", type="number", placeholder="min samples", min=0, debounce=True),
                         style={"width": "11rem"}),
                html.Div(dcc.Input(id="size-max", type="number", placeholder="max samples", min=0, debounce=True),
                         style={"width": "11rem"}),
                dcc.Dropdown(id="year", placeholder="year", options=[], value=None, style={"minWidth": "7rem"}),
                html.A("Download CSV", id="csv", href="", target="_blank", className="button"),
            ],
        ),
        html.P(id="note", className="lb-note"),
        dash_table.DataTable(
            id="table",
            columns=[],
            data=[],
            sort_action="custom",
            sort_mode="multi",
            sort_by=[],
            page_action="custom",  # the server sorts and sends one page: the browser never holds 1,000 rows
            page_current=0,
            page_size=PAGE_SIZE,
            page_count=1,
            markdown_options={"link_target": "_top"},
            style_table={"overflowX": "auto"},
            style_cell={"fontFamily": "system-ui, sans-serif", "fontSize": "13px", "padding": "3px 6px"},
            style_header={"fontWeight": "600", "backgroundColor": "#f1f5f9"},
            style_data_conditional=[
                {"if": {"filter_query": "{kind} = reference"}, "backgroundColor": "#fef9c3", "fontStyle": "italic"}
            ],
        ),
        dcc.Graph(id="ci-figure", config={"displaylogo": False}),
    ],
)


@app.callback(
    Output("base-model", "children"), Output("base-model", "value"), Output("tags", "options"),
    Output("year", "options"),
    Input("init", "data"),
)
def init_controls(_init, *, user=None):
    options = selectors.leaderboard_filter_options(viewer=user)
    tabs = [dcc.Tab(label=o["label"], value=o["value"]) for o in options["base_models"]]
    first = options["base_models"][0]["value"] if options["base_models"] else None
    return tabs, first, options["tags"], options["years"]


NUMERIC = {"type": "numeric", "format": {"specifier": ".3f"}}


def table_columns(*, leaderboard: selectors.Leaderboard) -> list[dict]:
    columns = [
        {"name": "Rank", "id": "rank", "type": "numeric"},
        {"name": "Dataset", "id": "name", "presentation": "markdown"},
        {"name": "Tags", "id": "tags"},
        {"name": "Samples", "id": "sample_count", "type": "numeric"},
        {"name": "Score", "id": "score", **NUMERIC},
        {"name": "95% CI", "id": "ci"},
        {"name": "IQM", "id": "iqm", **NUMERIC},
        {"name": "Δ vs base", "id": "delta", **NUMERIC},
        {"name": "Δ per 1k samples", "id": "efficiency", "type": "numeric", "format": {"specifier": ".4f"}},
        {"name": "Seeds", "id": "n_seeds", "type": "numeric"},
    ]
    if leaderboard.domain:
        columns += [{"name": b["name"], "id": f"b:{b['slug']}", **NUMERIC} for b in leaderboard.benchmarks]
    else:
        columns += [{"name": d.title(), "id": f"d:{d}", **NUMERIC} for d in DOMAINS]
    return columns


def _md_escape(text: str) -> str:
    return "".join("\\" + c if c in "\\`*_{}[]()#+-.!<>|" else c for c in text)


def table_records(*, leaderboard: selectors.Leaderboard) -> list[dict]:
    records = []
    link = reverse("dataset-detail", args=["SLUG"]).replace("SLUG", "{}")  # one reverse() for all rows
    for row in ([leaderboard.reference] if leaderboard.reference else []) + leaderboard.rows:
        if row["is_reference"]:
            name = row["name"]
        else:
            name = f"[{_md_escape(row['name'])}]({link.format(row['dataset'])})"
        record = {
            "kind": "reference" if row["is_reference"] else "dataset",
            "dataset": row["dataset"],
            "rank": row["rank"],
            "name": name,
            "tags": " ".join(row["domains"]),
            "sample_count": row["sample_count"],
            "score": row["score"],
            "ci": "–" if row["ci_low"] is None else f"[{row['ci_low']:.3f}, {row['ci_high']:.3f}]",
            "ci_low": row["ci_low"],
            "ci_high": row["ci_high"],
            "iqm": row["iqm"],
            "delta": row["delta"],
            "efficiency": row["efficiency"],
            "n_seeds": row["n_seeds"],
        }
        record.update({f"d:{d}": v for d, v in row["domain_scores"].items()})
        record.update({f"b:{s}": v for s, v in row["benchmarks"].items()})
        records.append(record)
    return records


def sort_records(records: list[dict], sort_by: list[dict] | None) -> list[dict]:
    """Sort the dataset rows by the table's sort spec; the reference row stays pinned on top."""
    pinned = [r for r in records if r["kind"] == "reference"]
    rest = [r for r in records if r["kind"] != "reference"]
    for spec in reversed(sort_by or []):
        column = "score" if spec["column_id"] == "ci" else spec["column_id"]
        present = [r for r in rest if r.get(column) is not None]
        missing = [r for r in rest if r.get(column) is None]
        present.sort(key=lambda r: r[column], reverse=spec["direction"] == "desc")
        rest = present + missing  # empty cells last either way
    return pinned + rest


def ci_figure(*, leaderboard: selectors.Leaderboard, records: list[dict]) -> go.Figure:
    shown = [r for r in records if r["kind"] == "dataset" and r["score"] is not None][:FIGURE_ROWS]
    if not shown:
        return empty_figure("No datasets to plot")
    names = [r["dataset"] for r in shown][::-1]
    scores = [r["score"] for r in shown][::-1]
    fig = go.Figure(
        go.Scatter(
            x=scores, y=names, mode="markers", name="score",
            error_x={"type": "data", "symmetric": False,
                     "array": [r["ci_high"] - r["score"] for r in shown][::-1],
                     "arrayminus": [r["score"] - r["ci_low"] for r in shown][::-1]},
        )
    )
    if leaderboard.reference and leaderboard.reference["score"] is not None:
        fig.add_vline(x=leaderboard.reference["score"], line_dash="dash", annotation_text="base model")
    fig.update_layout(
        title=f"Score with 95% CI (the {len(shown)} rows of this table page)",
        height=max(260, 22 * len(shown) + 90), margin={"l": 10, "r": 10, "t": 40, "b": 30},
        xaxis_title="score" if not leaderboard.domain else f"{leaderboard.domain} score",
    )
    return fig


def csv_href(*, base_model: str, view: str, search: str, tags: list[str], tag_match: str, size_min, size_max,
             year) -> str:
    params = {"base_model": base_model, "domain": view or "", "search": search or "", "tags": ",".join(tags or []),
              "tag_match": tag_match or "any", "size_min": size_min if size_min is not None else "",
              "size_max": size_max if size_max is not None else "", "year": year or "", "format": "csv"}
    return f"{reverse('api-leaderboard')}?{urlencode({k: v for k, v in params.items() if v != ''})}"


@app.callback(
    Output("table", "columns"), Output("table", "data"), Output("table", "page_count"), Output("ci-figure", "figure"),
    Output("csv", "href"), Output("note", "children"),
    Input("base-model", "value"), Input("view", "value"), Input("search", "value"), Input("tags", "value"),
    Input("tag-match", "value"), Input("size-min", "value"), Input("size-max", "value"), Input("year", "value"),
    Input("table", "sort_by"), Input("table", "page_current"),
)
def update_board(base_model, view, search, tags, tag_match, size_min, size_max, year, sort_by, page_current=0, *,
                 user=None):
    if not base_model:
        return [], [], 1, empty_figure("No results yet"), "", "No base model has finished jobs yet."
    try:
        leaderboard = selectors.leaderboard_get(
            viewer=user, base_model=base_model, domain=view or "",
            filters=selectors.LeaderboardFilters(
                search=(search or "").strip(), domains=tuple(tags or ()), domain_match=tag_match or "any",
                size_min=int(size_min) if size_min is not None else None,
                size_max=int(size_max) if size_max is not None else None,
                year=int(year) if year else None,
            ),
        )
    except ArenaError as exc:
        return [], [], 1, empty_figure(exc.message), "", exc.message
    records = sort_records(table_records(leaderboard=leaderboard), sort_by)
    pinned = [r for r in records if r["kind"] == "reference"]
    ranked = records[len(pinned):]
    page_count = max(1, -(-len(ranked) // PAGE_SIZE))
    page = min(max(int(page_current or 0), 0), page_count - 1)
    shown = pinned + ranked[page * PAGE_SIZE:(page + 1) * PAGE_SIZE]  # the reference is on every page
    note = (
        f"{len(leaderboard.rows)} of {leaderboard.visible_count} ranked datasets match. "
        + ("" if leaderboard.reference else "No base-model reference run: deltas are not available. ")
        + "Rank: 1 + datasets whose 95% CI lies entirely above; overlapping intervals tie. "
        "The base-model row is pinned and not ranked."
    )
    href = csv_href(base_model=base_model, view=view, search=search, tags=tags, tag_match=tag_match,
                    size_min=size_min, size_max=size_max, year=year)
    return table_columns(leaderboard=leaderboard), shown, page_count, \
        ci_figure(leaderboard=leaderboard, records=shown), href, note
