"""Dataset genealogy: edges between datasets, with history."""
from __future__ import annotations

from django.conf import settings
from django.db import models


class LineageEdge(models.Model):
    """``child`` was derived from ``parent``.

    Edges are never updated in place: restating or revising an edge adds a new
    row and marks the previous one ``superseded_at``, so the history survives.
    """

    class Relation(models.TextChoices):
        SUBSET = "subset", "subset / filtered"
        MIXTURE = "mixture", "mixture / composition"
        DISTILLATION = "distillation"
        SYNTHETIC = "synthetic", "synthetic generation"
        TRANSLATION = "translation"
        EVOLUTION = "evolution", "semantic evolution"
        OVERLAP = "overlap", "unexplained sample overlap"
        EDITED = "edited", "edited copy / near duplicate"

    class Origin(models.TextChoices):
        DECLARED = "declared"
        INFERRED = "inferred"

    child = models.ForeignKey("arena.Dataset", on_delete=models.CASCADE, related_name="parent_edges")
    parent = models.ForeignKey("arena.Dataset", on_delete=models.CASCADE, related_name="child_edges")
    relation = models.CharField(max_length=20, choices=Relation.choices)
    origin = models.CharField(max_length=10, choices=Origin.choices)
    confidence = models.FloatField(default=1.0)
    evidence = models.TextField(blank=True)
    details = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    superseded_at = models.DateTimeField(null=True, blank=True, db_index=True)
    scope = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="inferred edges: empty = inferred from public datasets only; a user = inferred from the public "
        "datasets plus that user's private ones (what that user sees). Declared edges: always empty.",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["child", "parent", "origin"]), models.Index(fields=["scope", "child"], name="lineage_edge_scope_child")]
        constraints = [
            models.CheckConstraint(condition=~models.Q(child=models.F("parent")), name="lineage_edge_not_self"),
            models.CheckConstraint(
                condition=models.Q(confidence__gte=0) & models.Q(confidence__lte=1), name="lineage_edge_confidence_0_1"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.child_id} <-{self.relation}- {self.parent_id} ({self.origin})"


class DatasetRelease(models.Model):
    """A release date declared by the dataset's owner: evidence for the direction of inferred edges
    (of two overlapping datasets with declared dates, the older is the parent)."""

    dataset = models.OneToOneField("arena.Dataset", on_delete=models.CASCADE, related_name="lineage_release")
    released_on = models.DateField()
    declared_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    declared_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.dataset_id} released {self.released_on}"


