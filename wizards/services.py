"""Use cases of the selection wizards: copying and editing a wizard, the export log, and the
background exports of large results."""

from __future__ import annotations

import datetime
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.core.files.storage import Storage, storages
from django.db import transaction
from django.db.models import Count, Max, Q, Window
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from relations import exports
from relations.filters import as_text
from relations.services import custom_fields_for, export_log_record
from tenants.access import can_enter
from tenants.leases import heartbeat, lease_release, lease_take
from tenants.models import Tenant, User

from .catalogue import CatalogueField, catalogue_for
from .models import ExportJob, FilterMode, Section, Wizard, WizardField
from .runs import RunParameters, WizardRun

logger = logging.getLogger("ledenbeheer.exports")

EXPORT_FORMATS = ("csv", "xlsx")


# --- editing wizards ------------------------------------------------------------------------------


def may_edit(user: User, wizard: Wizard) -> bool:
    """System administrators of the wizard's environment and above edit it; ledenmodule wizards
    only with the national power (SPEC W3)."""
    if wizard.is_ledenmodule:
        return user.has_perm("wizards.change_ledenmodule_wizard", wizard)
    return user.has_perm("wizards.change_wizard", wizard)


def editable_wizard_ids(user: User, wizards: list[Wizard]) -> set[int]:
    """`may_edit` for a whole list, asking for the permissions once per environment instead of
    once per wizard."""
    if user.is_superuser:
        return {w.pk for w in wizards}
    perms_by_tenant: dict[int, set[str]] = {}
    editable = set()
    for wizard in wizards:
        tenant = wizard.access_tenant
        if tenant.pk not in perms_by_tenant:
            perms_by_tenant[tenant.pk] = user.get_all_permissions(tenant)
        perm = "wizards.change_ledenmodule_wizard" if wizard.is_ledenmodule else "wizards.change_wizard"
        if perm in perms_by_tenant[tenant.pk]:
            editable.add(wizard.pk)
    return editable


def field_filter_clean(cf: CatalogueField, *, mode: str, value: str, value_to: str) -> tuple[str, str]:
    """A field's filter as typed, checked and normalised for saving (dates ISO, choices by code):
    ValidationError keyed by the input that is wrong."""
    value, value_to = (value or "").strip(), (value_to or "").strip()
    if not mode:
        return "", ""
    if mode not in cf.modes:
        raise ValidationError({"mode": _("This filter does not fit this field.")})
    if mode == FilterMode.RANGE:
        errors = {}
        low = high = None
        for key, raw in (("value", value), ("value_to", value_to)):
            if raw:
                try:
                    parsed = cf.parse(raw)
                except ValidationError as error:
                    errors[key] = error.messages
                    continue
                if key == "value":
                    low = parsed
                else:
                    high = parsed
        if errors:
            raise ValidationError(errors)
        if low is not None and high is not None and low > high:
            raise ValidationError({"value_to": _("The end of the range lies before its start.")})
        return (cf.as_stored(low) if low is not None else ""), (cf.as_stored(high) if high is not None else "")
    lines = [line.strip() for line in value.splitlines() if line.strip()]
    if mode != FilterMode.ONE_OF and len(lines) > 1:
        raise ValidationError({"value": _("Give one value, or choose the filter “One of”.")})
    stored = []
    errors = []
    for line in lines:
        try:
            stored.append(cf.as_stored(cf.parse(line)))
        except ValidationError as error:
            errors.extend(error.messages)
    if errors:
        raise ValidationError({"value": errors})
    return "\n".join(stored), ""


