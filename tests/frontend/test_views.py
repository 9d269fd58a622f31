"""The views of issue 15 without a browser: leaderboard expander and notes, genealogy layout/filters/card,
dataset card, forms that show errors once and disable what cannot run here, favicon, ReDoc, admin."""
from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from frontend.card_charts import radar, small_multiple
from frontend.dash_apps import genealogy, leaderboard
from frontend.dash_apps.genealogy_layout import ROW_GAP, layered_positions
from frontend.templatetags.arena_format import report_rows

pytestmark = pytest.mark.django_db


def _board(user, **kwargs):
    return leaderboard.update_board("tiny", "", "", [], "any", None, None, None, [], 0, user=user, **kwargs)


def test_leaderboard_row_expands_into_per_benchmark_scores_with_intervals(small_board, other_user):
    _, data, *_ = _board(other_user)
    alpha_row = next(i for i, r in enumerate(data) if r["dataset"] == "alpha")
    expanded, active, selected = leaderboard.toggle_row({"row": alpha_row, "column_id": "expand"}, data, [])
    assert expanded == ["alpha"] and active is None and selected == []
    assert leaderboard.toggle_row({"row": alpha_row, "column_id": "name"}, data, [])[0] == []  # only ▸ toggles
    _, data, *_ = _board(other_user, expanded=expanded)
    kinds = [r["kind"] for r in data]
    assert kinds == ["reference", "dataset", "detail-head", "detail", "detail", "detail", "dataset"]
    details = {r["name"]: r for r in data if r["kind"] == "detail"}
    assert set(details) == {"G1", "G2", "M1"}
    assert details["G1"]["score"] == pytest.approx(0.55) and details["G1"]["ci"] == "[0.50, 0.60]"
    assert details["G1"]["n_seeds"] == 2 and details["G1"]["delta"] == pytest.approx(0.15)
    assert data[1]["expand"] == leaderboard.COLLAPSE
    # clicking again closes it
    assert leaderboard.toggle_row({"row": 1, "column_id": "expand"}, data, expanded)[0] == []


def test_leaderboard_compact_columns_source_links_and_too_few_note(small_board, other_user):
    from arena.models import Dataset

    Dataset.objects.filter(slug="alpha").update(source_url="https://example.org/alpha")
    columns, data, _, _, _, note = _board(other_user)
    ids = [c["id"] for c in columns]
    assert ids[:6] == ["expand", "rank", "name", "tags", "sample_count", "source"]
    assert next(c for c in columns if c["id"] == "sample_count")["format"]["specifier"] == ".3~s"  # 2000 -> 2k
    alpha = next(r for r in data if r["dataset"] == "alpha")
    assert alpha["source"] == "[link](https://example.org/alpha)" and alpha["name"] == "[Alpha](/datasets/alpha/)"
    assert "Only 2 datasets here: too few for a ranking" in note


def test_base_model_selector_shows_each_models_size(small_board, other_user):
    from training.models import BaseModel

    BaseModel.objects.filter(slug="tiny").update(parameter_count=134_515_008)
    options, first, *_ = leaderboard.init_controls(0, user=other_user)
    assert options == [{"label": "Tiny · 135M params", "value": "tiny"}]


def _graph(nodes, edges, targets):
    return {"targets": targets, "depth": 2,
            "nodes": [{"id": n, "name": n.upper(), "role": "target" if n in targets else "intermediate",
                       "domains": [], "contamination": [], "inherits_contamination_from": []} for n in nodes],
            "edges": [{"id": i, "parent": p, "child": c, "relation": "subset", "origin": o, "confidence": conf}
                      for i, (p, c, o, conf) in enumerate(edges)]}


