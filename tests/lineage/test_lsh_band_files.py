"""The LSH band files: candidate search equals the brute-force definition, files follow their dataset's life."""
from __future__ import annotations

import numpy as np
import pytest

from arena.errors import InvalidInput
from lineage import overlap_index
from lineage.minhash import EMPTY_SLOT, MinHashParams, band_keys
from lineage.models import DatasetOverlap, DatasetSignature
from lineage.services import dataset_overlap_index
from tests.lineage.conftest import synthetic_samples


def _brute_force(own_keys: np.ndarray, other_keys: np.ndarray) -> set[tuple[int, int]]:
    return {(i, j) for i, k in enumerate(own_keys.tolist()) for j, q in enumerate(other_keys.tolist()) if k == q}


@pytest.mark.parametrize("own_n,other_n", [(300, 2000), (2000, 300), (500, 500)])
def test_matches_equal_brute_force_either_side_searched(own_n, other_n):
    rng = np.random.default_rng(own_n * 7 + other_n)
    own = np.sort(rng.integers(-60, 60, size=own_n))  # few distinct keys: many duplicates on both sides
    other = np.sort(rng.integers(-80, 40, size=other_n))
    own_pos, other_pos, counts = overlap_index._matches(own, other)
    assert set(zip(own_pos.tolist(), other_pos.tolist())) == _brute_force(own, other)
    assert len(own_pos) == len(set(zip(own_pos.tolist(), other_pos.tolist())))  # no pair twice
    assert counts.tolist() == [int((other == k).sum()) for k in own.tolist()]


def _reference_candidates(own_file: str, other_file: str, params: MinHashParams) -> set[tuple[int, int]]:
    """(other idx, own idx) of representative, non-empty samples sharing any band key: the LSH definition."""
    def keyed(signature_file):
        with overlap_index.open_signatures(signature_file) as (sig, rep):
            sig, rep = np.asarray(sig), np.asarray(rep)
        keep = (rep == np.arange(rep.size)) & ~(sig == EMPTY_SLOT).all(axis=1)
        out: dict[int, set[int]] = {}
        for i, row in zip(np.flatnonzero(keep).tolist(), band_keys(sig[keep], params=params).tolist()):
            for key in row:
                out.setdefault(key, set()).add(i)
        return out

    own, other = keyed(own_file), keyed(other_file)
    return {(j, i) for key, mine in own.items() for i in mine for j in other.get(key, ())}


@pytest.mark.django_db
def test_candidate_pairs_are_exactly_the_samples_sharing_a_band(family, monkeypatch):
    monkeypatch.setattr(overlap_index, "BAND_PART_SAMPLES", 30)  # band files in several sorted parts
    for key in "ABCD":
        dataset_overlap_index(dataset_id=family[key].pk)
    params = MinHashParams()
    records = {r.dataset_id: r for r in DatasetSignature.objects.all()}
    assert records[family["A"].pk].bands_parts == 4 and records[family["B"].pk].bands_parts == 1
    c = records[family["C"].pk]
    others = {d: overlap_index.bands_part_names(r.bands_file, r.bands_parts) for d, r in records.items() if d != c.dataset_id}
    monkeypatch.setattr(overlap_index, "PROBE_SAMPLES", 7)  # many own batches: none may lose or repeat a pair
    found: dict[int, set[tuple[int, int]]] = {}
    with overlap_index.open_signatures(c.signature_file) as (sig, rep):
        for other_id, theirs, mine in overlap_index._candidate_pairs(dataset_id=c.dataset_id, sig=sig, rep=rep, others=others, params=params):
            pairs = list(zip(theirs.tolist(), mine.tolist()))
            assert not found.setdefault(other_id, set()) & set(pairs)
            found[other_id].update(pairs)
    for other_id, record in records.items():
        if other_id == c.dataset_id:
            continue
        assert found.get(other_id, set()) == _reference_candidates(c.signature_file, record.signature_file, params)
    assert found[family["A"].pk] and found[family["D"].pk] and not found.get(family["B"].pk)


