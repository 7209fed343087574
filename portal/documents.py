"""The digital membership card as a document: the QR code (segno, drawn here as SVG) and the PDF
(WeasyPrint through the notifications renderer, which fetches only our own files)."""

from __future__ import annotations

import segno
from django.template.loader import render_to_string

from notifications.rendering import html_to_pdf

from .services import MembershipCard


def qr_svg(url: str) -> str:
    """The verification URL as an inline SVG QR code: no request to anyone else."""
    return segno.make(url, error="m").svg_inline(scale=4, dark="#000", light="#fff", omitsize=False)


def card_html(cards: list[MembershipCard]) -> str:
    return render_to_string(
        "portal/card_pdf.html", {"cards": [(card, qr_svg(card.verify_url)) for card in cards]}
    )


def card_pdf(cards: list[MembershipCard]) -> bytes:
    return html_to_pdf(card_html(cards))
