"""Background jobs of the member portal."""

from celery import shared_task
from django.core.mail import EmailMultiAlternatives


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_portal_mail(to_email: str, subject: str, body: str) -> None:
    """Send a login mail. Its text holds the personal link, so it is passed here and never
    stored; the card's communication log keeps the mail without it (portal.services)."""
    EmailMultiAlternatives(subject, body, to=[to_email]).send()
