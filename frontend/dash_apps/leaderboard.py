"""The leaderboard Dash app: a base-model selector (with sizes), filters, per-domain view, a compact sortable
table whose dataset names navigate and whose rows expand into per-benchmark scores with intervals, a CI
figure and a CSV link.

Callbacks are thin: they call ``training.leaderboard.selectors`` with the request's user (injected by
django-plotly-dash) and only reshape the result for display.
"""
from __future__ import annotations

import dataclasses
from urllib.parse import urlencode

import plotly.graph_objects as go
from dash import dash_table, dcc, html
from dash.dependencies import Input, Output, State
from django.urls import reverse
from django_plotly_dash import DjangoDash

from arena.errors import ArenaError
from frontend.dash_apps.common import DOMAIN_VIEWS, FONT, STYLESHEETS, empty_figure, too_few_note
from training.leaderboard import comparison, selectors
from training.leaderboard.compute import DOMAINS

APP_NAME = "arena-leaderboard"
FIGURE_ROWS = 30
PAGE_SIZE = 25
EXPAND, COLLAPSE = "▸", "▾"

app = DjangoDash(APP_NAME, serve_locally=True, external_stylesheets=STYLESHEETS)

SCORE = {"type": "numeric", "format": {"specifier": ".3f"}}
SIGNED = {"type": "numeric", "format": {"specifier": "+.3f"}}
# column widths that make every column fit at 1280 px; the first three stay put when the table scrolls
WIDTHS = {"expand": "26px", "rank": "50px", "name": "200px", "tags": "84px", "sample_count": "56px",
          "source": "72px", "score": "58px", "ci": "88px", "iqm": "52px", "delta": "60px", "efficiency": "84px",
          "n_seeds": "64px"}