def test_genealogy_layout_is_layered_without_overlaps():
    # root -> a, b, c (siblings) -> d (child of a and b)
    positions, height = layered_positions(["root", "a", "b", "c", "d"],
                                          [("root", "a"), ("root", "b"), ("root", "c"), ("a", "d"), ("b", "d")])
    assert positions["root"]["x"] < positions["a"]["x"] == positions["b"]["x"] == positions["c"]["x"] < \
        positions["d"]["x"]
    ys = sorted(positions[n]["y"] for n in "abc")
    assert ys[1] - ys[0] == ys[2] - ys[1] == ROW_GAP  # siblings stacked in one column, never on top of each other
    # barycentre ordering: d sits between its two parents a and b, not next to c
    assert min(positions["a"]["y"], positions["b"]["y"]) <= positions["d"]["y"] <= \
        max(positions["a"]["y"], positions["b"]["y"])
    assert height >= 3 * ROW_GAP


def test_genealogy_filters_by_origin_and_confidence():
    graph = _graph(["t", "p", "q", "r"], [("p", "t", "declared", 1.0), ("q", "t", "inferred", 0.9),
                                          ("r", "q", "inferred", 0.3)], ["t"])
    assert {n["id"] for n in genealogy.filter_graph(graph)["nodes"]} == {"t", "p", "q", "r"}
    only_declared = genealogy.filter_graph(graph, origins=["declared"])
    assert {n["id"] for n in only_declared["nodes"]} == {"t", "p"}
    confident = genealogy.filter_graph(graph, min_confidence=0.5)
    assert {n["id"] for n in confident["nodes"]} == {"t", "p", "q"}  # r hangs on a 0.3 edge only
    none = genealogy.filter_graph(graph, origins=[])
    assert [n["id"] for n in none["nodes"]] == ["t"] and none["edges"] == []


def test_genealogy_card_is_tables_and_the_page_preselects_a_target(user, client):
    from tests.frontend.showcase import build

    build(alice=user)
    card = genealogy.show_card({"id": "openhermes-math"}, user=user)
    text = str(card)
    assert "Table" in text and "repr" not in text and "[{" not in text  # no Python repr of the scores
    assert "metamathqa-40k" in text and "0.82" in text  # parents with origin and confidence
    assert "target='_top'" in text or 'target="_top"' in text or "_top" in text
    client.force_login(user)
    html = client.get("/lineage/").content.decode()
    assert "Opened on <b>openhermes-math</b>" in html  # the dataset with the most lineage edges
    hidden = Client().get("/lineage/").content.decode()  # anonymous: the private child does not count
    assert "secret" not in hidden.lower()


def test_dataset_card_sections(user, client):
    from tests.frontend.showcase import build

    build(alice=user)
    client.force_login(user)
    html = client.get("/datasets/openhermes-math/").content.decode()
    for section in ("scores", "standing", "lineage", "ingest-report", "jobs", "samples", "downloads"):
        assert f'id="{section}"' in html
    assert html.count('class="panel"') == 6  # one small multiple per scorer
    assert "median dataset" in html and "<polygon" in html  # radar against the median dataset
    assert "SmolLM2-135M-Instruct · 135M params" in html and "Δ 95% CI" in html
    assert "inferred · confidence 0.82" in html and "WizardLM Evol-Instruct 70k" in html  # full names
    assert "?format=alpaca" in html and "dataset_info.json" in html
    assert "No ingest report was recorded" in html


def test_card_chart_geometry():
    summary = {"axis": "quality", "scorer": "q", "higher_is_better": True, "mean": 3.0,
               "normalised": {"mean": 0.25}, "histogram": [0, 2, 2, 0]}
    panel = small_multiple(summary=summary, median={"median": 0.5, "n": 7})
    assert panel["available"] and panel["mean_x"] == 0.25 * panel["w"] and panel["median_x"] == 0.5 * panel["w"]
    assert [b["h"] for b in panel["bars"]] == [0, panel["h"], panel["h"], 0]
    empty = small_multiple(summary={**summary, "histogram": [0] * 20, "normalised": {"mean": None}}, median=None)
    assert not empty["available"]
    assert radar(summaries=[summary], medians={}) is None  # fewer than 3 axes: no radar
    three = [{**summary, "axis": a, "config_hash": ""} for a in ("x", "y", "z")]
    shape = radar(summaries=three, medians={("q", ""): {"median": 0.5, "n": 3}})
    assert len(shape["points"].split()) == 3 and shape["median_points"]


