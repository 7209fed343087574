"""Log lines are printed once: under DEBUG, Django's own console handler on the "django" logger
would print every django.* line a second time next to the root handler (issue 16)."""

from __future__ import annotations

import logging


def test_it_prints_django_log_lines_only_through_the_root_handler():
    assert logging.getLogger("django").handlers == []
    assert logging.getLogger("django").propagate
    assert len(logging.getLogger().handlers) >= 1
