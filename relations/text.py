"""The one search box's text rules, shared by what is stored (`search_text`) and what is typed
(`search_words`), so both sides fold the same way on SQLite and PostgreSQL alike:

- lower case, accents dropped (Zoë = zoe) and ligatures spelled out (Ĳzerman = ijzerman);
- commas separate words like spaces ("Aarts, Teun" = "Teun Aarts");
- a postcode may be typed with or without its space ("2665 RA" = "2665ra"): the stored text holds
  it without the space (and with it), the typed words join four digits and the letters after them;
- a word of one or two characters matches the start of a stored word ("de" finds "de Vries" and
  "Dekker", not "Ruud"): what the search box sends while someone starts typing, and on PostgreSQL
  the trigram index can answer it, where "anywhere in the text" meant reading the whole table.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import Any

# Four digits, then one or two letters as the next word: a Dutch postcode typed with its space.
_POSTCODE_SPLIT = re.compile(r"\b(\d{4}) ([a-z]{1,2})\b")
_SEPARATORS = re.compile(r"[\s,;]+")


@functools.lru_cache(maxsize=4096)
def folded(text: str) -> str:
    """`text` in lower case without accents: "Ĳzerman Zoë" → "ijzerman zoe"."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()


def search_words(query: str) -> list[str]:
    """The words of a search as the stored text holds them: every one must occur in it."""
    text = _SEPARATORS.sub(" ", folded(query or "")).strip()
    text = _POSTCODE_SPLIT.sub(r"\1\2", text)
    return list(dict.fromkeys(w for w in text.split(" ") if w))


# Shorter words match the start of a stored word (see the module docstring): pg_trgm needs three
# characters to find a word anywhere, but finds a word's start from the space before it.
SHORT_WORD = 2


def word_patterns(word: str) -> tuple[str, ...]:
    """What a typed word must be found as in `search_text`, as LIKE patterns (`%` anywhere):
    anywhere for a word of three characters or more, at the start of a word for a short one."""
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    if len(word) > SHORT_WORD:
        return (f"%{escaped}%",)
    return (f"{escaped}%", f"% {escaped}%")


# A postcode as typed in a box of its own: four digits, perhaps a space, perhaps a letter or two.
_POSTCODE_TYPED = re.compile(r"^\s*(\d{4})\s*([A-Za-z]{0,2})\s*$")


def postcode_forms(typed: str) -> list[str]:
    """The ways a postcode typed in the postcode box may be stored: as typed, and with and without
    its space ("2665RA" → "2665RA", "2665 RA"); any other text only as typed. Matched ignoring case."""
    text = typed.strip()
    found = _POSTCODE_TYPED.match(text)
    if not found or not found.group(2):
        return [text]
    digits, letters = found.groups()
    return list(dict.fromkeys([text, f"{digits}{letters}", f"{digits} {letters}"]))


def name_words(typed: str) -> list[str]:
    """The words of the name box: separated by spaces or commas, as the search box separates them
    ("Aarts, Teun" = "Teun Aarts")."""
    return [w for w in _SEPARATORS.split(typed or "") if w]


def search_text(card: Any) -> str:
    """The stored search text of a relation (or anything with its attributes): name, number,
    e-mail, postcode (as written and without its space) and city, folded."""
    postcode = card.postcode or ""
    parts = [
        card.first_name, card.initials, card.infix, card.last_name, card.organisation_name,
        str(card.number or ""), card.email, postcode, postcode.replace(" ", ""), card.city,
    ]
    return " ".join(folded(p) for p in parts if p)


def exact_lookup(query: str) -> dict[str, Any] | None:
    """The lookup of a relation the search names exactly — its relation number or e-mail
    address — which the result then shows first; None when the search is not one of those."""
    words = (query or "").split()
    if len(words) != 1:
        return None
    word = words[0]
    if word.isdigit() and len(word) <= 18:
        return {"number": int(word)}
    if "@" in word:
        return {"email__iexact": word}
    return None
