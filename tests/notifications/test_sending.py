"""Sending (ARCHITECTURE "Jobs and mail"): one service renders, records, logs on the card and sends
through the task after commit; the task is safe to run twice and retries on failure. Personalised
documents for a search selection (SPEC I5)."""

from __future__ import annotations

import io
import smtplib

import pytest
from celery.exceptions import Retry
from django.core import mail
from django.urls import reverse
from pypdf import PdfReader

from notifications.models import DocumentJob, OutboundMail
from notifications.rendering import RenderedMail
from notifications.services import (
    MailAttachment,
    _document_make,
    document_job_create,
    document_job_run,
    mail_send,
    outbound_mail_deliver,
    template_mail_send,
    token_context_for,
)
from notifications.tasks import MAX_RETRIES, send_outbound_mail
from relations.models import CommunicationEntry, ExportLog
from tests.factories import make_mail_template, make_relation

pytestmark = pytest.mark.django_db


def test_it_sends_after_commit_and_logs_the_exact_text_and_attachment(federation, django_capture_on_commit_callbacks):
    relation = make_relation(federation.department11, first_name="Femke", last_name="Dijk", email="femke@example.org")
    template = make_mail_template(federation.national)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        sent = template_mail_send(actor=federation.province_la, tenant=federation.province1, template=template,
                                  context=token_context_for(relation, federation.province1),
                                  to_email=relation.email, relation=relation)
        # Nothing leaves before the transaction commits.
        assert mail.outbox == []
    for callback in callbacks:
        callback()
    [message] = mail.outbox
    sent.refresh_from_db()
    assert sent.status == OutboundMail.Status.SENT and sent.attempts == 1
    entry = sent.communication_entry
    assert entry.relation == relation and entry.channel == "email" and entry.created_by == federation.province_la
    assert entry.subject == message.subject == "Welkom Femke"
    assert message.body in entry.body and "femke@example.org" in entry.body
    assert entry.attachment.read() == message.attachments[0][1]


def test_it_shows_the_mail_and_its_attachment_in_the_communication_log(login, federation, django_capture_on_commit_callbacks):
    relation = make_relation(federation.department11, first_name="Femke", email="femke@example.org")
    template = make_mail_template(federation.national)
    with django_capture_on_commit_callbacks(execute=True):
        template_mail_send(actor=None, tenant=federation.province1, template=template,
                           context=token_context_for(relation, federation.province1), to_email=relation.email,
                           relation=relation)
    client = login(federation.province_la)
    page = client.get(reverse("relation_communication", kwargs={"pk": relation.pk})).content.decode()
    entry = CommunicationEntry.objects.get(relation=relation)
    assert "Welkom Femke" in page and reverse("communication_attachment", kwargs={"pk": entry.pk}) in page
    download = client.get(reverse("communication_attachment", kwargs={"pk": entry.pk}))
    assert b"".join(download.streaming_content).startswith(b"%PDF")
    # A download of personal data is logged when it starts (SPEC X3).
    [log] = ExportLog.objects.all()
    assert (log.user, log.format, log.rows) == (federation.province_la, "pdf", 1) and str(relation.number) in log.what
    # Whoever does not see the card does not get the file.
    assert login(federation.province2_sb).get(reverse("communication_attachment", kwargs={"pk": entry.pk})).status_code == 404


def test_it_sends_a_mail_only_once_when_the_task_runs_twice(federation):
    relation = make_relation(federation.department11, email="jan@example.org")
    recorded = mail_send(actor=None, tenant=federation.province1, to_email=relation.email, relation=relation,
                         rendered=RenderedMail(subject="Onderwerp", text="Tekst", html=""))
    send_outbound_mail.apply(args=[recorded.pk])
    send_outbound_mail.apply(args=[recorded.pk])
    assert len(mail.outbox) == 1


