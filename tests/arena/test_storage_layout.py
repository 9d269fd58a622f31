"""``arena.storage`` is the storage layout: every storage name is built there, deletion goes through it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from arena import storage

ROOT = Path(__file__).resolve().parents[2]
APPS = ("arena", "scoring", "lineage", "training", "frontend")
STORAGE_PREFIXES = r"(datasets|uploads|scores|jobs|weights|benchmarks|evaluations|models|checkpoints)/"
NAME_BUILDING = re.compile(r"""f["']""" + STORAGE_PREFIXES + r"""|["']""" + STORAGE_PREFIXES + r"""["']?\s*\+""")
# Local directories outside storage that their owners create and remove themselves: lm-eval's temporary task
# directory (under ARENA_TMP_DIR) and the training engine's own save-then-rename of weights it was told to write.
RMTREE_ALLOWED = {"arena/storage.py", "training/evaluation/harness.py", "training/engine/sft.py"}


def _sources():
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if "/migrations/" in relative or relative.startswith("arena/client/"):
                continue
            yield relative, path.read_text(encoding="utf-8")


def test_only_the_storage_module_builds_storage_names():
    offenders = [
        f"{relative}:{number}: {line.strip()}"
        for relative, text in _sources()
        if relative != "arena/storage.py"
        for number, line in enumerate(text.splitlines(), 1)
        if NAME_BUILDING.search(line)
    ]
    assert offenders == []


def test_only_the_storage_module_deletes_directory_trees():
    offenders = [relative for relative, text in _sources() if "rmtree(" in text and relative not in RMTREE_ALLOWED]
    assert offenders == []


def test_local_tree_deletion_stays_inside_storage(settings, tmp_path):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "keep.txt").write_text("x")
    with pytest.raises(ValueError, match="not under ARENA_STORAGE"):
        storage.delete_local_tree(outside)
    assert (outside / "keep.txt").is_file()
    checkpoints = storage.job_checkpoint_dir(7)
    checkpoints.mkdir(parents=True)
    (checkpoints / "step-1").write_text("x")
    storage.delete_job_checkpoints(7)
    assert not checkpoints.exists()
    assert storage.job_log_path(7).parent == storage.job_work_dir(7)


@pytest.mark.django_db
def test_every_name_is_under_its_dataset_prefix_when_it_belongs_to_a_dataset():
    scores = storage.dataset_scores_dir(dataset_id=3)
    assert storage.chunk_output_name(dataset_id=3, run_id=1, group="g", start=0).startswith(scores)
    assert storage.reduced_output_name(dataset_id=3, run_id=1, group="g").startswith(scores)
    assert storage.run_scores_name(dataset_id=3, run_id=1).startswith(scores)
    assert storage.signature_file_name(3).startswith("datasets/3/")
    assert storage.rep_file_name(storage.signature_file_name(3)) != storage.signature_file_name(3)
    assert set(storage.dataset_storage_paths(dataset_id=3)) >= {"uploads/3/", "datasets/3/", scores}
