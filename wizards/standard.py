"""The wizards shipped with Ledenbeheer (SPEC W1, W5): the member lists, the yearly checks and the
mutation checks of the AllUnited manual [000 §Selectie wizards, §Controles uitvoeren].

Kept present after every `migrate` (and after a test database is flushed), the way the function
catalogue is: a wizard is found by its code and made when missing; one the federation has edited
is never undone. Filter values are stored as the editor stores them (codes, "yes"/"no"); an empty
"single" date means the reference date of the run.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction


@dataclass(frozen=True)
class F:
    key: str
    mode: str = ""
    value: str = ""
    value_to: str = ""
    ask: bool = False
    shown: bool = True


ADDRESS = (F("street"), F("house_number"), F("house_number_suffix"), F("postcode"), F("city"))
MEMBER_TODAY = F("member_on", "single", shown=False)

# code, name, section, description, include inactive relations, fields
STANDARD_WIZARDS = [
    ("member_list", "Ledenlijst per afdeling", "standard",
     "Leden op de peildatum, met adres en contactgegevens; kies een of meer afdelingen.", False,
     (F("number"), F("name"), *ADDRESS, F("email"), F("phone"), F("birth_date"),
      F("department", "one_of", ask=True), MEMBER_TODAY)),
    ("members_without_email", "Leden zonder e-mailadres", "standard",
     "Leden op de peildatum van wie geen e-mailadres bekend is.", False,
     (F("number"), F("name"), F("department"), F("phone"), F("mobile"), MEMBER_TODAY,
      F("has_email", "single", "no", shown=False))),
    ("aspirant_members", "Aspirantleden", "standard",
     "Aspirantleden op de peildatum: vóór 1 januari omzetten naar een betaald lidmaatschap.", False,
     (F("number"), F("name"), F("birth_date"), F("email"), F("function_tenant"), F("function_start"),
      F("function_type", "single", "aspirant_member", shown=False),
      F("function_held_on", "single", shown=False))),
    ("sign_ups", "Aanmeldingen in een periode", "standard",
     "Lidmaatschappen die in de gekozen periode begonnen.", True,
     (F("number"), F("name"), F("email"), F("function_type"), F("function_tenant"),
      F("function_start", "range", ask=True),
      F("function_category", "one_of", "membership\naspirant", shown=False))),
    ("cancellations", "Afmeldingen in een periode", "standard",
     "Lidmaatschappen die in de gekozen periode eindigden, met de reden.", True,
     (F("number"), F("name"), F("function_type"), F("function_tenant"), F("function_end", "range", ask=True),
      F("function_reason"), F("function_category", "one_of", "membership\naspirant", shown=False))),
    ("administrators", "Bestuurders en ledenadministrateurs per provincie", "standard",
     "De jaarlijkse AVG-lijst: wie op de peildatum een bestuurs- of administratiefunctie heeft.", False,
     (F("number"), F("name"), F("email"), F("phone"), F("function_type"), F("function_tenant", "one_of", ask=True),
      F("function_start"), F("function_category", "one_of", "board\nadministration", shown=False),
      F("function_held_on", "single", shown=False))),
    ("magazine_addresses", "Adressen met meer dan één ledenblad", "standard",
     "Leden die het ledenblad ontvangen op een adres waar nog een lid het ontvangt.", False,
     (F("postcode"), F("house_number"), F("house_number_suffix"), F("street"), F("city"), F("name"),
      F("number"), F("birth_date"), F("magazine_shared", "single", "yes", shown=False), MEMBER_TODAY)),
    ("check_no_department_membership", "Lid zonder afdelingslidmaatschap", "mutation_checks",
     "Relaties met een functie maar zonder lidmaatschap van een afdeling op de peildatum.", False,
     (F("number"), F("name"), F("home"), F("function_type"), F("function_tenant"),
      F("has_department_membership", "single", "no", shown=False))),
    ("check_function_wrong_kind", "Functie in een omgeving van de verkeerde soort", "mutation_checks",
     "Relaties met een functie in een soort omgeving waar die functie niet hoort.", False,
     (F("number"), F("name"), F("function_type"), F("function_tenant"),
      F("function_in_wrong_kind", "single", "yes", shown=False))),
    ("check_incomplete_card", "Relatie zonder geboortedatum of adres", "mutation_checks",
     "Personen van wie de geboortedatum of het adres ontbreekt.", False,
     (F("number"), F("name"), F("birth_date"), *ADDRESS, F("kind", "single", "person", shown=False),
      F("complete_personal_data", "single", "no", shown=False))),
    ("ledenmodule_member_list", "Ledenlijst", "ledenmodule",
     "De leden van de afdeling op de peildatum.", False,
     (F("number"), F("name"), *ADDRESS, F("email"), F("mobile"), F("birth_date"), F("age"), MEMBER_TODAY)),
    ("ledenmodule_new_members", "Nieuwe leden", "ledenmodule",
     "Leden die in de gekozen periode lid werden.", False,
     (F("number"), F("name"), F("email"), F("function_type"), F("function_start", "range", ask=True),
      F("function_category", "one_of", "membership\naspirant", shown=False))),
]


@transaction.atomic
def standard_wizards_ensure() -> None:
    from .models import Wizard, WizardField

    for code, name, section, description, include_inactive, fields in STANDARD_WIZARDS:
        wizard, created = Wizard.objects.get_or_create(
            code=code,
            defaults={"name": name, "section": section, "description": description,
                      "include_inactive": include_inactive},
        )
        if created:
            WizardField.objects.bulk_create(
                WizardField(wizard=wizard, field_key=f.key, order=(i + 1) * 10, mode=f.mode, value=f.value,
                            value_to=f.value_to, ask=f.ask, shown=f.shown)
                for i, f in enumerate(fields)
            )


def standard_wizards_ensure_after_migrate(sender, app_config=None, **kwargs) -> None:
    if app_config is not None and app_config.label == "wizards":
        standard_wizards_ensure()
