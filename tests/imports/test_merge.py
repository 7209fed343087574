"""Merging two cards: every row that pointed at either card points at the kept one afterwards,
for every model with a foreign key to Relation; refusals outside what the user may see."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import translation

from billing.models import Invoice, InvoiceMember
from billing.services import credit_note_create, invoice_run_finalise, mandate_create
from imports import merge as merging
from imports.models import DuplicateCandidate, ImportBatch, ImportChange, Merge
from intake.models import Registration
from memberships.models import Function
from notifications.models import OutboundMail
from quality.models import DataProblem
from relations.models import (
    ChangeRequest,
    CommunicationEntry,
    CommunicationRefusal,
    CommunicationType,
    Relation,
    RelationView,
)
from relations.services import communication_entry_add
from relations.views.card import relation_history_events
from tenants.models import AuditEvent
from tests.billing.world import MEMBER_IBANS, billing_environment, rate, run
from tests.factories import give_function, make_intake_form, make_relation

pytestmark = pytest.mark.django_db

TODAY = datetime.date.today()


def _rows_pointing_at(relations: list[Relation]) -> dict[tuple[str, str], set]:
    """For every foreign key to Relation: the primary keys of the rows pointing at `relations`."""
    found = {}
    ids = [r.pk for r in relations]
    for fk in merging.foreign_keys_to_relation():
        model = fk.model
        pk_name = "history_id" if model._meta.label.split(".")[1].startswith("Historical") else "pk"
        found[(model._meta.label, fk.name)] = set(
            model._default_manager.filter(**{f"{fk.attname}__in": ids}).values_list(pk_name, flat=True)
        )
    return found


@pytest.fixture
def two_cards(federation):
    keep = make_relation(federation.department11, last_name="Vries", first_name="Jan", email="jan@example.nl",
                         birth_date=datetime.date(1970, 1, 1))
    other = make_relation(federation.department12, last_name="Vries", first_name="J.", email="jdv@example.nl",
                          birth_date=datetime.date(1970, 1, 1), city="Zeist")
    third = make_relation(federation.department11, last_name="Vries", first_name="Jaap", birth_date=datetime.date(1970, 1, 1))
    # Functions: one of the same kind in the same department as the kept card's (they become one)
    # and one elsewhere (it moves).
    twin = give_function(other, federation.department11, "department_member", start_date=TODAY - datetime.timedelta(days=400))
    give_function(other, federation.department12, "department_secretary")
    communication_entry_add(actor=federation.province_sb, relation=other, tenant=federation.department12, subject="Belnotitie")
    Registration.objects.create(form=make_intake_form(federation.province1), tenant=federation.province1,
                                department=federation.department12, relation=other, data={"values": {}})
    OutboundMail.objects.create(tenant=federation.province1, relation=other, to_email="jdv@example.nl", subject="Welkom",
                                body_text="Hallo")
    # Both cards lack an address: each has its open problem (the save's recheck may have opened it).
    for card in (keep, other):
        DataProblem.objects.get_or_create(relation=card, rule="missing_address", closed_on=None,
                                          defaults={"first_seen": TODAY, "last_seen": TODAY})
    batch = ImportBatch.objects.create(tenant=federation.province1, user=federation.province_la, file_name="x.csv",
                                       file_type="csv", status="imported")
    ImportChange.objects.create(batch=batch, relation=other, line=2, action="created")
    # The member portal: a "no" to a communication type and a correction waiting for approval.
    news = CommunicationType.objects.create(tenant=federation.national, code="news", name="Nieuwsbrief")
    CommunicationRefusal.objects.create(relation=other, communication_type=news)
    ChangeRequest.objects.create(relation=other, tenant=federation.department12, values={"city": "Utrecht"})
    # Both cards opened by the same user today, the other one also yesterday: one row a day stays.
    for card, day in ((keep, TODAY), (other, TODAY), (other, TODAY - datetime.timedelta(days=1))):
        RelationView.objects.create(relation=card, user=federation.province_la, day=day)
    DuplicateCandidate.objects.create(relation_a=min(keep, other, key=lambda r: r.pk), relation_b=max(keep, other, key=lambda r: r.pk),
                                      score=90, reasons=["birth_name"])
    DuplicateCandidate.objects.create(relation_a=min(third, other, key=lambda r: r.pk), relation_b=max(third, other, key=lambda r: r.pk),
                                      score=70, reasons=["birth_name"])
    # Billing: province 1 invoices its members today; the other card also signed a mandate.
    billing_environment(federation.province1)
    rate(federation.province1, "25.00")
    invoice_run = run(federation.province1, federation.province_sb, reference=TODAY)
    invoice_run_finalise(run_id=invoice_run.pk, actor=federation.province_sb)
    # Both cards were invoiced for the same membership: the kept card's invoice is credited in
    # full (a card invoiced twice is not merged until one invoice is settled; see below).
    kept_invoice = Invoice.objects.get(relation=keep, kind=Invoice.Kind.INVOICE)
    credit_note_create(invoice=kept_invoice, amount=kept_invoice.creditable, reason="Dubbel", actor=federation.province_sb)
    mandate_create(tenant=federation.province1, relation=other, reference="M-OTHER-1", iban=MEMBER_IBANS[0],
                   signed_on=TODAY - datetime.timedelta(days=30), account_holder="J. de Vries", actor=None)
    # The other card was counted on a department invoice's member list (SPEC B4).
    counted = Invoice.objects.get(relation=other, kind=Invoice.Kind.INVOICE)
    InvoiceMember.objects.create(invoice=counted, relation=other, function_type=counted.lines.first().function_type,
                                 amount=counted.total)
    earlier = make_relation(federation.department12, last_name="Vries", first_name="Jantje")
    Merge.objects.create(kept=other, merged=earlier, merged_number=earlier.number, merged_by=federation.national_sb)
    return keep, other, twin


def test_it_knows_what_to_do_with_every_foreign_key_to_relation():
    # A new model with a foreign key to Relation fails here until merge.MOVES handles it.
    unknown = [
        f"{fk.model._meta.label}.{fk.name}" for fk in merging.foreign_keys_to_relation()
        if (fk.model._meta.label, fk.name) not in merging.MOVES
    ]
    assert not unknown, f"add these to imports.merge.MOVES: {unknown}"
    stale = set(merging.MOVES) - {(fk.model._meta.label, fk.name) for fk in merging.foreign_keys_to_relation()}
    assert not stale


def test_it_moves_every_row_of_every_model_to_the_kept_card(two_cards, federation):
    keep, other, twin = two_cards
    before = _rows_pointing_at([keep, other])
    of_other = _rows_pointing_at([other])
    # The fixture gives the other card a row in every model that can point at a relation, so a
    # model the fixture forgets (a new one) fails here too. The Merge rows are the exception:
    # the other card gets its own `merged` row from the merge itself.
    missing = [key for key, pks in of_other.items() if not pks and key != ("imports.Merge", "merged")]
    assert not missing, f"give the other card a row in: {missing}"

    merging.relation_merge(actor=federation.national_sb, tenant=federation.national, keep=keep, other=other,
                           values={"city": "other"}, extra={})

    after = _rows_pointing_at([keep, other])
    pointing_at_other = _rows_pointing_at([other])
    # By design: the pair of the two merged cards is settled, the twin function joined the kept
    # card's own, the merge's own archive row points at the other card, and a day both cards were
    # opened by the same user stays once in the view log.
    settled = {
        ("imports.DuplicateCandidate", "relation_a"), ("imports.DuplicateCandidate", "relation_b"),
        ("memberships.Function", "relation"), ("imports.Merge", "merged"), ("relations.RelationView", "relation"),
    }
    for key, pks in before.items():
        if key in settled:
            continue
        assert pks <= after[key], f"{key}: rows lost"
        assert not pointing_at_other[key], f"{key}: rows still point at the merged card"
    assert not Function.objects.filter(relation=other).exists()
    assert sorted(RelationView.objects.filter(relation=keep).values_list("day", flat=True)) == [
        TODAY - datetime.timedelta(days=1), TODAY,
    ]
    assert not RelationView.objects.filter(relation=other).exists()
    assert pointing_at_other[("imports.Merge", "merged")] == {Merge.objects.get(merged=other).pk}
    joined = Function.objects.get(relation=keep, function_type__code="department_member", tenant=federation.department11)
    assert joined.start_date == twin.start_date
    assert Function.objects.filter(relation=keep, function_type__code="department_secretary").exists()
    assert Function.history.filter(relation_id=other.pk).count() == 0
    assert not DuplicateCandidate.objects.filter(relation_a__in=[other], relation_b__in=[keep]).exists()
    assert DuplicateCandidate.objects.filter(relation_a=keep).exists() or DuplicateCandidate.objects.filter(relation_b=keep).exists()
    assert CommunicationEntry.objects.get(subject="Belnotitie").relation == keep
    keep.refresh_from_db()
    assert keep.city == "Zeist" and keep.first_name == "Jan"
    other.refresh_from_db()
    assert other.merged_into == keep and other.archived and other.merge_record.kept == keep
    assert AuditEvent.objects.filter(action="relation_merge").exists()


def test_it_shows_old_and_new_values_when_a_merge_first_changes_functions_without_history(federation):
    keep = make_relation(federation.department11, last_name="Vries", first_name="Jan")
    other = make_relation(federation.department12, last_name="Vries", first_name="J.")
    earlier = TODAY - datetime.timedelta(days=400)
    give_function(other, federation.department11, "department_member", start_date=earlier)
    kept_membership = Function.objects.get(relation=keep)
    moved = Function.objects.get(relation=other, tenant=federation.department12)
    # Functions written before history was kept (the demo loader's COPY, the old system).
    Function.history.filter(id__in=[kept_membership.pk, moved.pk]).delete()
    old_start = kept_membership.start_date

    merging.relation_merge(actor=federation.national_sb, tenant=federation.national, keep=keep, other=other,
                           values={}, extra={})

    with translation.override("en"):
        changes = [(str(c.field), c.old, c.new) for event in relation_history_events(keep) for c in event.changes]
    assert ("Start date", old_start, earlier) in changes
    for function in (kept_membership, moved):
        first = Function.history.filter(id=function.pk).earliest("history_date")
        assert (first.history_type, first.history_date, first.start_date) == ("+", function.created_at, function.start_date)
    assert Function.history.filter(id=moved.pk).latest("history_date").relation_id == keep.pk


def test_the_merged_cards_keep_a_first_history_row_when_they_had_none(federation):
    """Cards written before history was kept: the merge's change (the login moving, the card
    archived) shows against a first row of their values, not as their creation."""
    keep = make_relation(federation.department11, last_name="Vries", first_name="Jan")
    other = make_relation(federation.department12, last_name="Vries", first_name="J.")
    Relation.history.filter(id__in=[keep.pk, other.pk]).delete()

    merging.relation_merge(actor=federation.national_sb, tenant=federation.national, keep=keep, other=other,
                           values={}, extra={})

    for card in (keep, other):
        rows = list(Relation.history.filter(id=card.pk).order_by("history_date", "history_id"))
        assert rows[0].history_type == "+" and rows[0].history_date == card.created_at
        assert all(row.history_type == "~" for row in rows[1:]) and len(rows) >= 2
    assert Relation.history.filter(id=other.pk).latest("history_date").archived is True


def test_it_moves_the_login_to_the_kept_card(two_cards, federation):
    keep, other, _twin = two_cards
    Relation.objects.filter(pk=other.pk).update(user=federation.department_la)

    merging.relation_merge(actor=federation.national_sb, tenant=federation.national, keep=keep, other=other, values={}, extra={})

    keep.refresh_from_db()
    other.refresh_from_db()
    assert keep.user == federation.department_la and other.user is None


def test_it_refuses_a_merge_across_environments_the_user_cannot_see(two_cards, federation):
    keep, other, _twin = two_cards
    far = make_relation(federation.department21, last_name="Vries", birth_date=datetime.date(1970, 1, 1))

    with pytest.raises(PermissionDenied):
        merging.relation_merge(actor=federation.province_la, tenant=federation.province1, keep=keep, other=far, values={}, extra={})
    with pytest.raises(PermissionDenied):
        merging.relation_merge(actor=federation.department_la, tenant=federation.department11, keep=keep, other=other,
                               values={}, extra={})
    assert not Merge.objects.filter(merged__in=[far, other]).exists()


def test_it_refuses_to_merge_a_card_twice(two_cards, federation):
    keep, other, _twin = two_cards
    merging.relation_merge(actor=federation.national_sb, tenant=federation.national, keep=keep, other=other, values={}, extra={})

    with pytest.raises(ValidationError):
        merging.relation_merge(actor=federation.national_sb, tenant=federation.national, keep=keep, other=other, values={}, extra={})


def test_it_refuses_to_merge_two_cards_invoiced_for_the_same_membership_and_season(federation):
    keep = make_relation(federation.department11, last_name="Dubbel", first_name="Anna")
    other = make_relation(federation.department12, last_name="Dubbel", first_name="A.")
    billing_environment(federation.province1)
    rate(federation.province1, "25.00")
    invoice_run = run(federation.province1, federation.province_sb, reference=TODAY)
    invoice_run_finalise(run_id=invoice_run.pk, actor=federation.province_sb)
    with translation.override("nl"), pytest.raises(ValidationError, match="Crediteer eerst een van die facturen"):
        merging.relation_merge(actor=federation.national_sb, tenant=federation.national, keep=keep, other=other,
                               values={}, extra={})
    assert Invoice.objects.filter(relation=other).exists()
    assert not Merge.objects.filter(merged=other).exists()


def test_the_merged_card_is_archived_left_out_of_lists_and_its_address_and_number_open_the_kept_card(
    two_cards, federation, login
):
    keep, other, _twin = two_cards
    merging.relation_merge(actor=federation.national_sb, tenant=federation.national, keep=keep, other=other, values={}, extra={})
    other.refresh_from_db()
    assert other.archived and other.merged_into == keep and Relation.objects.filter(pk=other.pk).exists()
    assert other not in Relation.objects.visible_to(federation.national_sb, federation.national)

    client = login(federation.province_la)
    found = client.get(reverse("relation_list"), {"q": "vries"})
    shown = {relation.pk for relation in found.context["page"].object_list}
    assert keep.pk in shown and other.pk not in shown
    by_number = client.get(reverse("relation_list"), {"q": str(other.number)})
    assert [relation.pk for relation in by_number.context["page"].object_list] == [keep.pk]
    opened = client.get(reverse("relation_detail", args=[other.pk]))
    assert opened.status_code == 302 and opened["Location"] == reverse("relation_detail", args=[keep.pk])
    assert client.get(reverse("relation_edit", args=[other.pk])).status_code == 404


def test_an_anonymised_card_is_archived_by_the_same_field_and_found_by_no_search(federation, login):
    from relations.privacy import relation_anonymise

    gone = make_relation(federation.department11, last_name="Weg", first_name="Wim")
    long_ago = TODAY - datetime.timedelta(days=800)
    Function.objects.filter(relation=gone).update(start_date=long_ago, end_date=long_ago)
    relation_anonymise(actor=federation.national_sb, tenant=federation.national, relation=gone)
    gone.refresh_from_db()
    assert gone.archived and gone.merged_into is None
    client = login(federation.province_la)
    for query in ("geanonimiseerd", str(gone.number), ""):
        listed = client.get(reverse("relation_list"), {"q": query} if query else {})
        assert gone.pk not in {relation.pk for relation in listed.context["page"].object_list}
    # The card itself still opens (its number, home and functions stay for the statistics).
    assert client.get(reverse("relation_detail", args=[gone.pk])).status_code == 200