app.layout = html.Div(
    className="dash-board",
    children=[
        dcc.Store(id="init", data=0),
        dcc.Store(id="expanded", data=[]),
        html.Div(className="lb-filters", children=[
            html.Label(["Base model ", dcc.Dropdown(id="base-model", options=[], value=None, clearable=False,
                                                    searchable=False, style={"minWidth": "22rem"})],
                       className="lb-field"),
            html.Label(["View ", dcc.RadioItems(id="view", options=DOMAIN_VIEWS, value="", inline=True)],
                       className="lb-field"),
        ]),
        html.Div(
            className="lb-filters",
            children=[
                dcc.Input(id="search", type="search", placeholder="search name", debounce=True, value="",
                          style={"width": "13rem"}),
                dcc.Dropdown(id="tags", multi=True, placeholder="domain tags", options=[], value=[],
                             style={"minWidth": "13rem"}),
                dcc.RadioItems(id="tag-match", options=[{"label": "any tag", "value": "any"},
                                                        {"label": "exact tags", "value": "exact"}],
                               value="any", inline=True),
                dcc.Input(id="size-min", type="number", placeholder="min samples", min=0, debounce=True,
                          style={"width": "10rem"}),
                dcc.Input(id="size-max", type="number", placeholder="max samples", min=0, debounce=True,
                          style={"width": "10rem"}),
                dcc.Dropdown(id="year", placeholder="year", options=[], value=None, style={"minWidth": "6rem"}),
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
            fixed_columns={"headers": True, "data": 3},  # expander, rank and name stay visible when scrolling
            style_table={"minWidth": "100%", "overflowX": "auto"},
            style_cell={"fontFamily": "system-ui, sans-serif", "fontSize": "13px", "padding": "3px 5px",
                        "whiteSpace": "normal", "height": "auto", "textAlign": "right"},
            style_header={"fontWeight": "600", "backgroundColor": "#f1f5f9", "whiteSpace": "normal",
                          "textAlign": "center"},
            style_cell_conditional=[
                *({"if": {"column_id": c}, "width": w, "minWidth": w, "maxWidth": w} for c, w in WIDTHS.items()),
                *({"if": {"column_id": c}, "textAlign": "left"} for c in ("name", "tags", "ci", "source")),
                {"if": {"column_id": "expand"}, "textAlign": "center", "cursor": "pointer", "color": "#2563eb",
                 "fontSize": "15px"},
            ],
            style_data_conditional=[
                {"if": {"filter_query": "{kind} = reference"}, "backgroundColor": "#fef9c3", "fontStyle": "italic"},
                {"if": {"filter_query": "{kind} = detail"}, "backgroundColor": "#f8fafc", "color": "#374151",
                 "fontSize": "12px"},
                {"if": {"filter_query": "{kind} = detail-head"}, "backgroundColor": "#eef2ff", "color": "#3730a3",
                 "fontSize": "12px", "fontWeight": "600"},
            ],
            css=[{"selector": ".dash-cell-value.cell-markdown p", "rule": "margin: 0"}],
        ),
        dcc.Graph(id="ci-figure", config={"displaylogo": False}),
    ],
)


@app.callback(
    Output("base-model", "options"), Output("base-model", "value"), Output("tags", "options"),
    Output("year", "options"),
    Input("init", "data"),
)
def init_controls(_init, *, user=None):
    options = selectors.leaderboard_filter_options(viewer=user)
    base_models = [{"label": o["label"], "value": o["value"]} for o in options["base_models"]]
    first = base_models[0]["value"] if base_models else None
    return base_models, first, options["tags"], options["years"]


def table_columns(*, leaderboard: selectors.Leaderboard) -> list[dict]:
    columns = [
        {"name": "", "id": "expand"},
        {"name": "Rank", "id": "rank", "type": "numeric"},
        {"name": "Dataset", "id": "name", "presentation": "markdown"},
        {"name": "Tags", "id": "tags"},
        {"name": "Size", "id": "sample_count", "type": "numeric", "format": {"specifier": ".3~s"}},
        {"name": "Source", "id": "source", "presentation": "markdown"},
        {"name": "Score", "id": "score", **SCORE},
        {"name": "95% CI", "id": "ci"},
        {"name": "IQM", "id": "iqm", **SCORE},
        {"name": "Δ vs base", "id": "delta", **SIGNED},
        {"name": "Δ per 1k", "id": "efficiency", "type": "numeric", "format": {"specifier": "+.2~g"}},
        {"name": "Seeds", "id": "n_seeds", "type": "numeric"},
    ]
    if leaderboard.domain:
        columns += [{"name": b["name"], "id": f"b:{b['slug']}", **SCORE} for b in leaderboard.benchmarks]
    else:
        columns += [{"name": d.title(), "id": f"d:{d}", **SCORE} for d in DOMAINS]
    return columns


def _md_escape(text: str) -> str:
    return "".join("\\" + c if c in "\\`*_{}[]()#+-.!<>|" else c for c in text)


def _ci_text(low, high, digits: int = 2) -> str:
    return "–" if low is None or high is None else f"[{low:.{digits}f}, {high:.{digits}f}]"


def table_records(*, leaderboard: selectors.Leaderboard) -> list[dict]:
    records = []
    link = reverse("dataset-detail", args=["SLUG"]).replace("SLUG", "{}")  # one reverse() for all rows
    for row in ([leaderboard.reference] if leaderboard.reference else []) + leaderboard.rows:
        if row["is_reference"]:
            name = row["name"]
        else:
            name = f"[{_md_escape(row['name'])}]({link.format(row['dataset'])})"
        source = row.get("source_url") or ""
        record = {
            "kind": "reference" if row["is_reference"] else "dataset",
            "dataset": row["dataset"],
            "expand": "" if row["is_reference"] else EXPAND,
            "rank": row["rank"],
            "name": name,
            "tags": " ".join(row["domains"]),
            "sample_count": row["sample_count"],
            "source": f"[link]({source})" if source.startswith(("http://", "https://")) else "",
            "score": row["score"],
            "ci": _ci_text(row["ci_low"], row["ci_high"]),
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
        column = {"ci": "score", "expand": "rank", "source": "name"}.get(spec["column_id"], spec["column_id"])
        present = [r for r in rest if r.get(column) is not None]
        missing = [r for r in rest if r.get(column) is None]
        present.sort(key=lambda r: r[column], reverse=spec["direction"] == "desc")
        rest = present + missing  # empty cells last either way
    return pinned + rest


def detail_records(*, benchmarks: list[dict], slug: str) -> list[dict]:
    """The rows an expanded dataset row opens: one per benchmark, score with its 95% interval over seeds."""
    head = {"kind": "detail-head", "dataset": slug, "expand": "", "name": "Per benchmark (mean over seeds)",
            "ci": "95% CI", "score": None, "delta": None, "n_seeds": None, "tags": "domain",
            "sample_count": None, "source": "", "rank": None}
    rows = [head]
    for b in benchmarks:
        mean, ref = b.get("mean"), b.get("reference")
        rows.append({
            "kind": "detail", "dataset": slug, "expand": "", "rank": None,
            "name": _md_escape(b["name"]) + ("" if b["counted"] else " (not counted)"),
            "tags": b["domain"], "sample_count": None, "source": "",
            "score": mean, "ci": _ci_text(b.get("ci_low"), b.get("ci_high")),
            "iqm": None, "delta": None if mean is None or ref is None else mean - ref,
            "efficiency": None, "n_seeds": b.get("n_seeds"),
        })
    return rows


def ci_figure(*, leaderboard: selectors.Leaderboard, records: list[dict]) -> go.Figure:
    shown = [r for r in records if r["kind"] == "dataset" and r["score"] is not None][:FIGURE_ROWS]
    if not shown:
        return empty_figure("No datasets to plot")
    names = {r["dataset"]: r["name"] for r in leaderboard.rows}
    labels = [names.get(r["dataset"], r["dataset"]) for r in shown][::-1]
    fig = go.Figure(
        go.Scatter(
            x=[r["score"] for r in shown][::-1], y=labels, mode="markers", name="score",
            marker={"color": "#2563eb", "size": 9},
            error_x={"type": "data", "symmetric": False, "color": "#2563eb",
                     "array": [(r["ci_high"] - r["score"]) if r["ci_high"] is not None else 0 for r in shown][::-1],
                     "arrayminus": [(r["score"] - r["ci_low"]) if r["ci_low"] is not None else 0
                                    for r in shown][::-1]},
        )
    )
    xs = [v for r in shown for v in (r["ci_low"], r["ci_high"], r["score"]) if v is not None]
    if leaderboard.reference and leaderboard.reference["score"] is not None:
        xs.append(leaderboard.reference["score"])
        fig.add_vline(x=leaderboard.reference["score"], line_dash="dash", line_color="#6b7280",
                      annotation_text="base model", annotation_position="top right")
    pad = (max(xs) - min(xs)) * 0.05 or 0.01
    fig.update_xaxes(range=[min(xs) - pad, max(xs) + pad])
    fig.update_layout(
        title=f"Score with 95% CI (the {len(shown)} datasets of this table page)",
        height=max(220, 28 * len(shown) + 100), margin={"l": 10, "r": 20, "t": 40, "b": 40}, font=FONT,
        xaxis_title="score" if not leaderboard.domain else f"{leaderboard.domain} score",
        yaxis={"automargin": True}, plot_bgcolor="white", xaxis={"gridcolor": "#e5e7eb"},
    )
    return fig


def csv_href(*, base_model: str, view: str, search: str, tags: list[str], tag_match: str, size_min, size_max,
             year) -> str:
    params = {"base_model": base_model, "domain": view or "", "search": search or "", "tags": ",".join(tags or []),
              "tag_match": tag_match or "any", "size_min": size_min if size_min is not None else "",
              "size_max": size_max if size_max is not None else "", "year": year or "", "format": "csv"}
    return f"{reverse('api-leaderboard')}?{urlencode({k: v for k, v in params.items() if v != ''})}"


def board_note(*, leaderboard: selectors.Leaderboard) -> str:
    single_seed = sum(1 for r in leaderboard.rows if r["n_seeds"] < 2)
    return (
        too_few_note(leaderboard.visible_count, what="a ranking")
        + f"{len(leaderboard.rows)} of {leaderboard.visible_count} ranked datasets match. "
        + ("" if leaderboard.reference else "No base-model reference run: deltas are not available. ")
        + (f"{single_seed} dataset(s) have a single seed: no interval, so they tie with everything they overlap. "
           if single_seed else "")
        + "Rank: 1 + datasets whose 95% CI lies entirely above; overlapping intervals tie. "
        "The base-model row is pinned and not ranked. ▸ opens a dataset's per-benchmark scores."
    )


@app.callback(
    Output("expanded", "data"), Output("table", "active_cell"), Output("table", "selected_cells"),
    Input("table", "active_cell"), State("table", "data"), State("expanded", "data"),
    prevent_initial_call=True,
)
def toggle_row(active_cell, data, expanded):
    """A click on a row's ▸ opens (or closes) its per-benchmark rows; other clicks change nothing."""
    expanded = list(expanded or [])
    if active_cell and active_cell.get("column_id") == "expand" and 0 <= active_cell.get("row", -1) < len(data or []):
        record = data[active_cell["row"]]
        if record.get("kind") == "dataset":
            slug = record["dataset"]
            expanded = [s for s in expanded if s != slug] if slug in expanded else expanded + [slug]
    return expanded, None, []


@app.callback(
    Output("table", "columns"), Output("table", "data"), Output("table", "page_count"), Output("ci-figure", "figure"),
    Output("csv", "href"), Output("note", "children"),
    Input("base-model", "value"), Input("view", "value"), Input("search", "value"), Input("tags", "value"),
    Input("tag-match", "value"), Input("size-min", "value"), Input("size-max", "value"), Input("year", "value"),
    Input("table", "sort_by"), Input("table", "page_current"), Input("expanded", "data"),
)
def update_board(base_model, view, search, tags, tag_match, size_min, size_max, year, sort_by, page_current=0,
                 expanded=None, *, user=None):
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
    page_count = max(1, -(-len(leaderboard.rows) // PAGE_SIZE))
    page = min(max(int(page_current or 0), 0), page_count - 1)
    if sort_by:
        records = sort_records(table_records(leaderboard=leaderboard), sort_by)
        pinned = [r for r in records if r["kind"] == "reference"]
        shown = pinned + records[len(pinned):][page * PAGE_SIZE:(page + 1) * PAGE_SIZE]
    else:  # the board's own order: only this page's rows become table records
        window = dataclasses.replace(leaderboard, rows=leaderboard.rows[page * PAGE_SIZE:(page + 1) * PAGE_SIZE])
        shown = table_records(leaderboard=window)  # the reference (first) is on every page
    data = []
    for record in shown:
        data.append(record)
        if record["kind"] == "dataset" and record["dataset"] in (expanded or []):
            record["expand"] = COLLAPSE
            benchmarks = comparison.dataset_benchmark_scores(viewer=user, base_model=base_model,
                                                            dataset=record["dataset"])
            if view:
                benchmarks = [b for b in benchmarks if b["domain"] == view]
            data.extend(detail_records(benchmarks=benchmarks, slug=record["dataset"]))
    href = csv_href(base_model=base_model, view=view, search=search, tags=tags, tag_match=tag_match,
                    size_min=size_min, size_max=size_max, year=year)
    return table_columns(leaderboard=leaderboard), data, page_count, \
        ci_figure(leaderboard=leaderboard, records=shown), href, board_note(leaderboard=leaderboard)