def test_it_keeps_the_error_and_retries_when_sending_fails(federation, monkeypatch):
    relation = make_relation(federation.department11, email="jan@example.org")
    recorded = mail_send(actor=None, tenant=federation.province1, to_email=relation.email, relation=relation,
                         rendered=RenderedMail(subject="Onderwerp", text="Tekst", html=""))

    def refuse(self, messages):
        raise smtplib.SMTPServerDisconnected("connection lost")

    monkeypatch.setattr("django.core.mail.backends.locmem.EmailBackend.send_messages", refuse)
    with pytest.raises(smtplib.SMTPServerDisconnected):
        outbound_mail_deliver(mail_id=recorded.pk)
    recorded.refresh_from_db()
    assert recorded.status == OutboundMail.Status.QUEUED and "connection lost" in recorded.error
    # A failed attempt is handed back to Celery to retry later.
    with pytest.raises(Retry):
        send_outbound_mail.apply(args=[recorded.pk], throw=True)
    recorded.refresh_from_db()
    assert recorded.status == OutboundMail.Status.QUEUED
    # The last retry failed too: the mail is marked failed; its log entry stays.
    result = send_outbound_mail.apply(args=[recorded.pk], retries=MAX_RETRIES, throw=False)
    assert result.failed()
    recorded.refresh_from_db()
    assert recorded.status == OutboundMail.Status.FAILED and recorded.attempts == 3
    assert recorded.communication_entry is not None
    monkeypatch.undo()
    send_outbound_mail.apply(args=[recorded.pk])
    recorded.refresh_from_db()
    assert recorded.status == OutboundMail.Status.SENT


def test_it_sends_several_attachments_once_and_names_them_in_the_communication_log(federation):
    relation = make_relation(federation.department11, email="jan@example.org")
    recorded = mail_send(
        actor=None, tenant=federation.province1, to_email=relation.email, relation=relation,
        rendered=RenderedMail(subject="Factuur", text="Tekst", html=""), pdf=b"%PDF-1.4 test", pdf_name="factuur.pdf",
        attachments=[MailAttachment("leden.csv", b"nummer;naam\r\n", "text/csv"),
                     MailAttachment("leden.xlsx", b"PK-xlsx", "application/vnd.ms-excel")],
    )
    assert [a.name for a in recorded.attachments.all()] == ["leden.csv", "leden.xlsx"]
    entry = recorded.communication_entry
    assert "factuur.pdf, leden.csv, leden.xlsx" in entry.body and entry.attachment.read() == b"%PDF-1.4 test"
    send_outbound_mail.apply(args=[recorded.pk])
    send_outbound_mail.apply(args=[recorded.pk])
    [message] = mail.outbox
    # (Django hands a text attachment over as text.)
    assert [(name, content, kind) for name, content, kind in message.attachments] == [
        ("factuur.pdf", b"%PDF-1.4 test", "application/pdf"), ("leden.csv", "nummer;naam\r\n", "text/csv"),
        ("leden.xlsx", b"PK-xlsx", "application/vnd.ms-excel"),
    ]
    assert message.extra_headers["Message-ID"] == recorded.message_id
    # One file, as before: no further attachments, none named in the log.
    single = mail_send(actor=None, tenant=federation.province1, to_email=relation.email, relation=relation,
                       rendered=RenderedMail(subject="Brief", text="Tekst", html=""), pdf=b"%PDF", pdf_name="brief.pdf")
    assert not single.attachments.exists() and "brief.pdf" not in single.communication_entry.body


def test_it_refuses_to_send_without_an_address(federation):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        mail_send(actor=None, tenant=federation.province1, to_email="",
                  rendered=RenderedMail(subject="Onderwerp", text="Tekst", html=""))
    assert not OutboundMail.objects.exists()


# --- personalised documents --------------------------------------------------------------------


@pytest.fixture
def selection(federation):
    return {
        "with_email": make_relation(federation.department11, first_name="Anna", last_name="Aa", email="anna@example.org"),
        "without_email": make_relation(federation.department12, first_name="Bert", last_name="Bee"),
        "elsewhere": make_relation(federation.department21, first_name="Cor", last_name="Cee", email="cor@example.org"),
    }


def test_it_previews_the_document_for_one_selected_relation(login, federation, selection):
    template = make_mail_template(federation.national, name="Lidkaartbrief")
    client = login(federation.province_la)
    ids = [r.pk for r in selection.values()]
    response = client.get(reverse("documents_send"), {"relation": ids, "template": template.pk,
                                                      "preview": selection["without_email"].pk})
    assert response.status_code == 200
    assert [r.pk for r in response.context["relations"]] == [selection["with_email"].pk, selection["without_email"].pk]
    assert response.context["preview"]["relation"] == selection["without_email"]
    assert response.context["preview"]["mail"].subject == "Welkom Bert"


