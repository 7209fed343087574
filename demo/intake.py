"""Demo intake forms and mail templates for `seed_demo`: the federation's confirmation mail with
its PDF ("Nieuw lid (inschrijving)"), a thank-you mail, a membership card letter, and a public
form for every province that uses them. Safe to run twice: found by name, left as they are."""

from __future__ import annotations

from intake.models import IntakeForm
from intake.services import intake_form_save
from memberships.models import FunctionType
from notifications.models import MailTemplate
from notifications.services import mail_template_save
from tenants.models import Tenant, TenantKind

FOOTER = "[organisation] · [organisation_address] · [organisation_email]"

TEMPLATES = {
    "Nieuw lid (inschrijving)": {
        "header": "Ledenadministratie\n[organisation]",
        "body_1": "Beste [firstname],\n\nWelkom als lid van [department] ([province]). Hieronder staat je inschrijving "
                  "zoals wij die hebben ontvangen op [registrationdate].\n\n[registration_summary]",
        "body_4": "Je lidmaatschap: [membership], vanaf [startdate]. Je relatienummer is [relationnumber].",
        "body_5": "De contributie wordt jaarlijks automatisch geïncasseerd.",
        "footer": FOOTER,
        "email_subject": "Welkom bij [department], [firstname]!",
        "email_text": "Beste [firstname],\n\nJe inschrijving is aangenomen: je bent nu lid van [department]. "
                      "In de bijlage staat een overzicht van je inschrijving.\n\nMet vriendelijke groet,\n[organisation]",
        "attach_pdf": True, "pdf_filename": "inschrijving",
    },
    "Bedankt voor je aanmelding": {
        "email_subject": "We hebben je aanmelding ontvangen",
        "email_text": "Beste [firstname],\n\nBedankt voor je aanmelding bij [department]. We nemen je inschrijving "
                      "zo snel mogelijk in behandeling.\n\nMet vriendelijke groet,\n[organisation]",
        "footer": FOOTER,
    },
    "Lidkaartbrief": {
        "header": "[organisation]",
        "body_1": "Beste [fullname],\n\nHierbij je digitale lidkaart.\n\nNaam: [fullname]\nRelatienummer: "
                  "[relationnumber]\nAfdeling: [department]\nLid sinds: [startdate]",
        "footer": FOOTER,
        "email_subject": "Je lidkaart, [firstname]",
        "email_text": "Beste [firstname],\n\nIn de bijlage vind je je lidkaartbrief.\n\nMet vriendelijke groet,\n[organisation]",
        "attach_pdf": True, "pdf_filename": "lidkaart",
    },
}

ROWS = [
    (10, "Voornaam", "first_name", True), (20, "Tussenvoegsel", "infix", False), (30, "Achternaam", "last_name", True),
    (40, "Geslacht", "gender", False), (50, "Geboortedatum", "birth_date", True), (60, "E-mailadres", "email", True),
    (70, "Mobiel nummer", "mobile", False), (80, "Postcode", "postcode", True), (90, "Huisnummer", "house_number", True),
    (100, "Toevoeging", "house_number_suffix", False), (110, "Straat", "street", True), (120, "Woonplaats", "city", True),
]

PRIVACY = (
    "We gebruiken je gegevens alleen voor je lidmaatschap: de ledenadministratie, het blad en de contributie. "
    "We geven ze niet aan anderen. Je kunt je gegevens altijd inzien, laten aanpassen of laten verwijderen."
)


def intake_demo_ensure(national: Tenant) -> list[IntakeForm]:
    """The demo templates in the federation and a public form per province; returns the forms."""
    templates = {}
    for name, fields in TEMPLATES.items():
        template = MailTemplate.objects.filter(tenant=national, name=name).first()
        if template is None:
            template = mail_template_save(template=MailTemplate(tenant=national, name=name, **fields))
        templates[name] = template
    membership = FunctionType.objects.get(code="department_member")
    notify = FunctionType.objects.get(code="province_member_administration")
    forms = []
    for province in Tenant.objects.subtree(national).filter(kind=TenantKind.PROVINCE).order_by("name"):
        existing = IntakeForm.objects.filter(tenant=province, name="Inschrijfform_nieuw").first()
        if existing is not None:
            forms.append(existing)
            continue
        forms.append(intake_form_save(
            intake_form=IntakeForm(
                tenant=province, name="Inschrijfform_nieuw", kind="public", privacy_statement=PRIVACY,
                introduction=f"Word lid van een afdeling in {province.name.removeprefix('Provincie ')}!",
                function_type=membership, new_template=templates["Bedankt voor je aanmelding"],
                new_notify_function=notify, accepted_template=templates["Nieuw lid (inschrijving)"],
            ),
            departments=[],
            rows=[{"order": o, "label": label, "target": t, "required": r} for o, label, t, r in ROWS],
        ))
    return forms
