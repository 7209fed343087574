"""Use cases of mail templates and outbound mail: save and copy templates, and the one way an
e-mail leaves the system — render, record (with the communication-log entry on the relation's
card), and hand to the mail task once the transaction commits (ARCHITECTURE "Jobs and mail")."""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.mail import EmailMultiAlternatives
from django.core.mail.message import make_msgid
from django.core.mail.utils import DNS_NAME
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from memberships.models import Function
from relations.models import CommunicationEntry, Relation
from relations.services import communication_entry_add, relations_refusing
from tenants.leases import heartbeat, lease_release, lease_take
from tenants.models import Tenant, TenantKind, User

from .models import DocumentJob, MailTemplate, OutboundAttachment, OutboundMail
from .rendering import RenderedMail, mail_render, pdf_filename, pdf_render
from .tokens import TokenContext, tokens_unknown

# A batch of personalised documents is rendered while the user waits; more relations than this
# are refused with a message (choose a smaller selection).
logger = logging.getLogger(__name__)

DOCUMENTS_MAX = 200


# --- templates ---------------------------------------------------------------------------------


def templates_for(tenant: Tenant):
    """The templates usable in `tenant`: its own and those of every environment above it."""
    return MailTemplate.objects.filter(tenant__path__in=tenant.ancestor_paths()).select_related("tenant")


def mail_template_check_tokens(template: MailTemplate) -> None:
    errors = {}
    for name in MailTemplate.TEXT_FIELDS:
        unknown = tokens_unknown(getattr(template, name))
        if unknown:
            errors[name] = [
                _("Unknown token: %(tokens)s. The dictionary lists every token you can use.")
                % {"tokens": ", ".join(f"[{key}]" for key in unknown)}
            ]
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def mail_template_save(*, template: MailTemplate) -> MailTemplate:
    mail_template_check_tokens(template)
    template.full_clean()
    template.save()
    return template


@transaction.atomic
def mail_template_copy(*, template: MailTemplate, tenant: Tenant) -> MailTemplate:
    """A copy in `tenant` to change, keeping the original ("Kopiëren")."""
    if not template.tenant.is_root() and not tenant.is_within(template.tenant):
        raise ValidationError(_("This template is not available in this environment."))
    names = set(MailTemplate.objects.filter(tenant=tenant).values_list("name", flat=True))
    base = _("Copy of %(name)s") % {"name": template.name}
    name, n = base[:120], 1
    while name in names:
        n += 1
        name = f"{base[:110]} ({n})"
    copy = MailTemplate(
        tenant=tenant, name=name, logo=template.logo.name if template.logo else "", copied_from=template,
        communication_type=template.communication_type,
        **{field: getattr(template, field) for field in (*MailTemplate.TEXT_FIELDS, "attach_pdf", "pdf_filename")},
    )
    copy.full_clean()
    copy.save()
    return copy


# --- token contexts ----------------------------------------------------------------------------


def token_context_for(relation: Relation, tenant: Tenant) -> TokenContext:
    """The context of a document about `relation` sent from `tenant`: its current membership
    (the one in `tenant`'s subtree first) gives department, membership and start date."""

    today = datetime.date.today()
    memberships = list(
        Function.objects.memberships().active_on(today).filter(relation=relation)
        .select_related("function_type", "tenant").order_by("start_date", "pk")
    )
    memberships.sort(key=lambda f: not f.tenant.is_within(tenant))
    membership = memberships[0] if memberships else None
    return TokenContext(
        tenant=tenant, relation=relation,
        department=membership.tenant if membership else None,
        membership_name=membership.function_type.name if membership else "",
        start_date=membership.start_date if membership else None,
    )