def test_it_makes_and_sends_the_documents_and_logs_each(login, federation, selection, django_capture_on_commit_callbacks):
    template = make_mail_template(federation.national, name="Lidkaartbrief")
    client = login(federation.province_la)
    ids = [r.pk for r in selection.values()]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("documents_send"), {"relation": ids, "template": template.pk,
                                                           "by_email": "on", "action": "send"})
    # The documents are made in the background; the answer is the job's progress page.
    job = DocumentJob.objects.get()
    assert response.status_code == 302 and response.url == reverse("document_job_detail", kwargs={"pk": job.pk})
    job.refresh_from_db()
    assert (job.status, job.done, job.mailed, job.letters) == ("done", 2, 1, 1)
    page = client.get(response.url).content.decode()
    assert "1 e-mail verstuurd" in page or "1 e-mail sent" in page
    assert [m.to for m in mail.outbox] == [["anna@example.org"]]
    mailed = CommunicationEntry.objects.get(relation=selection["with_email"])
    letter = CommunicationEntry.objects.get(relation=selection["without_email"])
    assert mailed.channel == "email" and letter.channel == "letter"
    assert letter.attachment.read().startswith(b"%PDF")
    assert not CommunicationEntry.objects.filter(relation=selection["elsewhere"]).exists()


def test_it_downloads_one_pdf_with_a_page_per_relation(login, federation, selection, django_capture_on_commit_callbacks):
    template = make_mail_template(federation.national, name="Lidkaartbrief")
    client = login(federation.province_la)
    ids = [selection["with_email"].pk, selection["without_email"].pk]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("documents_send"), {"relation": ids, "template": template.pk, "action": "download"})
    job = DocumentJob.objects.get()
    assert response.url == reverse("document_job_detail", kwargs={"pk": job.pk})
    assert reverse("document_job_download", kwargs={"pk": job.pk}) in client.get(response.url).content.decode()
    download = client.get(reverse("document_job_download", kwargs={"pk": job.pk}))
    assert download["Content-Type"] == "application/pdf" and "no-store" in download["Cache-Control"]
    assert len(PdfReader(io.BytesIO(b"".join(download.streaming_content))).pages) == 2
    assert list(ExportLog.objects.values_list("user", "format", "rows")) == [(federation.province_la.pk, "pdf", 2)]
    # The PDF is its maker's alone.
    assert login(federation.province_sb).get(reverse("document_job_download", kwargs={"pk": job.pk})).status_code == 404
    assert CommunicationEntry.objects.filter(channel="letter").count() == 2
    assert mail.outbox == []


def test_it_makes_each_document_once_when_the_job_runs_again(federation, selection, django_capture_on_commit_callbacks):
    template = make_mail_template(federation.national, name="Lidkaartbrief")
    relations = [selection["with_email"], selection["without_email"]]
    with django_capture_on_commit_callbacks(execute=False):
        job = document_job_create(actor=federation.province_la, tenant=federation.province1, template=template,
                                  relations=relations, action="send", by_email=True)
    # A worker made the first document and died; the task is delivered again, twice.
    with django_capture_on_commit_callbacks(execute=True):
        _document_make(actor=federation.province_la, tenant=federation.province1, template=template,
                       relation=relations[0], by_email=True)
    DocumentJob.objects.filter(pk=job.pk).update(done=1, mailed=1, status="running")
    with django_capture_on_commit_callbacks(execute=True):
        document_job_run(job_id=job.pk)
        document_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert (job.status, job.done, job.mailed, job.letters) == ("done", 2, 1, 1)
    assert CommunicationEntry.objects.filter(relation__in=relations).count() == 2
    assert len(mail.outbox) == 1


def test_it_stops_a_job_whose_maker_lost_the_right(federation, selection, django_capture_on_commit_callbacks):
    template = make_mail_template(federation.national, name="Lidkaartbrief")
    with django_capture_on_commit_callbacks(execute=False):
        job = document_job_create(actor=federation.province_la, tenant=federation.province1, template=template,
                                  relations=[selection["without_email"]], action="download", by_email=False)
    federation.province_la.is_active = False
    federation.province_la.save(update_fields=["is_active"])
    job = document_job_run(job_id=job.pk)
    assert job.status == "failed" and job.message
    assert not CommunicationEntry.objects.exists()


