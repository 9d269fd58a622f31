"""The heuristic scorers give the same raw scores as before their speed work.

``data/heuristic_golden.json.gz`` holds 236 samples (150 ShareGPT-length ones from ``bench/comparisons/_sharegpt_like.py``
plus edge cases: empty texts, every script the language scorer knows, IGNORECASE look-alikes such as the Kelvin sign
and dotless i, think tags, code fences, long repetitions) and every sample-scope heuristic scorer's raw scores on them,
written by ``data/make_heuristic_golden.py`` with the code before the speed work. Counts must match exactly; real-valued
scores to 1e-9 relative (the fast paths may add the same terms in a different order).
"""
from __future__ import annotations

import gzip
import json
import math
from pathlib import Path

import pytest

from scoring.scorers.base import SampleText, build_scorer

GOLDEN = json.loads(gzip.open(Path(__file__).parent / "data" / "heuristic_golden.json.gz", "rt", encoding="utf-8").read())
SAMPLES = [SampleText(idx=i, instruction=q, response=r) for i, (q, r) in enumerate(GOLDEN["samples"])]


@pytest.mark.parametrize("key", sorted(GOLDEN["scores"]))
def test_same_scores_as_before(key):
    entry = GOLDEN["scores"][key]
    scorer = build_scorer(entry["scorer"], config=entry["config"])
    # in batches of 50, in two passes, so that per-text caches are exercised both cold and warm
    for _ in range(2):
        got = []
        for start in range(0, len(SAMPLES), 50):
            got.extend(scorer.score_batch(SAMPLES[start : start + 50]))
        assert len(got) == len(entry["raw"])
        for idx, (new, old) in enumerate(zip(got, entry["raw"])):
            if old is None:
                assert new is None, (key, idx, new)
            else:
                assert new is not None and math.isclose(new, old, rel_tol=1e-9, abs_tol=1e-12), (key, idx, new, old)
