"""The POST data of the wizard editor for a wizard as saved, with changes per field key."""

from __future__ import annotations

from wizards.models import Wizard


def edit_data(wizard: Wizard, **changes: dict) -> dict:
    """`changes` maps a field key to the row values to change (None leaves a checkbox off)."""
    data = {
        "name": wizard.name, "description": wizard.description,
        "fields-INITIAL_FORMS": 0, "fields-MIN_NUM_FORMS": 0, "fields-MAX_NUM_FORMS": 1000,
    }
    if wizard.include_inactive:
        data["include_inactive"] = "on"
    fields = list(wizard.fields.all())
    data["fields-TOTAL_FORMS"] = len(fields)
    for index, f in enumerate(fields):
        row = {"field_key": f.field_key, "order": f.order, "label": f.label, "mode": f.mode, "value": f.value,
               "value_to": f.value_to, "ask": "on" if f.ask else None, "shown": "on" if f.shown else None}
        row.update(changes.get(f.field_key, {}))
        for key, value in row.items():
            if value is not None:
                data[f"fields-{index}-{key}"] = value
    return data
