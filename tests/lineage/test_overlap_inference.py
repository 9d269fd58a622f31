"""Inferred lineage: a constructed family of datasets is recovered with the right edges and overlaps."""
from __future__ import annotations

import os

import numpy as np
import pytest
from datasketch import MinHash

from lineage.minhash import MinHashParams, estimated_jaccard, signatures
from lineage.models import DatasetOverlap, DatasetSignature, LineageEdge
from lineage.services import dataset_overlap_index
from lineage.text import word_ngrams, words
from tests.lineage.conftest import synthetic_samples

TOL = 0.03


def _share(first, second) -> float:
    """Share of ``first``'s samples found in ``second``."""
    a, b = sorted([first, second], key=lambda d: d.pk)
    row = DatasetOverlap.objects.get(a=a, b=b)
    return row.share_of(first.pk)


def _inferred(child) -> dict[str, LineageEdge]:
    edges = LineageEdge.objects.filter(child=child, origin="inferred", superseded_at__isnull=True).select_related("parent")
    return {e.parent.slug: e for e in edges}


def test_minhash_estimates_jaccard_like_datasketch():
    base = synthetic_samples(1, seed=9, words=120)[0]
    text = f"{base['instruction']} {base['output']}"
    tokens = text.split()
    variants = [" ".join(tokens[:k] + [f"x{i}" for i in range(120 - k)]) for k in (120, 100, 80, 60, 30)]
    params = MinHashParams()
    sig = signatures([text, *variants], params=params)
    for i, variant in enumerate(variants, start=1):
        left = set(word_ngrams(words(text), 3))
        right = set(word_ngrams(words(variant), 3))
        exact = len(left & right) / len(left | right)
        ours = float(estimated_jaccard(sig[:1], sig[i : i + 1])[0])
        ref_a, ref_b = MinHash(num_perm=128, seed=1), MinHash(num_perm=128, seed=1)
        ref_a.update_batch([g.encode() for g in left])
        ref_b.update_batch([g.encode() for g in right])
        assert abs(ours - exact) < 0.15, (i, ours, exact)
        assert abs(ours - ref_a.jaccard(ref_b)) < 0.2


def test_empty_text_never_matches():
    sig = signatures(["", "", "some words here"], params=MinHashParams())
    assert estimated_jaccard(sig[:1], sig[1:2])[0] == 0.0


@pytest.mark.django_db
def test_family_recovered_with_edges_and_fractions(family):
    for key in "ABCD":
        dataset_overlap_index(dataset_id=family[key].pk)
    a, b, c, d = (family[k] for k in "ABCD")

    assert _share(b, a) == pytest.approx(1.0, abs=TOL)
    assert _share(a, b) == pytest.approx(0.3, abs=TOL)
    assert _share(c, a) == pytest.approx(0.5, abs=TOL)
    assert _share(a, c) == pytest.approx(0.4, abs=TOL)
    assert _share(c, d) == pytest.approx(0.5, abs=TOL)
    assert _share(d, c) == pytest.approx(40 / 120, abs=TOL)
    assert not DatasetOverlap.objects.filter(a=min(b.pk, c.pk), b=max(b.pk, c.pk)).exists()

    assert _inferred(a) == {}
    assert _inferred(d) == {}
    b_edges = _inferred(b)
    assert set(b_edges) == {a.slug} and b_edges[a.slug].relation == "subset"
    assert b_edges[a.slug].confidence == pytest.approx(1.0, abs=TOL)
    assert b_edges[a.slug].details["parent_share_in_child"] == pytest.approx(0.3, abs=TOL)
    c_edges = _inferred(c)
    assert set(c_edges) == {a.slug, d.slug}
    assert {e.relation for e in c_edges.values()} == {"mixture"}
    assert c_edges[a.slug].confidence == pytest.approx(0.5, abs=TOL)
    assert "50.0%" in c_edges[a.slug].evidence and "draws from 2 source(s)" in c_edges[a.slug].evidence
    assert c_edges[d.slug].details["source_shares"] == {a.slug: pytest.approx(0.5, abs=TOL), d.slug: pytest.approx(0.5, abs=TOL)}
    assert c_edges[d.slug].details["covered_by_sources"] == pytest.approx(1.0, abs=TOL)