@transaction.atomic
def wizard_copy(*, wizard: Wizard, actor: User, tenant: Tenant, name: str) -> Wizard:
    """A copy of `wizard` owned by `tenant`, under a new name; the original stays as it was.
    Only a copy made with the national power stays a ledenmodule wizard."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("Give the copy a name.")})
    if Wizard.objects.applying_to(tenant).filter(name__iexact=name).exists():
        raise ValidationError({"name": _("A wizard with this name already exists here.")})
    if not actor.has_perm("wizards.add_wizard", tenant):
        raise PermissionDenied
    section = wizard.section
    if section == Section.LEDENMODULE and not (
        tenant.is_root() and actor.has_perm("wizards.change_ledenmodule_wizard", tenant)
    ):
        section = Section.OTHER
    copy = Wizard.objects.create(
        tenant=tenant, name=name, section=section, description=wizard.description, created_by=actor,
    )
    WizardField.objects.bulk_create(
        WizardField(
            wizard=copy, field_key=f.field_key, order=f.order, label=f.label, mode=f.mode, value=f.value,
            value_to=f.value_to, ask=f.ask, shown=f.shown,
        )
        for f in wizard.fields.all()
    )
    return copy


@transaction.atomic
def wizard_update(
    *, wizard: Wizard, actor: User, catalogue: dict[str, CatalogueField], name: str, description: str,
    include_inactive: bool, fields: list[dict[str, Any]],
) -> Wizard:
    """Save the editor: name, description and the fields (in the given order, as given). A wizard
    keeps at least one field shown as a column."""
    if not may_edit(actor, wizard):
        raise PermissionDenied
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("Give the wizard a name.")})
    if not any(f["shown"] for f in fields):
        raise ValidationError(_("A wizard needs at least one field shown as a column."))
    rows = []
    seen: set[str] = set()
    for f in fields:
        cf = catalogue.get(f["field_key"])
        if cf is None:
            raise ValidationError(_("Unknown field “%(key)s”.") % {"key": f["field_key"]})
        if cf.key in seen:
            raise ValidationError(_("“%(field)s” is in the wizard twice; remove one.") % {"field": cf.label})
        seen.add(cf.key)
        value, value_to = field_filter_clean(cf, mode=f["mode"], value=f["value"], value_to=f["value_to"])
        rows.append(WizardField(
            wizard=wizard, field_key=cf.key, order=f["order"], label=f["label"].strip(), mode=f["mode"],
            value=value, value_to=value_to, ask=f["ask"] and bool(f["mode"]), shown=f["shown"],
        ))
    wizard.name = name
    wizard.description = description.strip()
    wizard.include_inactive = include_inactive
    wizard.full_clean(exclude=["tenant"])
    wizard.save()
    wizard.fields.all().delete()
    WizardField.objects.bulk_create(rows)
    return wizard


@transaction.atomic
def wizard_field_add(*, wizard: Wizard, actor: User, catalogue: dict[str, CatalogueField], field_key: str) -> WizardField:
    """Add a field from the catalogue at the end of the wizard, shown, without a filter."""
    if not may_edit(actor, wizard):
        raise PermissionDenied
    if field_key not in catalogue:
        raise ValidationError(_("Choose a field from the list."))
    if wizard.fields.filter(field_key=field_key).exists():
        raise ValidationError(_("“%(field)s” is already in the wizard.") % {"field": catalogue[field_key].label})
    last = wizard.fields.aggregate(last=Max("order"))["last"] or 0
    return WizardField.objects.create(wizard=wizard, field_key=field_key, order=last + 10)


def wizard_delete(*, wizard: Wizard, actor: User) -> None:
    """Delete a wizard of one's own. The shipped wizards stay: they can be edited, and copied to
    start something new."""
    if wizard.code or not may_edit(actor, wizard):
        raise PermissionDenied
    wizard.delete()


# --- background exports -----------------------------------------------------------------------------


def export_storage() -> Storage:
    """Where background exports are kept: the "exports" storage (local disk, or exports/ in the
    object store with STORAGE_URL). Files are only handed out by the download view, to the person
    who asked for them."""
    return storages["exports"]


def _export_store(scratch: Path, name: str) -> str:
    """Put a finished export file into the exports storage under `name`, replacing what a broken-off
    earlier attempt may have left, so a job never has two files; returns the stored name."""
    storage = export_storage()
    storage.delete(name)
    with scratch.open("rb") as handle:
        return storage.save(name, File(handle, name=name))


@transaction.atomic
def export_job_create(
    *, user: User, tenant: Tenant, wizard: Wizard, parameters: dict[str, Any], fmt: str,
) -> ExportJob:
    """Queue a large export; the task starts once this transaction has committed."""
    # Imported here: wizards.tasks imports this module (a task calls its service), within the app.
    from .tasks import export_job_run_task

    if fmt not in EXPORT_FORMATS:
        raise ValidationError(_("Unknown format."))
    job = ExportJob.objects.create(
        user=user, tenant=tenant, wizard=wizard, what=wizard.name, parameters=parameters, format=fmt,
        language=translation.get_language() or settings.LANGUAGE_CODE,
    )
    transaction.on_commit(lambda: export_job_run_task.delay(str(job.pk)))
    return job


def _may_still_export(job: ExportJob) -> bool:
    """The permission, checked again when the task runs: the requester may still enter the
    environment, export there, and run this wizard there."""
    user, tenant = job.user, job.tenant
    if not user.is_active or not can_enter(user, tenant):
        return False
    if not user.has_perm("relations.export_relation", tenant):
        return False
    return Wizard.objects.visible_to(user, tenant).filter(pk=job.wizard_id).exists()


def export_job_run(job_id: str) -> ExportJob:
    """Write the export of a queued job to its file, reporting progress on the job. Safe to run
    twice: a finished job is left alone, one another worker is making (it holds the lease) too;
    one whose worker died (its lease ran out) starts again from the first row, into the same
    file, and only the worker holding the lease marks it done and writes the export log."""
    job = ExportJob.objects.select_related("user", "tenant", "wizard").get(pk=job_id)
    if job.status in (ExportJob.Status.DONE, ExportJob.Status.FAILED):
        return job
    token = lease_take(
        ExportJob, job.pk, where=Q(status__in=[ExportJob.Status.PENDING, ExportJob.Status.RUNNING]),
        status=ExportJob.Status.RUNNING, rows_total=None, rows_done=0,
    )
    if token is None:
        return job
    with heartbeat(ExportJob, job.pk, token):
        return _export_job_write(job, token)


def _export_job_write(job: ExportJob, token: str) -> ExportJob:
    with translation.override(job.language):
        if job.wizard is None or not _may_still_export(job):
            return _job_fail(job, token, _("You may no longer export this selection."))
        catalogue = catalogue_for(job.tenant, custom_fields_for(job.tenant))
        fields = list(job.wizard.fields.all())
        try:
            params = RunParameters.from_json(job.parameters, catalogue, fields, job.tenant)
            run = WizardRun(job.wizard, user=job.user, tenant=job.tenant, params=params, fields=fields,
                            catalogue=catalogue)
            run.check()
        except (ValidationError, KeyError, ValueError):
            return _job_fail(job, token, _("The selection can no longer be run; run the wizard again."))
        rows = _rows_with_total(run, job)

        def progress(count: int) -> None:
            ExportJob.objects.filter(pk=job.pk).update(rows_done=count)

        # Written on this machine's disk first, then stored whole where every machine finds it.
        handle, scratch_name = tempfile.mkstemp(prefix=f"export-{job.pk}-", suffix=f".{job.format}")
        os.close(handle)
        partial = Path(scratch_name)
        try:
            if job.format == "csv":
                with open(partial, "w", encoding="utf-8", newline="") as output:
                    count = exports.csv_write(output, rows, run.columns, progress)
            else:
                count = exports.xlsx_write(str(partial), rows, run.columns, title=job.what, progress=progress)
            stored = _export_store(partial, f"{job.pk}.{job.format}")
        except Exception:
            # The page must not show progress for ever; the error itself goes to the worker's log.
            _job_fail(job, token, _("The file could not be made; run the wizard again."))
            raise
        finally:
            partial.unlink(missing_ok=True)
    now = timezone.now()
    with transaction.atomic():
        # Only while the lease is still ours: a worker that lost it never logs the export twice.
        if not lease_release(
            ExportJob, job.pk, token,
            status=ExportJob.Status.DONE, rows_done=count, rows_total=count, file_name=stored,
            finished_at=now, expires_at=now + datetime.timedelta(hours=settings.WIZARD_EXPORT_EXPIRY_HOURS),
        ):
            job.refresh_from_db()
            return job
        export_log_record(user=job.user, tenant=job.tenant, what=job.what, fmt=job.format, rows=count)
    logger.info("%s exported %d relations as %s in the background (%s)", job.user.username, count, job.format,
                job.what)
    job.refresh_from_db()
    return job


def _rows_with_total(run, job: ExportJob):
    """The run's rows in chunks, each carrying the number of all rows (a window count: the
    database has every row in hand anyway to sort them); the first one tells the job its total
    for the progress bar, without a separate COUNT query."""
    queryset = run.rows().annotate(export_total=Window(Count("pk")))
    first = True
    for relation in queryset.iterator(chunk_size=exports.CHUNK_SIZE):
        if first:
            ExportJob.objects.filter(pk=job.pk).update(rows_total=relation.export_total)
            first = False
        yield relation


def _job_fail(job: ExportJob, token: str, message: str) -> ExportJob:
    lease_release(ExportJob, job.pk, token, status=ExportJob.Status.FAILED, message=message,
                  finished_at=timezone.now())
    job.refresh_from_db()
    return job


def export_job_file(job: ExportJob) -> str | None:
    """The stored name of the file of a finished, unexpired job, if it is still there."""
    if job.status != ExportJob.Status.DONE or job.is_expired or not job.file_name:
        return None
    return job.file_name if export_storage().exists(job.file_name) else None


def export_job_vanished(job: ExportJob) -> bool:
    """A finished, unexpired job whose file is no longer in the storage (removed by hand, a
    restored backup, another storage configured): the page says so and offers to make it again."""
    return job.status == ExportJob.Status.DONE and not job.is_expired and export_job_file(job) is None


def export_job_again(*, job: ExportJob, user: User) -> ExportJob:
    """A new background export with the same wizard, answers and format, for the same person."""
    if job.user_id != user.pk or job.wizard is None or not _may_still_export(job):
        raise PermissionDenied
    return export_job_create(user=user, tenant=job.tenant, wizard=job.wizard, parameters=job.parameters,
                             fmt=job.format)


def export_files_remove_expired() -> int:
    """Delete the files of expired exports and forget those jobs; returns how many."""
    expired = list(ExportJob.objects.filter(expires_at__lte=timezone.now()))
    for job in expired:
        if job.file_name:
            export_storage().delete(job.file_name)
    ExportJob.objects.filter(pk__in=[job.pk for job in expired]).delete()
    return len(expired)


def filter_description(cf: CatalogueField, flt) -> str:
    """A filter as a line of the report's heading: "Leeftijd: 18 – 30"."""
    if flt.mode == FilterMode.RANGE:
        low = cf.display(flt.low) if flt.low is not None else "…"
        high = cf.display(flt.high) if flt.high is not None else "…"
        return f"{low} – {high}"
    if not flt.values:
        return _("the reference date")
    prefix = _("contains") + " " if flt.mode == FilterMode.CONTAINS else ""
    return f" {_('or')} ".join(prefix + as_text(cf.display(v)) for v in flt.values)
