"""The relation list's selection as other screens receive it: the ids of the ticked relations and
the list's query string to return to. Public, so screens of other apps (documents for the
selection in notifications, ending memberships in bulk) need not reach into the search view."""

from __future__ import annotations

from django.http import QueryDict
from django.urls import reverse

from .filters import NON_FILTER_KEYS

# More than this many ticked relations are cut off: a form post never carries more.
SELECTED_MAX = 5000


def clean_query_string(raw: str) -> str:
    """A query string of the relation list, re-encoded (so it can only ever be a query string),
    without paging, panel switches or empty boxes."""
    given = QueryDict(raw.lstrip("?"))
    params = QueryDict(mutable=True)
    for key in given:
        if key not in NON_FILTER_KEYS and key != "csrfmiddlewaretoken":
            params.setlist(key, [v for v in given.getlist(key) if v.strip()])
    return params.urlencode()


def list_url(query_string: str = "") -> str:
    """The relation list with these filters."""
    url = reverse("relation_list")
    return f"{url}?{query_string}" if query_string else url


def selected_ids(values: list[str]) -> list[int]:
    """The relation ids of the ticked boxes; anything that is not a number is ignored."""
    return [int(v) for v in values if v.isdigit()][:SELECTED_MAX]