@pytest.mark.django_db
def test_near_duplicates_count_as_overlap(user, make_dataset):
    base = synthetic_samples(60, seed=11, words=80)
    edited = [dict(s, output=s["output"].replace(s["output"].split()[5], "changed", 1)) for s in base]
    first = make_dataset(user, "orig", base)
    second = make_dataset(user, "edited", edited[:30] + synthetic_samples(10, seed=12, words=80))
    dataset_overlap_index(dataset_id=first.pk)
    dataset_overlap_index(dataset_id=second.pk)
    assert _share(second, first) == pytest.approx(0.75, abs=TOL)
    assert _share(first, second) == pytest.approx(0.5, abs=TOL)
    assert _inferred(second)[first.slug].relation == "overlap"


@pytest.mark.django_db
def test_incremental_indexing_does_not_recompute_existing_signatures(family, make_dataset, user, _isolated_storage):
    for key in "ABCD":
        dataset_overlap_index(dataset_id=family[key].pk)
    before = {
        s.dataset_id: (s.signed_at, os.stat(_isolated_storage / s.signature_file).st_mtime_ns)
        for s in DatasetSignature.objects.all()
    }
    a_sig = np.load(_isolated_storage / DatasetSignature.objects.get(dataset=family["A"]).signature_file)
    e_samples = synthetic_samples(100, seed=1)[:70] + synthetic_samples(10, seed=7)  # 70 of A's, B's 30 among them
    e = make_dataset(user, "fam-e", e_samples)
    record = dataset_overlap_index(dataset_id=e.pk)
    assert record.status == "ready"
    after = {
        s.dataset_id: (s.signed_at, os.stat(_isolated_storage / s.signature_file).st_mtime_ns)
        for s in DatasetSignature.objects.exclude(dataset=e)
    }
    assert after == before
    assert np.array_equal(a_sig, np.load(_isolated_storage / DatasetSignature.objects.get(dataset=family["A"]).signature_file))
    assert _share(e, family["A"]) == pytest.approx(0.875, abs=TOL)
    assert _inferred(e)[family["A"].slug].relation == "subset"
    # B lies inside E, which lies inside A: B's edge now comes from E (A -> B is explained by A -> E -> B)
    assert set(_inferred(family["B"])) == {e.slug}


@pytest.mark.django_db
def test_reindex_is_idempotent_and_keeps_edge_history(family):
    for key in "ABCD":
        dataset_overlap_index(dataset_id=family[key].pk)
    count = LineageEdge.objects.count()
    dataset_overlap_index(dataset_id=family["C"].pk)
    assert LineageEdge.objects.count() == count  # unchanged edges are not rewritten


@pytest.mark.django_db
def test_deleted_overlap_retracts_inferred_edge_but_keeps_history(family):
    for key in "AB":
        dataset_overlap_index(dataset_id=family[key].pk)
    edge = LineageEdge.objects.get(child=family["B"], origin="inferred")
    DatasetOverlap.objects.all().delete()
    from lineage.services import edges_infer

    edges_infer(dataset_ids=[family["B"].pk], threshold=0.7)
    edge.refresh_from_db()
    assert edge.superseded_at is not None
    assert LineageEdge.objects.filter(pk=edge.pk).exists()


@pytest.mark.django_db
def test_declared_release_dates_decide_direction_and_keep_history(user, other_user, family):
    from rest_framework.test import APIClient

    for key in "AB":
        dataset_overlap_index(dataset_id=family[key].pk)
    a, b = family["A"], family["B"]
    first = LineageEdge.objects.get(child=b, origin="inferred", superseded_at__isnull=True)
    assert first.parent_id == a.pk  # B lies inside A
    client = APIClient()
    client.force_authenticate(other_user)
    response = client.post("/api/v1/lineage/release/", {"dataset": b.slug, "released_on": "2020-01-01"}, format="json")
    assert response.status_code == 403
    client.force_authenticate(user)
    assert client.post("/api/v1/lineage/release/", {"dataset": b.slug, "released_on": "someday"}, format="json").status_code == 400
    for slug, day in ((b.slug, "2020-01-01"), (a.slug, "2023-06-30")):
        response = client.post("/api/v1/lineage/release/", {"dataset": slug, "released_on": day}, format="json")
        assert response.status_code == 201, response.json()
    # B was released first: A is B plus new samples, so the edge turns around; the old one is kept as history
    edge = LineageEdge.objects.get(child=a, origin="inferred", superseded_at__isnull=True)
    assert edge.parent_id == b.pk and edge.details["direction_basis"] == "declared release dates"
    assert edge.relation == "mixture"
    first.refresh_from_db()
    assert first.superseded_at is not None
    assert not LineageEdge.objects.filter(child=b, origin="inferred", superseded_at__isnull=True).exists()
