"""Hostile input on every page of the access matrices (issue 12 point 8): every GET URL, opened by a
user who may open it, with hostile values in every parameter its forms and links use — a NUL
byte, 4,000 characters, impossible dates, SQL fragments, emoji, right-to-left text — answers
no 5xx. Each app's matrix test calls `hostile_get_failures` with its own MATRIX and URL builder.

(The other half of point 8 — every write URL replayed by a province user against another
province's objects changes nothing — is what every matrix already checks: the column
"province2_sb" posts to province 1's objects and the runner compares the data before and after.)
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlencode, urlsplit

from django.db import transaction

from .tenants.test_access_matrix import ACTORS, _client_for

HOSTILE_VALUES = (
    "a\x00b",
    "x" * 4000,
    "31-02-2001",
    "2001-13-45",
    "99999999999999999999999",
    "-1",
    "' OR 1=1; DROP TABLE relations_relation; --",
    "%_\\",
    "😀🎉👨‍👩‍👧",
    "\u202eأحمد\u202c",
    "<script>alert(1)</script>",
)

# Parameters most list pages read, asked for even when the page's HTML does not show them.
COMMON_PARAMETERS = ("q", "page", "sort", "day", "status", "environment", "tenant")


class _ParameterNames(HTMLParser):
    """The names of the fields of a page's GET forms and the query parameters of its links."""

    def __init__(self):
        super().__init__()
        self.names: set[str] = set()
        self._in_get_form = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form":
            self._in_get_form = (attributes.get("method") or "get").lower() == "get"
        elif tag in ("input", "select", "textarea") and self._in_get_form and attributes.get("name"):
            if attributes.get("type") not in ("submit", "button", "hidden", "file"):
                self.names.add(attributes["name"])
        elif tag == "a" and attributes.get("href") and "?" in attributes["href"]:
            self.names.update(name for name, _value in parse_qsl(urlsplit(attributes["href"]).query))

    def handle_endtag(self, tag):
        if tag == "form":
            self._in_get_form = False


def _get(client, url: str) -> tuple[int, str, str]:
    """(status, content type, body) of a GET, rolled back; a streamed download read to the end,
    where an error half-way is a server error too."""
    with transaction.atomic():
        response = client.get(url)
        try:
            body = b"".join(response.streaming_content) if response.streaming else response.content
        except Exception as error:  # noqa: BLE001 — any error while streaming is what we look for
            return 500, "", repr(error)
        finally:
            transaction.set_rollback(True)
    return response.status_code, response.get("Content-Type", ""), body.decode(errors="replace")


def hostile_get_failures(matrix: dict, federation, *, url: Callable[[str, str], str]) -> list[str]:
    """For every GET URL name of `matrix`: its first probe that some actor may open (200), opened
    by that actor with each hostile value in every parameter; the answers that are 5xx."""
    logging.getLogger("django.request").setLevel(logging.CRITICAL)
    clients: dict = {}
    failures: list[str] = []
    done: set[str] = set()
    for (method, url_name, probe), row in matrix.items():
        if method != "GET" or url_name in done or 200 not in row:
            continue
        done.add(url_name)
        actor = ACTORS[row.index(200)]
        client = clients.setdefault(actor, _client_for(federation, actor))
        client.raise_request_exception = False
        target = url(url_name, probe)
        _status, content_type, body = _get(client, target)
        names = set(COMMON_PARAMETERS)
        if "html" in content_type:
            parser = _ParameterNames()
            parser.feed(body)
            names |= parser.names
        base, _, own_query = target.partition("?")
        own = dict(parse_qsl(own_query))
        for value in HOSTILE_VALUES:
            query = urlencode({**own, **dict.fromkeys(sorted(names), value)})
            status, _content_type, body = _get(client, f"{base}?{query}")
            if status >= 500:
                failures.append(f"{actor} GET {base} ({url_name}) with {value[:30]!r}: {status} {body[:200]}")
    return failures
