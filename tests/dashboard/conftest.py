import pytest
from django.utils import timezone

from dashboard.counts import counts_rebuild

from .world import make_history


@pytest.fixture
def history(federation):
    """The test federation with its membership history, and the counts built from it."""
    made = make_history(federation)
    counts_rebuild(timezone.localdate())
    return made
