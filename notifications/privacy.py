"""What notifications holds about a person, for the GDPR export and erasure
(relations/privacy.py): every mail sent to them, with its text and PDF."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models.fields.files import FieldFile

from relations.models import Relation
from relations.privacy import ANONYMISED_TEXT, PersonalDataSource

from .models import OutboundAttachment, OutboundMail

# An address that can never receive mail (RFC 2606), where an erased person's address was.
ANONYMISED_EMAIL = "geanonimiseerd@example.invalid"


def _mails(relation: Relation):
    return OutboundMail.objects.filter(relation=relation)


def _attachment_name(mail: OutboundMail) -> str:
    return f"mails/{mail.pk}-{mail.attachment_name or mail.attachment.name.rsplit('/', 1)[-1]}" if mail.attachment else ""


def mail_rows(relation: Relation) -> list[dict]:
    return [
        {
            "created_at": mail.created_at, "sent_at": mail.sent_at, "status": mail.get_status_display(),
            "to": mail.to_email, "subject": mail.subject, "text": mail.body_text,
            "attachment": _attachment_name(mail),
        }
        for mail in _mails(relation).order_by("created_at", "pk")
    ]


def mail_files(relation: Relation) -> Iterable[tuple[str, FieldFile]]:
    for mail in _mails(relation).exclude(attachment=""):
        yield _attachment_name(mail), mail.attachment
    for extra in OutboundAttachment.objects.filter(mail__relation=relation).order_by("pk"):
        yield f"mails/{extra.mail_id}-{extra.pk}-{extra.name}", extra.file


def mails_anonymise(relation: Relation) -> None:
    for mail in _mails(relation).exclude(attachment=""):
        mail.attachment.delete(save=False)
    for extra in OutboundAttachment.objects.filter(mail__relation=relation):
        extra.file.delete(save=False)
        extra.delete()
    _mails(relation).update(
        to_email=ANONYMISED_EMAIL, subject=ANONYMISED_TEXT, body_text=ANONYMISED_TEXT, body_html="",
        attachment="", attachment_name="",
    )


MAILS = PersonalDataSource(key="mails", rows=mail_rows, files=mail_files, anonymise=mails_anonymise)
