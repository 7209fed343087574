"""Paging links that keep the rest of the page's query (search, filters, status)."""

from __future__ import annotations

from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def page_url(context, number: int) -> str:
    """`?<the current query>&page=<number>`."""
    query = context["request"].GET.copy()
    query["page"] = number
    return f"?{query.urlencode()}"