def token_context_example(tenant: Tenant) -> TokenContext:
    """A made-up applicant, for previewing a template before any relation is chosen."""

    department = Tenant.objects.subtree(tenant).filter(kind=TenantKind.DEPARTMENT).order_by("path").first()
    relation = Relation(
        tenant=department or tenant, number=100123, first_name="Jan", infix="de", last_name="Vries", initials="J.",
        email="jan.devries@example.org", street="Dorpsstraat", house_number=1, postcode="7001 AB", city="Doetinchem",
        birth_date=datetime.date(2004, 5, 3),
    )
    return TokenContext(
        tenant=tenant, relation=relation, department=department, membership_name=_("Member"),
        start_date=datetime.date.today(), registration_date=datetime.date.today(),
        registration_rows=[(_("First name"), "Jan"), (_("Surname"), "Vries")],
    )


# --- sending -----------------------------------------------------------------------------------


def _log_entry(*, actor: User | None, relation: Relation, tenant: Tenant, subject: str, body: str,
               channel: str, attachment: str = "") -> CommunicationEntry:
    return communication_entry_add(
        actor=actor, relation=relation, tenant=tenant, subject=subject[:200], body=body, channel=channel,
        attachment=attachment,
    )


@dataclass(frozen=True)
class MailAttachment:
    """A file sent with an e-mail besides its PDF."""

    name: str
    content: bytes
    content_type: str


@transaction.atomic
def mail_send(
    *,
    actor: User | None,
    tenant: Tenant,
    to_email: str,
    rendered: RenderedMail,
    relation: Relation | None = None,
    template: MailTemplate | None = None,
    pdf: bytes | None = None,
    pdf_name: str = "",
    reference: str = "",
    attachments: Sequence[MailAttachment] = (),
) -> OutboundMail:
    """Record one e-mail exactly as rendered, note it in the relation's communication log (text
    and attachment), and send it through the mail task after the transaction commits. The PDF
    comes first; `attachments` are further files, sent with it in that order."""
    if not to_email:
        raise ValidationError(_("There is no e-mail address to send to."))
    mail = OutboundMail(
        tenant=tenant, relation=relation, template=template, reference=reference, to_email=to_email,
        subject=rendered.subject[:200], body_text=rendered.text, body_html=rendered.html, created_by=actor,
        attachment_name=pdf_name if pdf else "", message_id=make_msgid(domain=DNS_NAME),
    )
    mail.full_clean(exclude=["attachment"])
    if pdf:
        mail.attachment.save(pdf_name, ContentFile(pdf), save=False)
    mail.save()
    for extra in attachments:
        kept = OutboundAttachment(mail=mail, name=extra.name[:120], content_type=extra.content_type[:100])
        kept.file.save(extra.name[:100], ContentFile(extra.content), save=False)
        kept.save()
    if relation is not None and relation.pk:
        body = _("To: %(email)s") % {"email": to_email} + "\n\n" + mail.body_text
        if attachments:
            body += "\n\n" + _("Attachments: %(names)s") % {
                "names": ", ".join([*([pdf_name] if pdf else []), *(a.name for a in attachments)])}
        mail.communication_entry = _log_entry(
            actor=actor, relation=relation, tenant=tenant, subject=mail.subject, body=body,
            channel=CommunicationEntry.Channel.EMAIL, attachment=mail.attachment.name if pdf else "",
        )
        mail.save(update_fields=["communication_entry"])
    transaction.on_commit(lambda: _enqueue(mail.pk))
    return mail


def _enqueue(mail_id: int) -> None:
    from .tasks import send_outbound_mail

    send_outbound_mail.delay(mail_id)


def template_mail_send(
    *,
    actor: User | None,
    tenant: Tenant,
    template: MailTemplate,
    context: TokenContext,
    to_email: str,
    relation: Relation | None = None,
    reference: str = "",
) -> OutboundMail:
    """Render `template` for `context` (with its PDF when the template says so) and send it."""
    rendered = mail_render(template, context)
    pdf = pdf_render(template, [context]) if template.attach_pdf else None
    return mail_send(
        actor=actor, tenant=tenant, to_email=to_email, rendered=rendered, relation=relation, template=template,
        pdf=pdf, pdf_name=pdf_filename(template), reference=reference,
    )


