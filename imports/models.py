"""Imports of member lists (the file, its mapping, what it changed), the column mapping an
environment remembers, duplicate candidates and merges."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.cache import cache
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from relations.models import Relation
from tenants.leases import Leased
from tenants.models import Tenant

from .querysets import DuplicateCandidateQuerySet, ImportBatchQuerySet


def progress_key(batch_id) -> str:
    return f"imports:progress:{batch_id}"


def import_upload_to(batch: ImportBatch, filename: str) -> str:
    return f"imports/{batch.tenant_id}/{batch.pk}/{filename}"


class ImportBatch(models.Model):
    """One uploaded file on its way through check, preview and import (SPEC R11): the record
    that keeps the file, the user, the mapping and the counts, and makes undo possible."""

    class Status(models.TextChoices):
        UPLOADED = "uploaded", _("Uploaded")
        QUEUED = "queued", _("Waiting")
        CHECKING = "checking", _("Being checked")
        CHECKED = "checked", _("Checked")
        IMPORTING = "importing", _("Being imported")
        IMPORTED = "imported", _("Imported")
        FAILED = "failed", _("Failed")
        UNDOING = "undoing", _("Being undone")
        UNDONE = "undone", _("Undone")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, verbose_name=_("environment"), on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.PROTECT, related_name="+")
    file = models.FileField(_("file"), upload_to=import_upload_to, max_length=300)
    file_name = models.CharField(_("file name"), max_length=200)
    file_type = models.CharField(max_length=10)
    encoding = models.CharField(max_length=20, blank=True)
    sheet = models.CharField(max_length=100, blank=True)
    # {column index (as text): target field key}
    mapping = models.JSONField(default=dict, blank=True)
    # Chosen once for the file: function_type, department and start_date (ids and ISO dates),
    # update_mode ("filled": non-empty cells; "chosen": only update_fields).
    options = models.JSONField(default=dict, blank=True)
    # The outcome of the check: per-row errors, the matches and the summary.
    result = models.JSONField(default=dict, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.UPLOADED)
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(_("created"), default=0)
    updated_count = models.PositiveIntegerField(_("updated"), default=0)
    message = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(_("uploaded at"), default=timezone.now, editable=False)
    imported_at = models.DateTimeField(_("imported at"), null=True, blank=True)
    undone_at = models.DateTimeField(_("undone at"), null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = ImportBatchQuerySet.as_manager()

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.file_name

    @property
    def access_tenant(self) -> Tenant:
        return self.tenant

    @property
    def percent(self) -> int:
        if self.status in (self.Status.CHECKED, self.Status.IMPORTED):
            return 100
        if not self.rows_total:
            return 0
        # While an import runs, its transaction holds this row: the worker reports its progress in
        # the shared cache (imports.services.progress_writer).
        done = cache.get(progress_key(self.pk), self.rows_done) if self.is_busy else self.rows_done
        return min(99, done * 100 // self.rows_total)

    @property
    def is_busy(self) -> bool:
        return self.status in BUSY_STATUSES


# A worker has the batch, or is about to: checking, importing or undoing it.
BUSY_STATUSES = frozenset({
    ImportBatch.Status.QUEUED, ImportBatch.Status.CHECKING, ImportBatch.Status.IMPORTING, ImportBatch.Status.UNDOING,
})


class ImportLease(Leased):
    """The lease of the worker busy with a batch (tenants/leases.py), in a row of its own: an
    import holds its batch row locked in its transaction until it commits, so the heartbeat could
    not renew a lease kept on the batch. `step` is what the worker was asked to do, for the reaper
    to queue it again; `queued_at` since when it waits."""

    batch = models.OneToOneField(ImportBatch, on_delete=models.CASCADE, primary_key=True, related_name="lease")
    step = models.CharField(max_length=10)
    queued_at = models.DateTimeField(default=timezone.now)


class ImportRow(models.Model):
    """The check's outcome for one row of the file (what it is, its errors, the values it will
    write), written in chunks while the check runs and read back in chunks by the preview and
    the import, so that neither holds a whole file's outcome in memory."""

    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="rows")
    line = models.PositiveIntegerField()
    action = models.CharField(max_length=10)
    outcome = models.JSONField(default=dict)

    class Meta:
        ordering = ["line"]
        constraints = [models.UniqueConstraint(fields=["batch", "line"], name="import_row_line")]
        indexes = [models.Index(fields=["batch", "action", "line"], name="import_row_action")]

    def __str__(self) -> str:
        return f"{self.batch} {self.line} {self.action}"


class ImportChange(models.Model):
    """What an import did to one relation: made it, or changed these fields from `before` to
    `after`. Undo reads these rows."""

    class Action(models.TextChoices):
        CREATED = "created", _("Created")
        UPDATED = "updated", _("Updated")

    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="changes")
    relation = models.ForeignKey(Relation, on_delete=models.SET_NULL, null=True, related_name="import_changes")
    line = models.PositiveIntegerField()
    action = models.CharField(max_length=10, choices=Action.choices)
    before = models.JSONField(default=dict)
    after = models.JSONField(default=dict)
    function_id = models.PositiveBigIntegerField(null=True)

    class Meta:
        ordering = ["line"]

    def __str__(self) -> str:
        return f"{self.batch} {self.line} {self.action}"


class ColumnMapping(models.Model):
    """The column mapping an environment used last: header (normalised) → target field."""

    tenant = models.OneToOneField(Tenant, on_delete=models.CASCADE, related_name="+")
    headers = models.JSONField(default=dict)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return str(self.tenant)


class DuplicateCandidate(models.Model):
    """Two relation cards that may be the same person (SPEC R10), with a score (0–100) and the
    reasons; `dismissed_at` remembers "not a duplicate"."""

    relation_a = models.ForeignKey(Relation, on_delete=models.CASCADE, related_name="+")
    relation_b = models.ForeignKey(Relation, on_delete=models.CASCADE, related_name="+")
    score = models.PositiveSmallIntegerField(_("score"))
    reasons = models.JSONField(default=list)
    found_at = models.DateTimeField(default=timezone.now)
    dismissed_at = models.DateTimeField(null=True, blank=True)
    dismissed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = DuplicateCandidateQuerySet.as_manager()

    class Meta:
        verbose_name = _("possible duplicate")
        verbose_name_plural = _("possible duplicates")
        permissions = [("merge_relation", _("Can merge relations"))]
        ordering = ["-score", "relation_a_id", "relation_b_id"]
        constraints = [
            models.UniqueConstraint(fields=["relation_a", "relation_b"], name="duplicate_candidate_pair_unique"),
            models.CheckConstraint(condition=models.Q(relation_a__lt=models.F("relation_b")), name="duplicate_candidate_ordered"),
        ]
        indexes = [models.Index(fields=["relation_b"])]

    def __str__(self) -> str:
        return f"{self.relation_a_id} ~ {self.relation_b_id} ({self.score})"


class Merge(models.Model):
    """Two cards merged into one: `merged` is archived and points at `kept` (SPEC R10)."""

    kept = models.ForeignKey(Relation, on_delete=models.PROTECT, related_name="merges_kept")
    merged = models.OneToOneField(Relation, on_delete=models.PROTECT, related_name="merge_record")
    merged_number = models.PositiveBigIntegerField()
    chosen = models.JSONField(default=dict)
    merged_at = models.DateTimeField(default=timezone.now)
    merged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-merged_at"]

    def __str__(self) -> str:
        return f"{self.merged_number} → {self.kept_id}"