@pytest.mark.django_db
def test_band_file_sorted_rebuilt_when_missing_and_identical_on_reindex(family, _isolated_storage):
    dataset_overlap_index(dataset_id=family["A"].pk)
    record = DatasetSignature.objects.get(dataset=family["A"])
    path = _isolated_storage / record.bands_file
    keys = np.load(path)
    assert keys.size == 100 * MinHashParams().bands and np.all(np.diff(keys) >= 0)
    assert np.load(_isolated_storage / overlap_index.bands_idx_file_name(record.bands_file)).max() == 99
    first = path.read_bytes()
    dataset_overlap_index(dataset_id=family["A"].pk)
    assert path.read_bytes() == first
    path.unlink()  # lost from storage: re-indexing rebuilds it from the signatures
    dataset_overlap_index(dataset_id=family["A"].pk)
    assert path.read_bytes() == first
    record = dataset_overlap_index(dataset_id=family["A"].pk, recompute_signatures=True)
    assert (record.bands_file, record.bands_parts, record.status) == (overlap_index.bands_file_name(family["A"].pk), 1, "ready")
    assert path.read_bytes() == first


@pytest.mark.django_db(transaction=True)
def test_deleting_a_dataset_removes_its_band_files_and_it_is_no_longer_found(family, user, make_dataset, _isolated_storage):
    from arena.services import dataset_delete

    for key in "AB":
        dataset_overlap_index(dataset_id=family[key].pk)
    bands = _isolated_storage / DatasetSignature.objects.get(dataset=family["A"]).bands_file
    assert bands.exists()
    dataset_delete(dataset=family["A"], user=user)
    assert not bands.exists() and not bands.with_name("lineage-lsh-idx.npy").exists()
    copy = make_dataset(user, "copy-of-a", synthetic_samples(100, seed=1))
    dataset_overlap_index(dataset_id=copy.pk)
    assert {(o.a_id, o.b_id) for o in DatasetOverlap.objects.all()} == {(family["B"].pk, copy.pk)}


@pytest.mark.django_db
def test_a_key_matching_too_many_samples_is_refused(user, make_dataset, monkeypatch):
    first = make_dataset(user, "dup-1", synthetic_samples(40, seed=3))
    second = make_dataset(user, "dup-2", synthetic_samples(40, seed=3)[:30])
    dataset_overlap_index(dataset_id=first.pk)
    monkeypatch.setattr(overlap_index, "MAX_MATCHES_PER_KEY", 1)
    with pytest.raises(InvalidInput, match="matches 1\\+ indexed samples"):
        dataset_overlap_index(dataset_id=second.pk)
    assert DatasetSignature.objects.get(dataset=second).status == "failed"


@pytest.mark.django_db(transaction=True)
def test_migration_builds_band_files_of_datasets_indexed_in_the_former_table(user, make_dataset, _isolated_storage):
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before, after = [("lineage", "0003_lineage_scoped_edges_hits")], [("lineage", "0004_lsh_band_files")]
    dataset = make_dataset(user, "indexed-before", synthetic_samples(50, seed=21))
    broken = make_dataset(user, "signature-lost", synthetic_samples(20, seed=22))
    params = MinHashParams()
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps.get_model("lineage", "DatasetSignature")
    signature_file = overlap_index.compute_signature_files(dataset=dataset, params=params)
    old.objects.create(dataset_id=dataset.pk, signature_file=signature_file, sample_count=50, params=params.as_dict(), status="ready")
    old.objects.create(dataset_id=broken.pk, signature_file="datasets/0/missing-sig.npy", sample_count=20, params=params.as_dict(), status="ready")
    executor = MigrationExecutor(connection)
    executor.migrate(after)
    record = DatasetSignature.objects.get(dataset=dataset)
    assert record.bands_file == overlap_index.bands_file_name(dataset.pk) and record.bands_parts == 1
    keys = np.load(_isolated_storage / record.bands_file)
    with overlap_index.open_signatures(signature_file) as (sig, _rep):
        assert np.array_equal(keys, np.sort(band_keys(np.asarray(sig), params=params).reshape(-1)))
    lost = DatasetSignature.objects.get(dataset=broken)
    assert lost.status == "failed" and "re-index" in lost.error and lost.bands_file == ""