class ScopeOverride(models.Model):
    """For ``owner``, the inferred parents of ``dataset`` are the edges of scope ``owner`` (possibly none),
    not those of the public scope: the owner's private datasets change how its overlap is explained."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    dataset = models.ForeignKey("arena.Dataset", on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", "dataset"], name="lineage_scope_override_unique")]


class DatasetSignature(models.Model):
    """A dataset's place in the MinHash/LSH overlap index.

    The per-sample MinHash signatures live in storage (``signature_file``: ``-sig.npy``
    [n x num_perm uint32] and ``-rep.npy`` [n int64, the first sample with an identical
    signature]); so do the LSH band keys (``bands_file``: ``-keys.npy`` [sorted int64] and
    ``-idx.npy`` [each key's sample, int32]). Both are computed once per dataset: indexing a
    new dataset only reads the others' files. A dataset is searched by others once its
    ``bands_file`` is recorded.
    """

    class Status(models.TextChoices):
        QUEUED = "queued"
        INDEXING = "indexing"
        READY = "ready"
        FAILED = "failed"

    dataset = models.OneToOneField("arena.Dataset", on_delete=models.CASCADE, related_name="lineage_signature")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED, db_index=True)
    error = models.TextField(blank=True)
    signature_file = models.CharField(max_length=500, blank=True)
    bands_file = models.CharField(max_length=500, blank=True, help_text="sorted LSH band keys (storage name of the first part)")
    bands_parts = models.PositiveIntegerField(default=0, help_text="sorted parts of the band file")
    sample_count = models.BigIntegerField(default=0)
    params = models.JSONField(default=dict, blank=True, help_text="num_perm, bands, rows, shingle size, seed")
    task_id = models.CharField(max_length=64, blank=True)
    signed_at = models.DateTimeField(null=True, blank=True, help_text="when the signatures were computed")
    indexed_at = models.DateTimeField(null=True, blank=True, help_text="when the overlap search last finished")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"signature of {self.dataset_id} ({self.status})"


class DatasetOverlap(models.Model):
    """Measured near-duplicate sample overlap between two datasets (``a.pk < b.pk``).

    ``a_in_b`` is the share of ``a``'s samples that near-duplicate some sample of ``b``, and vice versa.
    A measurement, recomputed in place when either side is re-indexed (edges keep the history).
    """

    a = models.ForeignKey("arena.Dataset", on_delete=models.CASCADE, related_name="+")
    b = models.ForeignKey("arena.Dataset", on_delete=models.CASCADE, related_name="+")
    a_matched = models.BigIntegerField()
    b_matched = models.BigIntegerField()
    a_total = models.BigIntegerField()
    b_total = models.BigIntegerField()
    a_in_b = models.FloatField()
    b_in_a = models.FloatField()
    a_exact = models.BigIntegerField(default=0, help_text="of a_matched, samples with an identical shingle set in b")
    b_exact = models.BigIntegerField(default=0)
    candidate_pairs = models.BigIntegerField(default=0)
    params = models.JSONField(default=dict, blank=True)
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["a", "b"], name="lineage_overlap_pair"),
            models.CheckConstraint(condition=models.Q(a__lt=models.F("b")), name="lineage_overlap_ordered"),
        ]
        indexes = [models.Index(fields=["b"], name="lineage_overlap_b")]

    def share_of(self, dataset_id: int) -> float:
        """The share of ``dataset_id``'s samples found in the other side."""
        return self.a_in_b if dataset_id == self.a_id else self.b_in_a


class ContaminationFinding(models.Model):
    """One n-gram contamination scan of a dataset against a benchmark (history kept: a new row per scan)."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    dataset = models.ForeignKey("arena.Dataset", on_delete=models.CASCADE, related_name="contamination_findings")
    benchmark = models.ForeignKey("training.Benchmark", on_delete=models.CASCADE, related_name="contamination_findings")
    ngram_size = models.PositiveSmallIntegerField(default=13)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED, db_index=True)
    error = models.TextField(blank=True)
    items_total = models.PositiveIntegerField(default=0)
    items_contaminated = models.PositiveIntegerField(default=0)
    samples_total = models.BigIntegerField(default=0)
    samples_hitting = models.BigIntegerField(default=0)
    ratio = models.FloatField(default=0.0, help_text="items_contaminated / items_total")
    examples = models.JSONField(default=list, blank=True, help_text="the first few hits; every hit is a ContaminationHit")
    semantic_threshold = models.FloatField(
        null=True, blank=True, help_text="cosine similarity for the semantic (embedding) signal; empty = n-gram only"
    )
    embedder = models.JSONField(default=dict, blank=True, help_text="identity of the embedder used by the semantic signal")
    items_ngram = models.PositiveIntegerField(default=0, help_text="items flagged by the n-gram signal")
    items_semantic = models.PositiveIntegerField(default=0, help_text="items flagged by the semantic signal")
    task_id = models.CharField(max_length=64, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["dataset", "benchmark", "status"], name="lineage_contam_ds_bm")]

    @property
    def contaminated(self) -> bool:
        return self.status == self.Status.DONE and self.items_contaminated > 0

    def __str__(self) -> str:
        return f"{self.dataset_id} x {self.benchmark_id}: {self.items_contaminated}/{self.items_total}"


class ContaminationHit(models.Model):
    """One flagged benchmark item of a scan, per signal, with the best-matching sample (text on both sides)."""

    class Signal(models.TextChoices):
        NGRAM = "ngram", "word n-gram overlap"
        SEMANTIC = "semantic", "embedding similarity (paraphrase)"

    finding = models.ForeignKey(ContaminationFinding, on_delete=models.CASCADE, related_name="hits")
    item_id = models.CharField(max_length=200)
    item_position = models.PositiveIntegerField()
    item_text = models.TextField()
    signal = models.CharField(max_length=10, choices=Signal.choices)
    score = models.FloatField(help_text="ngram: share of the item's n-grams found in the sample; semantic: cosine similarity")
    matched = models.TextField(blank=True, help_text="ngram: the first shared n-gram")
    sample_idx = models.BigIntegerField()
    sample_id = models.CharField(max_length=200, blank=True)
    sample_text = models.TextField()
    samples_matching = models.PositiveIntegerField(default=1, help_text="samples of the dataset that match this item")

    class Meta:
        ordering = ["finding", "item_position", "signal"]
        constraints = [models.UniqueConstraint(fields=["finding", "item_position", "signal"], name="lineage_hit_unique")]

    def __str__(self) -> str:
        return f"{self.finding_id}: {self.item_id} ({self.signal})"
