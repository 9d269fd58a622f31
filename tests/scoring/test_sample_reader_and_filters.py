"""Row-range streaming across Parquet row groups, and score filter parsing."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.core.files.storage import default_storage

from arena.errors import InvalidInput
from arena.ingest.schema import SAMPLE_SCHEMA
from scoring.sample_reader import iter_sample_batches
from scoring.score_filters import filter_mask, parse_filter


@pytest.fixture
def samples_file():
    rows = [
        {
            "idx": i,
            "id": str(i),
            "system": "",
            "messages": [],
            "instruction": f"q{i}",
            "response": f"a{i}",
            "n_turns": 1,
            "instruction_tokens": 1,
            "response_tokens": 1,
            "source": "",
        }
        for i in range(30)
    ]
    name = "datasets/t/samples.parquet"
    path = default_storage.path(name)
    import os

    os.makedirs(os.path.dirname(path), exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows, schema=SAMPLE_SCHEMA), path, row_group_size=7)
    return name


@pytest.mark.parametrize("start, end", [(0, 30), (0, 7), (5, 9), (6, 22), (14, 21), (29, 30), (20, 99)])
@pytest.mark.parametrize("batch", [1, 3, 500])
def test_row_ranges_across_row_groups(samples_file, start, end, batch):
    got = [s.idx for b in iter_sample_batches(samples_file, start=start, end=end, batch_size=batch) for s in b]
    assert got == list(range(start, min(end, 30)))
    assert all(len(b) <= batch for b in iter_sample_batches(samples_file, start=start, end=end, batch_size=batch))


def test_filter_syntax():
    f = parse_filter("mtld.raw:50:")
    assert (f.scorer, f.basis, f.low, f.high, f.column) == ("mtld", "raw", 50.0, None, "mtld")
    g = parse_filter({"scorer": "ifd", "min": 0.2, "max": 0.9})
    assert (g.basis, g.column, g.describe()) == ("norm", "ifd__norm", "0.2 <= ifd (normalised) <= 0.9")
    assert parse_filter("repetition::0.1").as_text() == "repetition::0.1"


@pytest.mark.parametrize(
    "spec, message",
    [
        ("mtld", "must look like 'scorer[.raw]:min:max'"),
        ("mtld::", "neither a min nor a max"),
        ("mtld:0.9:0.1", "min 0.9 is greater than max 0.1"),
        ("mtld:x:", "min bound 'x' is not a number"),
        ("mtld:nan:", "finite number"),
        ("MT-LD:1:", "is not a scorer name"),
        ({"scorer": "mtld", "min": 1, "basis": "log"}, "basis must be 'norm' or 'raw'"),
        ({"scorer": "mtld", "low": 1}, "unknown key(s) low"),
        (3, "must be a string"),
    ],
)
def test_bad_filters_are_refused(spec, message):
    with pytest.raises(InvalidInput) as excinfo:
        parse_filter(spec)
    assert message in excinfo.value.message


def test_null_scores_never_pass():
    batch = pa.RecordBatch.from_pydict({"idx": [0, 1, 2], "x__norm": [0.5, None, 0.9]})
    assert filter_mask(batch, [parse_filter("x:0.4:")]).to_pylist() == [True, False, True]
    assert filter_mask(batch, [parse_filter("x::0.6")]).to_pylist() == [True, False, False]
