"""A mail through a real Celery worker on Redis: the web side records it and enqueues on commit,
a separate worker process (tests/celery_support.py) sends it and marks it sent."""

from __future__ import annotations

from notifications.models import OutboundMail
from notifications.services import template_mail_send, token_context_for
from tests.factories import make_mail_template, make_relation


def test_it_sends_a_mail_through_a_real_worker(celery_worker, federation):
    relation = make_relation(federation.department11, first_name="Femke", email="femke@example.org")
    template = make_mail_template(federation.national)
    sent = template_mail_send(actor=None, tenant=federation.province1, template=template,
                              context=token_context_for(relation, federation.province1),
                              to_email=relation.email, relation=relation)

    def delivered() -> bool:
        sent.refresh_from_db()
        return sent.status == OutboundMail.Status.SENT

    celery_worker.wait_for(delivered, timeout=60)
    [message] = celery_worker.sent_mail()
    assert message["Subject"] == "Welkom Femke"
    assert message["To"] == "femke@example.org"
    assert "bevestiging.pdf" in {part.get_filename() for part in message.iter_attachments()}
    assert sent.communication_entry.attachment.name
