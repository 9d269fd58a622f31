"""The form of the scoring page: a dataset, the scorers, and optional per-scorer options as JSON."""

from __future__ import annotations

import json

from django import forms

from arena.widgets import CheckboxesWithReasons, refuse_unavailable


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
