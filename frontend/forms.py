from django import forms

from arena.domains import DEFAULT_DOMAINS
from arena.ingest.formats import SAMPLE_FORMATS
from arena.ingest.sources import FILE_FORMATS
from arena.models import Dataset, Domain
from lineage.models import LineageEdge


def _domain_choices() -> list[tuple[str, str]]:
    names = sorted(set(DEFAULT_DOMAINS) | set(Domain.objects.values_list("name", flat=True)))
    return [(name, name) for name in names]


class UploadForm(forms.Form):
    file = forms.FileField(help_text="JSONL, JSON array, Parquet or CSV; optionally gzip (.gz) or zstd (.zst)")
    name = forms.CharField(max_length=200)
    visibility = forms.ChoiceField(choices=Dataset.Visibility.choices, initial="public")
    domains = forms.MultipleChoiceField(choices=_domain_choices, required=False, widget=forms.CheckboxSelectMultiple)
    license = forms.CharField(max_length=100, required=False)
    source_url = forms.URLField(required=False, assume_scheme="https")
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    file_format = forms.ChoiceField(
        choices=[("", "auto-detect")] + [(f, f) for f in FILE_FORMATS], required=False
    )
    sample_format = forms.ChoiceField(
        choices=[("", "auto-detect")] + [(f, f) for f in SAMPLE_FORMATS], required=False
    )
    policy = forms.ChoiceField(
        label="Ingest policy",
        choices=Dataset.Policy.choices,
        initial=Dataset.Policy.REPAIR,
        widget=forms.RadioSelect,
        required=False,  # left out: repair, the default
        help_text="Repair drops leading assistant turns, merges consecutive same-role turns, drops empty turns and "
        "maps role names such as human/gpt/bot; records it cannot repair are skipped and listed in a downloadable "
        "rejects file. The upload is refused if more than half of the records are skipped.",
    )
    parents = forms.CharField(
        required=False, help_text="slugs of parent datasets, comma-separated", max_length=2000
    )
    parent_relation = forms.ChoiceField(choices=LineageEdge.Relation.choices, initial="subset", required=False)
    parent_evidence = forms.CharField(required=False, max_length=2000)

    def clean_policy(self) -> str:
        return self.cleaned_data.get("policy") or Dataset.Policy.REPAIR
