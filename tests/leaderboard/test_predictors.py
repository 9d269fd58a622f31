"""'Which scores predict value': Spearman between a scorer's dataset mean and the delta, by hand."""
from __future__ import annotations

import pytest

from frontend import composition
from training.leaderboard import comparison


def test_spearman_per_scorer_and_domain(scored_board, other_user):
    result = composition.score_predictors(viewer=other_user, base_model="tiny")
    assert result["available"]
    rows = {(r["scorer"], r["domain"]): r for r in result["rows"]}
    assert rows[("up", "overall")]["rho"] == pytest.approx(1.0)
    assert rows[("up", "overall")]["n"] == 4  # the private dataset is not counted for bob
    assert rows[("down", "general")]["rho"] == pytest.approx(-1.0)
    assert rows[("up", "math")]["rho"] is None and rows[("up", "math")]["n"] == 0  # no math results


def test_owner_sees_their_private_dataset_counted(scored_board, user):
    rows = {(r["scorer"], r["domain"]): r for r in composition.score_predictors(viewer=user, base_model="tiny")["rows"]}
    assert rows[("up", "overall")]["n"] == 5
    assert rows[("up", "overall")]["rho"] < 1.0


def test_compare_includes_score_histograms(scored_board, other_user):
    data = composition.leaderboard_compare(viewer=other_user, datasets=["d0", "d3"])
    dist = data["score_distributions"]
    assert dist["available"]
    assert {s["scorer"] for s in dist["datasets"]["d3"]} == {"up", "down"}
    assert dist["datasets"]["d3"][0]["histogram"] == [1] * 20


def test_response_lengths_come_from_the_parquet_column(board, user, make_upload):
    from arena import services

    lines = "".join(f'{{"instruction": "q{i}", "output": "{" ".join(["w"] * (i + 1))}"}}\n' for i in range(6))
    dataset = services.dataset_register(owner=user, upload=make_upload(lines), filename="d.jsonl", name="lengths",
                                        ingest_now=True)
    dataset.refresh_from_db()
    assert dataset.status == "ready", dataset.error
    assert comparison.dataset_response_lengths(dataset=dataset).tolist() == [1, 2, 3, 4, 5, 6]
    assert comparison.dataset_response_lengths(dataset=dataset, limit=4).tolist() == [1, 2, 3, 4]  # bounded


def test_new_scorer_families_are_predictors_too(board, user, other_user):
    """G-Vendi (per-sample contributions + a set value) and a setwise geometry scorer enter the predictors view like
    any scorer: G-Vendi through its mean contribution, which is log(G-Vendi), so its rank correlation is G-Vendi's."""
    import math

    from scoring.models import ScoreAggregate, ScoringRun

    board.base_model("tiny")
    board.benchmark("g1", "general")
    board.results(None, {"g1": [0.30]})
    for i, delta in enumerate([0.1, 0.2, 0.3, 0.4]):
        ds = board.dataset(f"n{i}", owner=user)
        board.results(ds, {"g1": [0.30 + delta, 0.30 + delta]})
        run = ScoringRun.objects.create(dataset=ds, scorers=["g_vendi", "logdet"], status="succeeded")
        g_vendi = 2.0 + i
        ScoreAggregate.objects.create(
            dataset=ds, run=run, scorer="g_vendi", scorer_version="1", config_hash="g", axis="diversity", reads="QA",
            scope="dataset", count=10, mean=math.log(g_vendi), set_value=g_vendi, details={"n": 10},
        )
        ScoreAggregate.objects.create(
            dataset=ds, run=run, scorer="logdet", scorer_version="1", config_hash="l", axis="diversity", reads="QA",
            scope="setwise", count=10, set_value=0.5 - 0.1 * i,
        )
    result = composition.score_predictors(viewer=other_user, base_model="tiny")
    rows = {(r["scorer"], r["domain"]): r for r in result["rows"]}
    assert rows[("g_vendi", "overall")]["rho"] == pytest.approx(1.0) and rows[("g_vendi", "overall")]["n"] == 4
    assert rows[("logdet", "overall")]["rho"] == pytest.approx(-1.0)
    assert rows[("g_vendi", "overall")]["axis"] == "diversity"
