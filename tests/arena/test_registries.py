"""File formats and sample formats are registries like the scorers': every other list derives from them."""

from __future__ import annotations

import pytest

from arena.ingest.file_formats import FileFormat, extension_formats, file_format_names, file_formats
from arena.ingest.formats import SAMPLE_FORMATS, detect_sample_format, normalise
from arena.ingest.sample_formats import sample_format_get, sample_format_names, sample_formats


def test_every_list_of_formats_derives_from_the_registries():
    from arena.api.serializers import DatasetCreateSerializer
    from arena.client.cli import EXPORT_FORMATS as CLI_FORMATS
    from arena.exports import EXPORT_FORMATS
    from arena.ingest.sources import FILE_FORMATS, _EXTENSION_FORMATS
    from frontend.forms import UploadForm

    assert FILE_FORMATS == file_format_names() == ("jsonl", "json", "parquet", "csv")
    assert SAMPLE_FORMATS == sample_format_names() == ("alpaca", "sharegpt", "messages")
    assert EXPORT_FORMATS == SAMPLE_FORMATS
    assert tuple(CLI_FORMATS) == SAMPLE_FORMATS  # the HTTP-only client restates them; this keeps it honest
    assert _EXTENSION_FORMATS == extension_formats()
    assert tuple(DatasetCreateSerializer().fields["file_format"].choices) == FILE_FORMATS
    form = UploadForm()
    assert [v for v, _ in form.fields["file_format"].choices][1:] == list(FILE_FORMATS)
    assert [v for v, _ in form.fields["sample_format"].choices][1:] == list(SAMPLE_FORMATS)


def test_each_format_is_one_module_registered_by_name():
    for spec in file_formats():
        assert type(spec).__module__ == f"arena.ingest.file_formats.{type(spec).__module__.rsplit('.', 1)[1]}"
        assert isinstance(spec, FileFormat) and spec.extensions
    for spec in sample_formats():
        assert type(spec).__module__ == f"arena.ingest.sample_formats.{spec.name}"
        assert sample_format_get(spec.name) is spec


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        ({"instruction": "q", "output": "a"}, "alpaca"),
        ({"conversations": [{"from": "human", "value": "q"}, {"from": "gpt", "value": "a"}]}, "sharegpt"),
        ({"messages": [{"from": "human", "value": "q"}, {"from": "gpt", "value": "a"}]}, "sharegpt"),
        ({"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}, "messages"),
        # both keys: the OpenAI messages win, as before the registry
        ({"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}],
          "conversations": []}, "messages"),
    ],
)
def test_detection_order_is_kept(record, expected):
    assert detect_sample_format(record, location="line 1") == expected
    sample = normalise(record, sample_format=expected, location="line 1", index=0).sample
    assert [m["content"] for m in sample.messages] == ["q", "a"]