def outbound_mail_deliver(*, mail_id: int) -> bool:
    """Hand one recorded mail to Django's mail backend: claim it (status *sending*, a lease;
    committed), send it, mark it sent. Safe to run twice: a mail that is sent, or that another
    worker has claimed and is still holding, is left alone; one whose claim ran out (its worker
    died, perhaps mid-send) goes out again with the same Message-ID. Returns whether it was sent
    now. Errors propagate so the task retries; the claim is given back first."""
    token = lease_take(
        OutboundMail, mail_id, where=~Q(status=OutboundMail.Status.SENT),
        status=OutboundMail.Status.SENDING, attempts=F("attempts") + 1,
    )
    if token is None:
        return False
    mail = OutboundMail.objects.get(pk=mail_id)
    if not mail.message_id:  # recorded before Message-IDs were kept
        OutboundMail.objects.filter(pk=mail.pk, message_id="").update(message_id=make_msgid(domain=DNS_NAME))
        mail.refresh_from_db(fields=["message_id"])
    message = EmailMultiAlternatives(
        mail.subject, mail.body_text, to=[mail.to_email], headers={"Message-ID": mail.message_id}
    )
    if mail.body_html:
        message.attach_alternative(mail.body_html, "text/html")
    if mail.attachment:
        with mail.attachment.open("rb") as file:
            message.attach(mail.attachment_name or "document.pdf", file.read(), "application/pdf")
    for extra in mail.attachments.all():
        with extra.file.open("rb") as file:
            message.attach(extra.name, file.read(), extra.content_type)
    try:
        with heartbeat(OutboundMail, mail.pk, token):
            message.send()
    except Exception as error:
        lease_release(OutboundMail, mail.pk, token, status=OutboundMail.Status.QUEUED, error=str(error)[:2000])
        raise
    lease_release(OutboundMail, mail.pk, token, status=OutboundMail.Status.SENT, sent_at=timezone.now(), error="")
    return True


def outbound_mail_failed(*, mail_id: int, error: str) -> None:
    OutboundMail.objects.filter(pk=mail_id).exclude(status=OutboundMail.Status.SENT).update(
        status=OutboundMail.Status.FAILED, error=error[:2000], lease_token="", lease_until=None
    )


# --- personalised documents (SPEC I5) ----------------------------------------------------------


@transaction.atomic
def document_job_create(
    *,
    actor: User,
    tenant: Tenant,
    template: MailTemplate,
    relations: Iterable[Relation],
    action: str,
    by_email: bool,
) -> DocumentJob:
    """Personalised documents of `template` for `relations`, made in the background
    (`document_job_run`): the request only checks the selection and records the job."""
    relations = list(relations)
    if len(relations) > DOCUMENTS_MAX:
        raise ValidationError(
            _("Choose at most %(max)d relations at a time; you chose %(count)d.")
            % {"max": DOCUMENTS_MAX, "count": len(relations)}
        )
    job = DocumentJob.objects.create(
        tenant=tenant, created_by=actor, template=template, action=action,
        by_email=by_email and action == DocumentJob.Action.SEND, relation_ids=[relation.pk for relation in relations],
    )
    # Imported here, not at the top: the tasks module imports this one.
    from .tasks import document_job_run_task

    transaction.on_commit(lambda: document_job_run_task.delay(job.pk))
    return job