def test_it_refuses_too_large_a_selection(login, federation, selection, monkeypatch):
    monkeypatch.setattr("notifications.services.DOCUMENTS_MAX", 1)
    template = make_mail_template(federation.national, name="Lidkaartbrief")
    client = login(federation.province_la)
    ids = [selection["with_email"].pk, selection["without_email"].pk]
    response = client.post(reverse("documents_send"), {"relation": ids, "template": template.pk, "action": "send"})
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert not CommunicationEntry.objects.exists()


# --- claims and leases (issue 13) ----------------------------------------------------------------


def _recorded_mail(federation, django_capture_on_commit_callbacks) -> OutboundMail:
    relation = make_relation(federation.department11, first_name="Femke", email="femke@example.org")
    with django_capture_on_commit_callbacks(execute=False):
        return template_mail_send(actor=None, tenant=federation.province1, template=make_mail_template(federation.national),
                                  context=token_context_for(relation, federation.province1), to_email=relation.email,
                                  relation=relation)


def test_it_claims_a_mail_with_its_message_id_before_it_talks_to_the_server(federation, monkeypatch,
                                                                          django_capture_on_commit_callbacks):
    recorded = _recorded_mail(federation, django_capture_on_commit_callbacks)
    assert recorded.message_id.startswith("<") and recorded.status == OutboundMail.Status.QUEUED
    seen = []
    original = mail.backends.locmem.EmailBackend.send_messages

    def send_messages(self, messages):
        seen.append(OutboundMail.objects.values("status", "lease_token", "lease_until").get(pk=recorded.pk))
        return original(self, messages)

    monkeypatch.setattr(mail.backends.locmem.EmailBackend, "send_messages", send_messages)
    assert outbound_mail_deliver(mail_id=recorded.pk) is True
    [state] = seen
    assert state["status"] == OutboundMail.Status.SENDING and state["lease_token"] and state["lease_until"]
    [message] = mail.outbox
    assert message.extra_headers["Message-ID"] == recorded.message_id
    assert message.message()["Message-ID"] == recorded.message_id
    recorded.refresh_from_db()
    assert recorded.status == OutboundMail.Status.SENT and not recorded.lease_token and recorded.lease_until is None


def test_it_leaves_a_mail_another_worker_is_sending_alone_and_sends_a_lapsed_claim_once_more(
    federation, django_capture_on_commit_callbacks
):
    import datetime

    from django.utils import timezone

    recorded = _recorded_mail(federation, django_capture_on_commit_callbacks)
    live = timezone.now() + datetime.timedelta(seconds=60)
    OutboundMail.objects.filter(pk=recorded.pk).update(status=OutboundMail.Status.SENDING, lease_token="other",
                                                       lease_until=live)
    assert outbound_mail_deliver(mail_id=recorded.pk) is False and mail.outbox == []
    # The other worker died mid-send: once its claim ran out, the mail goes again, the same mail.
    OutboundMail.objects.filter(pk=recorded.pk).update(lease_until=timezone.now() - datetime.timedelta(seconds=1))
    assert outbound_mail_deliver(mail_id=recorded.pk) is True
    [message] = mail.outbox
    assert message.extra_headers["Message-ID"] == recorded.message_id
    assert outbound_mail_deliver(mail_id=recorded.pk) is False and len(mail.outbox) == 1


def test_the_reaper_queues_a_lapsed_claim_once_even_with_two_beats(federation, monkeypatch,
                                                                  django_capture_on_commit_callbacks):
    import datetime

    from django.utils import timezone

    from tenants.leases import reap

    recorded = _recorded_mail(federation, django_capture_on_commit_callbacks)
    queued = []
    monkeypatch.setattr(send_outbound_mail, "delay", lambda pk: queued.append(pk))
    OutboundMail.objects.filter(pk=recorded.pk).update(
        status=OutboundMail.Status.SENDING, lease_token="dead", lease_until=timezone.now() - datetime.timedelta(seconds=1)
    )
    assert reap()["notifications.mail"] == 1
    assert reap()["notifications.mail"] == 0  # the second beat's reaper, the same minute
    assert queued == [recorded.pk]
    # The queued task takes the reservation over at once.
    assert outbound_mail_deliver(mail_id=recorded.pk) is True
