"""Rendering a mail template for one relation: the e-mail (text and HTML) and the letter as PDF.

User-edited texts only ever pass through `tokens_render` (plain text) and then into our own
auto-escaped Django templates, so a relation called `<script>` is printed as text. WeasyPrint
gets a URL fetcher that serves our static and media files and nothing else.
"""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.files.storage import default_storage
from django.template.loader import render_to_string
from weasyprint import HTML, URLFetcher
from weasyprint.urls import URLFetcherResponse

from .models import MailTemplate
from .tokens import TokenContext, tokens_render

# The base URL of documents: relative links resolve against it, and the fetcher only answers
# URLs below it. It is not a real host; nothing is ever requested from it.
DOCUMENT_BASE_URL = "https://ledenbeheer.document/"


class OwnFilesFetcher(URLFetcher):
    """Serves `/static/…` (from disk) and `/media/…` (from the file storage: local disk or the
    object store) below DOCUMENT_BASE_URL; refuses every other URL (other hosts, file://, data:
    with a path trick, `..`, the wizards' downloads)."""

    def fetch(self, url, headers=None):
        body = self.read(url)
        if body is None:
            raise ValueError(f"Documents may only use our own static and media files, not {url}")
        mime, _encoding = mimetypes.guess_type(urlsplit(url).path)
        return URLFetcherResponse(url, body=body, headers={"Content-Type": mime or "application/octet-stream"})

    @classmethod
    def read(cls, url: str) -> bytes | None:
        relative = cls._relative(url)
        if relative is None:
            return None
        if relative.startswith(settings.MEDIA_URL):
            name = cls._media_name(relative[len(settings.MEDIA_URL):])
            if name is None or not default_storage.exists(name):
                return None
            with default_storage.open(name, "rb") as handle:
                return handle.read()
        path = cls.local_path(url)
        return path.read_bytes() if path else None

    @staticmethod
    def _relative(url: str) -> str | None:
        if not url.startswith(DOCUMENT_BASE_URL):
            return None
        return "/" + unquote(urlsplit(url).path).lstrip("/")

    @staticmethod
    def _media_name(name: str) -> str | None:
        parts = PurePosixPath(name).parts
        if not parts or ".." in parts or name.startswith("/") or "\\" in name or parts[0] == "exports":
            return None
        return name

    @classmethod
    def local_path(cls, url: str) -> Path | None:
        """A static file on disk (static files are part of the installation, not the storage)."""
        relative = cls._relative(url)
        if relative is None or not relative.startswith(settings.STATIC_URL):
            return None
        name = relative[len(settings.STATIC_URL):]
        if ".." in Path(name).parts:
            return None
        found = finders.find(name)
        return Path(found) if found else None


@dataclass
class RenderedMail:
    subject: str
    text: str
    html: str


def _logo_url(template: MailTemplate) -> str:
    logo = template.logo or template.tenant.logo
    return f"{DOCUMENT_BASE_URL}{settings.MEDIA_URL.lstrip('/')}{logo.name}" if logo else ""


def letter_parts(template: MailTemplate, context: TokenContext) -> dict:
    return {name: tokens_render(getattr(template, name), context) for name in MailTemplate.LETTER_FIELDS}


def document_html(template: MailTemplate, contexts: list[TokenContext]) -> str:
    """The letter for one or more relations (one per page), as HTML for WeasyPrint or a preview."""
    letters = [letter_parts(template, context) for context in contexts]
    return render_to_string(
        "notifications/document.html", {"template": template, "letters": letters, "logo_url": _logo_url(template)}
    )


def pdf_render(template: MailTemplate, contexts: list[TokenContext]) -> bytes:
    return html_to_pdf(document_html(template, contexts))


def html_to_pdf(html: str) -> bytes:
    """Any of our own HTML as PDF, with the same fetcher (used by tests and other documents)."""
    return HTML(string=html, base_url=DOCUMENT_BASE_URL, url_fetcher=OwnFilesFetcher()).write_pdf()


def mail_render(template: MailTemplate, context: TokenContext) -> RenderedMail:
    subject = " ".join(tokens_render(template.email_subject, context).split())[:200]
    text = tokens_render(template.email_text, context)
    html = render_to_string("notifications/email.html", {"subject": subject, "text": text})
    return RenderedMail(subject=subject, text=text, html=html)


def pdf_filename(template: MailTemplate) -> str:
    stem = "".join(c for c in template.pdf_filename if c.isalnum() or c in "-_ ").strip() or "document"
    return f"{stem}.pdf"
