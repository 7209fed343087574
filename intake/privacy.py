"""What intake holds about a person, for the GDPR export and erasure (relations/privacy.py): the
registrations linked to their card, with the data exactly as submitted."""

from __future__ import annotations

from relations.models import Relation
from relations.privacy import PersonalDataSource

from .models import Registration


def _registrations(relation: Relation):
    return Registration.objects.filter(relation=relation).select_related("form", "department")


def registration_rows(relation: Relation) -> list[dict]:
    return [
        {
            "form": registration.form.name,
            "department": registration.department.name,
            "status": registration.get_status_display(),
            "submitted_at": registration.submitted_at,
            "decided_at": registration.decided_at,
            "submitted_data": registration.values,
            "reason_for_rejecting": registration.rejection_reason,
        }
        for registration in _registrations(relation).order_by("submitted_at", "pk")
    ]


def registrations_anonymise(relation: Relation) -> None:
    """The submitted values go; what happened to the registration (form, department, status,
    dates) stays."""
    registrations = list(_registrations(relation))
    for registration in registrations:
        kept = {key: registration.data.get(key, "") for key in ("form_name", "department_name")}
        registration.data = {"values": {}, "rows": [], **kept}
        registration.rejection_reason = ""
    Registration.objects.bulk_update(registrations, ["data", "rejection_reason"])


REGISTRATIONS = PersonalDataSource(key="registrations", rows=registration_rows, anonymise=registrations_anonymise)
