"""The Dutch translation (SPEC X1): complete, compiled, placeholders intact, served by default."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.core.management import call_command

BASE_DIR = Path(settings.BASE_DIR)
PO_PATH = BASE_DIR / "locale" / "nl" / "LC_MESSAGES" / "django.po"
MO_PATH = PO_PATH.with_suffix(".mo")

# Named (%(name)s, %(count)d) and positional (%s, %d) printf placeholders; %% is a literal.
PLACEHOLDER = re.compile(r"%(?:\((?P<name>\w+)\))?[-#0+]*\d*(?:\.\d+)?(?P<type>[diouxXeEfFgGcrsa%])")

# What `makemessages` must not look into: the same as the documented command
# (-i node_modules -i .venv -i tests, plus Django's default ".*"), and any locale folder.
SKIPPED_DIRS = {"node_modules", "tests", "locale", "__pycache__", "media", "staticfiles", "var", "build"}
SOURCE_SUFFIXES = {".py", ".html", ".txt"}


def load_po() -> polib.POFile:
    return polib.pofile(str(PO_PATH))


def entry_key(entry: polib.POEntry) -> tuple[str | None, str]:
    return (entry.msgctxt, entry.msgid)


def placeholders(text: str) -> set[str]:
    return {match.group(0) for match in PLACEHOLDER.finditer(text) if match.group("type") != "%"}


def translations_of(entry: polib.POEntry) -> dict:
    if entry.msgid_plural:
        return {int(index): text for index, text in entry.msgstr_plural.items()}
    return {0: entry.msgstr}


def test_it_has_translated_every_entry():
    po = load_po()
    untranslated = [entry.msgid for entry in po.untranslated_entries()]
    fuzzy = [entry.msgid for entry in po.fuzzy_entries()]
    assert not untranslated, f"untranslated entries in {PO_PATH.name}: {untranslated}"
    assert not fuzzy, f"fuzzy entries in {PO_PATH.name} (check, then remove the flag): {fuzzy}"
    assert not po.metadata_is_fuzzy, "the header of the .po is still marked fuzzy"
    assert po.metadata.get("Language") == "nl"
    assert po.metadata.get("Plural-Forms", "").startswith("nplurals=2;")


def test_it_has_compiled_the_catalogue():
    po = load_po()
    mo = {entry_key(entry): entry for entry in polib.mofile(str(MO_PATH))}
    stale = []
    for entry in po.translated_entries():
        compiled = mo.get(entry_key(entry))
        if compiled is None or translations_of(compiled) != translations_of(entry):
            stale.append(entry.msgid)
    assert not stale, (
        "django.mo is older than django.po; run `DEBUG=1 .venv/bin/python manage.py compilemessages "
        f"-l nl --ignore=.venv --ignore=node_modules`. Differing entries: {stale}"
    )


def test_it_keeps_the_placeholders_of_every_entry():
    wrong = []
    for entry in load_po().translated_entries():
        for index, text in translations_of(entry).items():
            source = entry.msgid_plural if entry.msgid_plural and index > 0 else entry.msgid
            if placeholders(text) != placeholders(source):
                wrong.append(f"{entry.msgid!r} [{index}]: {sorted(placeholders(source))} ≠ {sorted(placeholders(text))}")
    assert not wrong, "placeholders differ between msgid and msgstr:\n" + "\n".join(wrong)


@pytest.mark.django_db
def test_it_serves_dutch_by_default(client):
    response = client.get("/accounts/login/")

    assert response.status_code == 200
    assert response["Content-Language"] == "nl"
    page = response.content.decode()
    assert '<html lang="nl"' in page
    assert "Gebruikersnaam of e-mailadres" in page
    assert "Username or e-mail address" not in page


@pytest.mark.django_db
def test_it_serves_english_when_chosen(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    response = client.get("/accounts/login/")

    page = response.content.decode()
    assert '<html lang="en"' in page
    assert "Username or e-mail address" in page
    assert "Gebruikersnaam of e-mailadres" not in page


def test_it_serves_dutch_to_a_logged_in_user(federation, login):
    response = login(federation.national_sb).get("/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "Uitloggen" in page
    assert "Wissel van omgeving" in page


def copy_sources(target: Path) -> None:
    """Copies the translatable sources, so that `makemessages` can run without touching the real
    catalogue (it writes into any `locale` folder it finds under the working directory)."""

    def ignore(directory: str, names: list[str]) -> set[str]:
        skipped = set()
        for name in names:
            path = Path(directory) / name
            if path.is_dir():
                if name.startswith(".") or name in SKIPPED_DIRS:
                    skipped.add(name)
            elif path.suffix not in SOURCE_SUFFIXES:
                skipped.add(name)
        return skipped

    for item in BASE_DIR.iterdir():
        if item.is_dir() and not item.name.startswith(".") and item.name not in SKIPPED_DIRS:
            shutil.copytree(item, target / item.name, ignore=ignore, symlinks=True)
        elif item.is_file() and item.suffix in SOURCE_SUFFIXES:
            shutil.copy2(item, target / item.name)


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="GNU gettext (xgettext) is not installed")
def test_it_has_every_string_of_the_code_in_the_catalogue(tmp_path, settings, monkeypatch):
    sources = tmp_path / "sources"
    output = tmp_path / "output" / "locale"
    sources.mkdir()
    output.mkdir(parents=True)
    copy_sources(sources)
    settings.LOCALE_PATHS = [output]
    monkeypatch.chdir(sources)

    call_command("makemessages", locale=["nl"], no_location=True, keep_pot=True, verbosity=0)

    extracted = {entry_key(entry) for entry in polib.pofile(str(output / "django.pot")) if entry.msgid}
    committed = {entry_key(entry) for entry in load_po() if not entry.obsolete}
    missing = sorted(msgid for _context, msgid in extracted - committed)
    assert not missing, (
        "strings in the code that are not in locale/nl/LC_MESSAGES/django.po; run `DEBUG=1 .venv/bin/python "
        "manage.py makemessages -l nl --no-location -i node_modules -i .venv -i tests`, translate them and "
        f"compile: {missing}"
    )
