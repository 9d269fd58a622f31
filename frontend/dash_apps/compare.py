"""The comparison Dash app (2-4 datasets side by side) and the "which scores predict value" app.

Callbacks call ``frontend.composition`` and ``training.leaderboard`` reads with the request's user and only build
figures.
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from dash import dash_table, dcc, html
from dash.dependencies import Input, Output
from django_plotly_dash import DjangoDash

from arena.errors import ArenaError
from frontend import composition
from frontend.dash_apps.common import (
    BASE_MODEL_COLOUR, FONT, MIN_DATASETS_FOR_CLAIM, STYLESHEETS, dataset_colours, empty_figure, too_few_note,
)
from training.leaderboard import comparison, selectors
from training.leaderboard.compute import DOMAINS, KEYS

COMPARE_APP = "arena-compare"
PREDICTORS_APP = "arena-predictors"

app = DjangoDash(COMPARE_APP, serve_locally=True, external_stylesheets=STYLESHEETS)

app.layout = html.Div(
    className="dash-board",
    children=[
        dcc.Store(id="initial", data=[]),  # slugs from the page URL (initial_arguments)
        html.Div(
            className="lb-filters",
            children=[
                dcc.Dropdown(id="datasets", multi=True, placeholder="pick 2-4 datasets", options=[], value=[],
                             style={"minWidth": "30rem"}),
                dcc.Dropdown(id="cmp-base-model", placeholder="base model", options=[], value=None,
                             clearable=False, style={"minWidth": "12rem"}),
            ],
        ),
        html.P(id="cmp-note", className="lb-note"),
        dcc.Graph(id="bars", config={"displaylogo": False}),
        html.Div(className="two-col", children=[
            dcc.Graph(id="radar", config={"displaylogo": False}),
            html.Div(className="p-better", children=[
                html.H4("P(row beats column)"),
                dash_table.DataTable(
                    id="p-better", columns=[], data=[],
                    style_table={"overflowX": "auto", "maxWidth": "100%"},
                    style_cell={"fontFamily": "system-ui, sans-serif", "fontSize": "13px", "padding": "4px 6px",
                                "whiteSpace": "normal", "height": "auto", "textAlign": "center",
                                "minWidth": "64px", "maxWidth": "140px"},
                    style_header={"fontWeight": "600", "backgroundColor": "#f1f5f9"},
                    style_cell_conditional=[{"if": {"column_id": "row"}, "textAlign": "left", "fontWeight": "600",
                                             "minWidth": "120px", "maxWidth": "200px"}],
                ),
                html.P("Share of (benchmark, seed) pairs where the row's dataset scores above the column's; "
                       "0.5 = no difference.", className="lb-note"),
            ]),
        ]),
        dcc.Graph(id="score-hist", config={"displaylogo": False}),
        dcc.Graph(id="lengths", config={"displaylogo": False}),
    ],
)


@app.callback(
    Output("datasets", "options"), Output("datasets", "value"), Output("cmp-base-model", "options"),
    Output("cmp-base-model", "value"),
    Input("initial", "data"),
)
def init_compare(initial, *, user=None):
    options = comparison.compare_dataset_options(viewer=user)
    allowed = {o["value"] for o in options}
    chosen = [s for s in (initial or []) if s in allowed][: selectors.MAX_COMPARE]
    base_models = selectors.leaderboard_filter_options(viewer=user)["base_models"]
    return options, chosen, base_models, (base_models[0]["value"] if base_models else None)


def _colours(datasets: list[dict]) -> dict[str, str]:
    return dataset_colours([d["dataset"] for d in datasets])


def benchmark_bars(*, entry: dict, datasets: list[dict]) -> go.Figure:
    fig = go.Figure()
    names = [b["name"] for b in entry["benchmarks"]]
    colours = _colours(datasets)
    for d in datasets:
        cells = [b["datasets"].get(d["dataset"], {}) for b in entry["benchmarks"]]
        means = [c.get("mean") for c in cells]
        fig.add_bar(
            name=d["name"], x=names, y=means, marker_color=colours[d["dataset"]],
            error_y={"type": "data", "symmetric": False, "color": "#374151",
                     "array": [(c["ci_high"] - c["mean"]) if c.get("ci_high") is not None else 0 for c in cells],
                     "arrayminus": [(c["mean"] - c["ci_low"]) if c.get("ci_low") is not None else 0 for c in cells]},
        )
    fig.add_scatter(name="base model", x=names, y=[b["reference"] for b in entry["benchmarks"]], mode="markers",
                    marker={"symbol": "line-ew-open", "size": 22, "color": BASE_MODEL_COLOUR,
                            "line": {"width": 3}})
    fig.update_layout(barmode="group", title=f"Benchmark scores on {entry['base_model']['name']} (95% CI over seeds)",
                      height=380, margin={"l": 50, "r": 10, "t": 50, "b": 60}, yaxis_title="score", font=FONT,
                      plot_bgcolor="white", yaxis={"gridcolor": "#e5e7eb"},
                      legend={"orientation": "h", "y": -0.18})
    return fig


def domain_radar(*, entry: dict, datasets: list[dict]) -> go.Figure:
    fig = go.Figure()
    colours = _colours(datasets)
    rows = ([entry["reference"]] if entry["reference"] else []) + entry["rows"]
    for row in rows:
        values = [row["domain_scores"][d] or 0.0 for d in DOMAINS]
        colour = BASE_MODEL_COLOUR if row["is_reference"] else colours.get(row["dataset"], BASE_MODEL_COLOUR)
        fig.add_scatterpolar(r=values + values[:1], theta=[*DOMAINS, DOMAINS[0]], name=row["name"], fill="toself",
                             opacity=0.55, line={"color": colour, "dash": "dot" if row["is_reference"] else "solid"})
    top = max([v for row in rows for v in row["domain_scores"].values() if v is not None], default=1.0)
    fig.update_layout(title="Domain averages", height=400, margin={"l": 50, "r": 50, "t": 50, "b": 30}, font=FONT,
                      polar={"radialaxis": {"range": [0, min(1.0, top * 1.1)], "angle": 90, "tickangle": 90,
                                            "nticks": 4, "tickfont": {"size": 10}}},
                      legend={"orientation": "h", "y": -0.12})
    return fig


def p_better_table(*, entry: dict, datasets: list[dict] | None = None) -> tuple[list[dict], list[dict]]:
    names = {d["dataset"]: d["name"] for d in datasets or []}
    slugs = [r["dataset"] for r in entry["rows"]]
    columns = [{"name": "", "id": "row"}] + [{"name": names.get(s, s), "id": s} for s in slugs]
    data = []
    for x in slugs:
        record = {"row": names.get(x, x)}
        for y in slugs:
            p = entry["p_better"].get(x, {}).get(y)
            record[y] = "–" if x == y or p is None else f"{p:.2f}"
        data.append(record)
    return columns, data


def _histogram_counts(histogram) -> tuple[list[float], list[float]]:
    """Bin centres and counts of a score histogram as the scoring engine stores it: ``{"edges": [...],
    "counts": [...]}`` or a plain list of counts over equal bins of [0, 1]."""
    if isinstance(histogram, dict):
        counts = list(histogram.get("counts") or [])
        edges = list(histogram.get("edges") or histogram.get("bins") or np.linspace(0, 1, len(counts) + 1))
    else:
        counts = list(histogram or [])
        edges = list(np.linspace(0, 1, len(counts) + 1))
    centres = [(a + b) / 2 for a, b in zip(edges[:-1], edges[1:])]
    return centres, counts


def _has_values(summary: dict) -> bool:
    return bool(summary.get("histogram")) and sum(_histogram_counts(summary["histogram"])[1]) > 0


def score_histograms(*, distributions: dict, datasets: list[dict]) -> go.Figure:
    """Small multiples, one per scoring axis/scorer: each dataset's share of samples per normalised-score bin.
    A panel whose scorer is undefined for every sample of every dataset says "n/a" instead of staying blank."""
    if not distributions["available"]:
        return empty_figure(distributions["note"])
    names = {d["dataset"]: d["name"] for d in datasets}
    colours = _colours(datasets)
    by_panel: dict[tuple[str, str], dict[str, dict]] = {}
    for slug, items in distributions["datasets"].items():
        for s in items:
            if s.get("scope") != "setwise":
                by_panel.setdefault((s["axis"], s["scorer"]), {})[slug] = s
    panels = sorted(by_panel)
    if not panels:
        return empty_figure("These datasets have no score aggregates yet")
    from plotly.subplots import make_subplots

    cols = min(3, len(panels))
    rows = (len(panels) + cols - 1) // cols
    titles = []
    for panel in panels:
        missing = [names[slug] for slug in names if not _has_values(by_panel[panel].get(slug, {}))]
        titles.append(f"{panel[0]} · {panel[1]}" + (f" (n/a: {len(missing)} of {len(names)})" if missing else ""))
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=titles, horizontal_spacing=0.06, vertical_spacing=0.14)
    shown_legend: set[str] = set()
    for i, panel in enumerate(panels):
        row, col = i // cols + 1, i % cols + 1
        drawn = False
        for slug in names:
            s = by_panel[panel].get(slug)
            if not s or not _has_values(s):
                continue
            x, y = _histogram_counts(s["histogram"])
            total = sum(y) or 1
            fig.add_scatter(x=x, y=[c / total for c in y], name=names[slug], legendgroup=slug,
                            showlegend=slug not in shown_legend, line={"shape": "hvh", "color": colours[slug],
                                                                       "width": 2},
                            row=row, col=col)
            shown_legend.add(slug)
            drawn = True
        if not drawn:
            axis = "" if i == 0 else str(i + 1)
            fig.add_annotation(text="n/a<br>undefined for every sample", showarrow=False, x=0.5, y=0.5,
                               xref=f"x{axis} domain", yref=f"y{axis} domain", font={"size": 14, "color": "#6b7280"})
            fig.update_xaxes(visible=False, row=row, col=col)
            fig.update_yaxes(visible=False, row=row, col=col)
    fig.update_xaxes(range=[0, 1], gridcolor="#e5e7eb")
    fig.update_layout(title="Score distributions per scoring axis (share of samples; scores normalised to [0, 1])",
                      height=240 * rows + 130, margin={"l": 40, "r": 10, "t": 60, "b": 70}, font=FONT,
                      plot_bgcolor="white", legend={"orientation": "h", "y": -0.04 - 0.1 / rows, "yanchor": "top"})
    fig.update_annotations(font_size=12)
    return fig


def length_histograms(*, lengths: dict, datasets: list[dict]) -> go.Figure:
    edges = lengths["edges"]
    if not edges:
        return empty_figure("n/a: no response lengths (datasets not ingested)")
    centres = [(a + b) / 2 for a, b in zip(edges[:-1], edges[1:])]
    colours = _colours(datasets)
    fig = go.Figure()
    for d in datasets:
        counts = lengths["counts"][d["dataset"]]
        total = sum(counts) or 1
        fig.add_scatter(x=centres, y=[c / total for c in counts], name=f"{d['name']} "
                        f"(n={lengths['sampled_rows'][d['dataset']]:,})", line={"shape": "hvh",
                                                                               "color": colours[d["dataset"]]})
    fig.update_layout(title="Answer length distribution (response tokens, first samples of each dataset)",
                      xaxis_title="response tokens", yaxis_title="share of samples", height=340, font=FONT,
                      margin={"l": 50, "r": 10, "t": 50, "b": 40}, plot_bgcolor="white",
                      legend={"orientation": "h", "y": -0.25})
    return fig


@app.callback(
    Output("bars", "figure"), Output("radar", "figure"), Output("p-better", "columns"), Output("p-better", "data"),
    Output("score-hist", "figure"), Output("lengths", "figure"), Output("cmp-note", "children"),
    Input("datasets", "value"), Input("cmp-base-model", "value"),
)
def update_compare(datasets, base_model, *, user=None):
    blank = empty_figure("Pick 2 to 4 datasets")
    if not datasets or len(datasets) < 2 or not base_model:
        return blank, blank, [], [], blank, blank, "Pick 2 to 4 datasets and a base model."
    try:
        data = composition.leaderboard_compare(viewer=user, datasets=datasets, base_model=base_model)
    except ArenaError as exc:
        return blank, blank, [], [], blank, blank, exc.message
    entry = data["base_models"][0]
    note = ""
    if entry["missing"]:
        note = f"No results on {entry['base_model']['name']} for: {', '.join(entry['missing'])}. "
    note += "P(X > Y) is " + data["definitions"]["p_better"].split(": ", 1)[1] + "."
    columns, rows = p_better_table(entry=entry, datasets=data["datasets"])
    return (
        benchmark_bars(entry=entry, datasets=data["datasets"]),
        domain_radar(entry=entry, datasets=data["datasets"]),
        columns, rows,
        score_histograms(distributions=data["score_distributions"], datasets=data["datasets"]),
        length_histograms(lengths=data["response_lengths"], datasets=data["datasets"]),
        note,
    )


# --- which scores predict value --------------------------------------------------------------------------------

predictors = DjangoDash(PREDICTORS_APP, serve_locally=True, external_stylesheets=STYLESHEETS)

predictors.layout = html.Div(
    className="dash-board",
    children=[
        dcc.Store(id="pred-init", data=0),
        dcc.Dropdown(id="pred-base-model", placeholder="base model", options=[], value=None, clearable=False,
                     style={"maxWidth": "28rem"}),
        html.P(id="pred-note", className="lb-note"),
        dcc.Graph(id="pred-heatmap", config={"displaylogo": False}),
        dash_table.DataTable(id="pred-table", columns=[
            {"name": "Scorer", "id": "scorer"}, {"name": "Axis", "id": "axis"}, {"name": "Domain", "id": "domain"},
            {"name": "Spearman ρ", "id": "rho", "type": "numeric", "format": {"specifier": ".2f"}},
            {"name": "CI low", "id": "ci_low", "type": "numeric", "format": {"specifier": ".2f"}},
            {"name": "CI high", "id": "ci_high", "type": "numeric", "format": {"specifier": ".2f"}},
            {"name": "Datasets", "id": "n", "type": "numeric"},
        ], data=[], sort_action="native", page_size=15,
            style_cell={"fontFamily": "system-ui, sans-serif", "fontSize": "13px", "padding": "3px 6px"},
            style_header={"fontWeight": "600", "backgroundColor": "#f1f5f9"}),
    ],
)


@predictors.callback(Output("pred-base-model", "options"), Output("pred-base-model", "value"),
                     Input("pred-init", "data"))
def init_predictors(_init, *, user=None):
    base_models = selectors.leaderboard_filter_options(viewer=user)["base_models"]
    return base_models, (base_models[0]["value"] if base_models else None)


@predictors.callback(Output("pred-heatmap", "figure"), Output("pred-table", "data"), Output("pred-note", "children"),
                     Input("pred-base-model", "value"))
def update_predictors(base_model, *, user=None):
    if not base_model:
        return empty_figure("No results yet"), [], "No base model has finished jobs yet."
    try:
        result = composition.score_predictors(viewer=user, base_model=base_model)
    except ArenaError as exc:
        return empty_figure(exc.message), [], exc.message
    if not result["available"] or not result["rows"]:
        return empty_figure(result["note"]), [], result["note"]
    return predictors_heatmap(rows=result["rows"]), result["rows"], \
        too_few_note(max((r["n"] for r in result["rows"]), default=0), what="a correlation") + \
        "Each cell correlates a scorer's dataset mean with the datasets' gain over the " \
        "base model, over the datasets you may see; intervals resample datasets (2000 resamples). " \
        f"Grey: fewer than {MIN_DATASETS_FOR_CLAIM} datasets, or a 95% interval that includes 0 (no evidence of " \
        "a relation either way)."


def cell_doubt(row: dict) -> str:
    """Why a correlation cell should not be read as evidence ("" when it may)."""
    if row["rho"] is None:
        return "undefined"
    if row["n"] < MIN_DATASETS_FOR_CLAIM:
        return f"n={row['n']}: too few"
    if row["ci_low"] is None or row["ci_high"] is None or row["ci_low"] <= 0 <= row["ci_high"]:
        return "CI spans 0"
    return ""


def predictors_heatmap(*, rows: list[dict]) -> go.Figure:
    """Spearman ρ per scorer (rows) and domain (columns); doubtful cells grey with the reason written in."""
    labels = sorted({f"{r['axis']} · {r['scorer']}" for r in rows})
    z = [[None] * len(KEYS) for _ in labels]
    grey = [[None] * len(KEYS) for _ in labels]
    text = [[""] * len(KEYS) for _ in labels]
    for r in rows:
        i, j = labels.index(f"{r['axis']} · {r['scorer']}"), KEYS.index(r["domain"])
        doubt = cell_doubt(r)
        if r["rho"] is None:
            text[i][j] = "n/a"
        else:
            text[i][j] = f"{r['rho']:.2f} [{r['ci_low']:.2f}, {r['ci_high']:.2f}]<br>n={r['n']}"
        if doubt:
            grey[i][j] = 1.0
            text[i][j] += f" · {doubt}"
        else:
            z[i][j] = r["rho"]
    fig = go.Figure()
    fig.add_heatmap(z=grey, x=list(KEYS), y=labels, text=text, texttemplate="%{text}", showscale=False,
                    colorscale=[[0, "#e5e7eb"], [1, "#e5e7eb"]], textfont={"color": "#6b7280", "size": 11},
                    hovertemplate="%{y} / %{x}: %{text}<extra></extra>", xgap=2, ygap=2)
    fig.add_heatmap(z=z, x=list(KEYS), y=labels, text=text, texttemplate="%{text}", zmin=-1, zmax=1,
                    colorscale="RdBu", textfont={"size": 11}, colorbar={"title": {"text": "ρ"}, "thickness": 12},
                    hovertemplate="%{y} / %{x}: %{text}<extra></extra>", xgap=2, ygap=2)
    fig.update_layout(title="Spearman ρ between scorer mean and leaderboard Δ (95% bootstrap CI)", font=FONT,
                      height=max(260, 52 * len(labels) + 120), margin={"l": 10, "r": 10, "t": 50, "b": 30},
                      yaxis={"automargin": True}, xaxis={"side": "bottom"}, plot_bgcolor="white")
    return fig