def test_report_rows_flatten_a_nested_report():
    rows = report_rows({"read": 10, "repaired": {"empty_turns": 3}, "skipped": ["a", "b"]})
    assert rows == [("read", "10"), ("repaired · empty turns", "3"), ("skipped", "a, b")]
    assert report_rows(None) == [] and report_rows({}) == []


def test_upload_errors_render_once(user, client):
    client.force_login(user)
    response = client.post("/datasets/upload/", {"name": "x", "visibility": "public"})
    html = response.content.decode()
    assert response.status_code == 400
    assert html.count("This field is required") == 1  # the file field, once
    response = client.post("/datasets/upload/", {"name": "x", "visibility": "public", "parents": "no-such",
                                                  "file": _upload()})
    html = response.content.decode()
    assert response.status_code == 400 and html.count("no-such") == 2  # the error once, plus the field's value


def _upload():
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("d.jsonl", b'{"instruction": "hi", "output": "hello"}\n')


def test_forms_disable_what_cannot_run_here(user, client, settings):
    from training.models import Benchmark

    settings.ARENA_JUDGE_BASE_URL = ""
    settings.ARENA_ALLOW_CODE_EXECUTION = False
    Benchmark.objects.create(name="HumanEval", slug="humaneval", domain="code", kind="code", metric="pass@1",
                             items_file="x", item_count=164)
    client.force_login(user)
    scoring = client.get("/scoring/").content.decode()
    judge = re.search(r'<input[^>]*value="judge_clarity"[^>]*>', scoring).group(0)
    assert "disabled" in judge and "no judge endpoint configured" in scoring
    assert "disabled" not in re.search(r'<input[^>]*value="char_length"[^>]*>', scoring).group(0)
    launch = client.get("/jobs/launch/").content.decode()
    assert "disabled" in re.search(r'<input[^>]*value="humaneval"[^>]*>', launch).group(0)
    assert "ARENA_ALLOW_CODE_EXECUTION" in launch
    # a hand-made POST of a disabled choice is refused with the reason, not run
    from frontend.forms import RunStartForm
    from scoring.selectors import scorer_catalog

    form = RunStartForm({"dataset": "x", "scorers": ["judge_clarity"]}, datasets=[], scorers=scorer_catalog())
    assert not form.is_valid() and "no judge endpoint configured" in str(form.errors["scorers"])
    settings.ARENA_JUDGE_BASE_URL = "http://127.0.0.1:9/v1"
    scoring = client.get("/scoring/").content.decode()
    assert "disabled" not in re.search(r'<input[^>]*value="judge_clarity"[^>]*>', scoring).group(0)


def test_favicon_redoc_offline_and_admin_for_every_model(client):
    assert client.get("/favicon.ico").status_code == 200
    redoc = client.get("/api/schema/redoc/").content.decode()
    assert "fonts.googleapis" not in redoc and not re.search(r"""(src|href)=["']https?://""", redoc)
    bundle = b"".join(client.get("/api/schema/redoc/redoc.standalone.js").streaming_content
                      if hasattr(client.get("/api/schema/redoc/redoc.standalone.js"), "streaming_content")
                      else [client.get("/api/schema/redoc/redoc.standalone.js").content])
    assert b"cdn.redoc.ly" not in bundle and b"Redoc" in bundle
    from django.apps import apps
    from django.contrib import admin

    ours = [m for m in apps.get_models() if m._meta.app_label in {"arena", "lineage", "scoring", "training"}]
    assert ours and all(admin.site.is_registered(m) for m in ours), [m for m in ours if not admin.site.is_registered(m)]
    staff = get_user_model().objects.create_superuser("root", password="pw-root-123")
    client.force_login(staff)
    for model in ours:
        url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        assert client.get(url).status_code == 200, url
