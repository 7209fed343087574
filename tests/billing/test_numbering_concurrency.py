"""Gap-free numbering under concurrency (PostgreSQL): two runs of one billing environment
finalised at the same moment, and one run finalised twice at the same moment."""

from __future__ import annotations

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections

from billing import services
from billing.models import Invoice
from memberships.models import FunctionType

from .world import billing_environment, member, rate, run

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL"),
]


def _at_once(*calls):
    """Run the calls in threads that start together; return what each returned or raised."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def work(index, call):
        try:
            barrier.wait()
            results[index] = call()
        except Exception as error:  # noqa: BLE001 — the test inspects it
            results[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


@pytest.fixture
def world(federation):
    billing_environment(federation.province1)
    supporter, _ = FunctionType.objects.get_or_create(
        code="supporting_member",
        defaults={"name": "Steunlid", "category": "membership", "tenant_kind": "department", "counts_as_membership": True},
    )
    rate(federation.province1, "50.00")
    rate(federation.province1, "15.00", code="supporting_member", name="Steunlid")
    for n in range(15):
        member(federation.department11, f"Lid{n}")
    for n in range(12):
        member(federation.department12, f"Steun{n}", code="supporting_member")
    return federation


def test_it_numbers_two_runs_finalised_at_once_without_gaps_or_duplicates(world):
    members = run(world.province1, world.province_sb, codes=("department_member",))
    supporters = run(world.province1, world.province_sb, codes=("supporting_member",))
    results = _at_once(
        lambda: services.invoice_run_finalise(run_id=members.pk, actor=None),
        lambda: services.invoice_run_finalise(run_id=supporters.pk, actor=None),
    )
    assert not [r for r in results if isinstance(r, Exception)], results
    numbers = sorted(int(n.split("-")[1]) for n in Invoice.objects.values_list("number", flat=True))
    assert numbers == list(range(1, 28))
    # Each run's numbers form one block: the second waited for the first.
    for done in (members, supporters):
        mine = sorted(int(n.split("-")[1]) for n in Invoice.objects.filter(run=done).values_list("number", flat=True))
        assert mine == list(range(mine[0], mine[0] + len(mine)))


def test_it_finalises_a_run_once_when_finalise_is_clicked_twice_at_once(world):
    concept = run(world.province1, world.province_sb)
    results = _at_once(
        lambda: services.invoice_run_finalise(run_id=concept.pk, actor=None),
        lambda: services.invoice_run_finalise(run_id=concept.pk, actor=None),
    )
    refused = [r for r in results if isinstance(r, ValidationError)]
    assert len(refused) == 1 and "al definitief gemaakt" in refused[0].messages[0]
    numbers = sorted(int(n.split("-")[1]) for n in Invoice.objects.values_list("number", flat=True))
    assert numbers == list(range(1, 16))
