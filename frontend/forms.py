"""Every form of the pages: the upload form, the scoring page's run form, the jobs page's launch form. The
services validate the rest."""
from __future__ import annotations

import json

from django import forms

from arena.domains import DEFAULT_DOMAINS
from arena.ingest.formats import SAMPLE_FORMATS
from arena.ingest.sources import FILE_FORMATS
from arena.models import Dataset, Domain
from arena.permissions import dataset_visible_queryset
from frontend.widgets import CheckboxesWithReasons, refuse_unavailable
from lineage.models import LineageEdge
from training.models import BaseModel, Benchmark, Recipe


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


# --- scoring page ---------------------------------------------------------------------------------------------


class RunStartForm(forms.Form):
    dataset = forms.ChoiceField(help_text="a ready dataset you can see")
    scorers = forms.MultipleChoiceField(widget=CheckboxesWithReasons)
    options = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": '{"unique_ngram_ratio": {"n": 3}}'}),
        help_text="optional JSON: scorer name -> its options",
    )

    def __init__(self, *args, datasets, scorers, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["dataset"].choices = [(d.slug, f"{d.name} ({d.slug}, {d.sample_count} samples)") for d in datasets]
        self.fields["scorers"].choices = [
            (s["name"], f"{s['name']} — {s['axis']}, reads {s['reads']}") for s in scorers
        ]
        self.unavailable = {s["name"]: s["unavailable"] for s in scorers if s.get("unavailable")}
        self.fields["scorers"].widget.unavailable = self.unavailable

    def clean_scorers(self) -> list[str]:
        chosen = self.cleaned_data["scorers"]
        refuse_unavailable(chosen=chosen, unavailable=self.unavailable, field="scorers")
        return chosen

    def clean_options(self) -> dict:
        raw = self.cleaned_data["options"].strip()
        if not raw:
            return {}
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(f"options are not valid JSON: {exc}") from None
        if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
            raise forms.ValidationError('options must be an object like {"scorer": {"option": value}}')
        return value

    def clean(self):
        cleaned = super().clean()
        extra = set(cleaned.get("options") or {}) - set(cleaned.get("scorers") or [])
        if extra:
            raise forms.ValidationError(f"options given for scorer(s) not chosen: {', '.join(sorted(extra))}")
        return cleaned

    def scorer_specs(self) -> list[dict]:
        options = self.cleaned_data.get("options") or {}
        return [{"name": name, "config": options.get(name, {})} for name in self.cleaned_data["scorers"]]


# --- jobs page ------------------------------------------------------------------------------------------------


def unavailable_benchmarks() -> dict[str, str]:
    """Benchmarks this deployment cannot run, by slug, with the reason (code execution not enabled, a kind's
    run-time requirement missing): the same check a launch makes."""
    from arena.errors import InvalidInput
    from training.evaluation.runner import benchmark_check_runnable

    unavailable = {}
    for benchmark in Benchmark.objects.all():
        try:
            benchmark_check_runnable(benchmark=benchmark)
        except InvalidInput as exc:
            unavailable[benchmark.slug] = exc.message
    return unavailable


class JobLaunchForm(forms.Form):
    dataset = forms.ModelChoiceField(
        queryset=Dataset.objects.none(), to_field_name="slug", required=False,
        empty_label="(none: evaluate the base model itself)",
    )
    base_models = forms.ModelMultipleChoiceField(queryset=BaseModel.objects.all(), to_field_name="slug")
    recipe = forms.ModelChoiceField(queryset=Recipe.objects.all(), to_field_name="slug", required=False)
    seeds = forms.CharField(initial="0,1,2", help_text="comma-separated integers; one job per base model and seed")
    benchmarks = forms.ModelMultipleChoiceField(
        queryset=Benchmark.objects.all(), to_field_name="slug", widget=CheckboxesWithReasons
    )

    def __init__(self, *args, viewer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["dataset"].queryset = dataset_visible_queryset(viewer=viewer).filter(status=Dataset.Status.READY)
        self.unavailable = unavailable_benchmarks()
        self.fields["benchmarks"].widget.unavailable = self.unavailable

    def clean_benchmarks(self):
        chosen = self.cleaned_data["benchmarks"]
        refuse_unavailable(chosen=[b.slug for b in chosen], unavailable=self.unavailable, field="benchmarks")
        return chosen

    def clean_seeds(self) -> list[int]:
        raw = self.cleaned_data["seeds"]
        try:
            seeds = [int(part) for part in raw.replace(" ", "").split(",") if part]
        except ValueError:
            raise forms.ValidationError(f"seeds must be comma-separated integers, got {raw!r}") from None
        if not seeds:
            raise forms.ValidationError("give at least one seed")
        return seeds