def _document_make(*, actor: User, tenant: Tenant, template: MailTemplate, relation: Relation, by_email: bool) -> bool:
    """The letter of `template` for `relation`, kept in its communication log with the PDF; with
    `by_email` and an address, sent as a mail with the PDF attached. True when it was mailed."""
    context = token_context_for(relation, tenant)
    pdf = pdf_render(template, [context])
    name = pdf_filename(template)
    if by_email and relation.email:
        mail_send(
            actor=actor, tenant=tenant, to_email=relation.email, rendered=mail_render(template, context),
            relation=relation, template=template, pdf=pdf, pdf_name=name,
        )
        return True
    entry = CommunicationEntry(relation=relation)
    entry.attachment.save(name, ContentFile(pdf), save=False)
    _log_entry(
        actor=actor, relation=relation, tenant=tenant, subject=template.name,
        body=_("Letter made from the template “%(template)s”.") % {"template": template.name},
        channel=CommunicationEntry.Channel.LETTER, attachment=entry.attachment.name,
    )
    return False


def document_job_run(*, job_id: int) -> DocumentJob:
    """Make the job's documents, one relation per transaction together with the job's count, so a
    run that is repeated (a second delivery of the task, or after a crash) carries on after the
    last relation that was committed and makes nothing twice. The user's right to send documents
    and to see each relation is checked again now."""
    job = DocumentJob.objects.select_related("template", "tenant", "created_by").get(pk=job_id)
    if job.finished:
        return job
    actor, tenant, template = job.created_by, job.tenant, job.template
    if not actor.is_active or not actor.has_perm("notifications.send_document", tenant):
        DocumentJob.objects.filter(pk=job.pk).update(
            status=DocumentJob.Status.FAILED, finished_at=timezone.now(),
            message=_("You may no longer make documents in this environment."),
        )
        job.refresh_from_db()
        return job
    token = lease_take(
        DocumentJob, job.pk, where=Q(status__in=[DocumentJob.Status.QUEUED, DocumentJob.Status.RUNNING]),
        status=DocumentJob.Status.RUNNING,
    )
    if token is None:  # another worker is making it
        return job
    try:
        with heartbeat(DocumentJob, job.pk, token):
            pdf = _document_job_make_all(job, actor=actor, tenant=tenant, template=template)
    except Exception:
        logger.exception("documents job %s failed", job.pk)
        lease_release(
            DocumentJob, job.pk, token, status=DocumentJob.Status.FAILED, finished_at=timezone.now(),
            message=_("Making the documents failed. The documents made so far are in the cards' communication log."),
        )
        raise
    # Only while the lease is ours, so a worker that lost it does not finish the job a second time.
    lease_release(DocumentJob, job.pk, token, status=DocumentJob.Status.DONE, finished_at=timezone.now(), pdf=pdf)
    job.refresh_from_db()
    return job


def _document_job_make_all(job: DocumentJob, *, actor: User, tenant: Tenant, template: MailTemplate) -> str:
    """Make what is left to make; returns the name of the one PDF of a download job."""
    visible = Relation.objects.visible_to(actor, tenant).in_bulk(job.relation_ids)
    # Consent (the member portal): who said no to the template's communication type gets nothing.
    refusing = relations_refusing(relation_ids=list(visible), communication_type=template.communication_type)
    for index in range(job.done, job.total):
        with transaction.atomic():
            locked = DocumentJob.objects.select_for_update().get(pk=job.pk)
            if locked.done != index:
                continue  # another delivery of the task made this one
            relation = visible.get(job.relation_ids[index])
            if relation is not None and relation.pk in refusing:
                locked.refused += 1
            elif relation is not None:
                mailed = _document_make(actor=actor, tenant=tenant, template=template, relation=relation,
                                        by_email=locked.by_email)
                locked.mailed += mailed
                locked.letters += not mailed
            locked.done = index + 1
            locked.save(update_fields=["done", "mailed", "letters", "refused"])
    job.refresh_from_db()
    if job.action == DocumentJob.Action.DOWNLOAD and not job.pdf:
        contexts = [
            token_context_for(visible[pk], tenant) for pk in job.relation_ids if pk in visible and pk not in refusing
        ]
        job.pdf.save(pdf_filename(template), ContentFile(pdf_render(template, contexts)), save=False)
    return job.pdf.name or ""
