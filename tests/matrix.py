"""The access-matrix runner shared by the apps' matrix tests: every actor asks every row of one
URL name, each request rolled back (see tests/tenants/test_access_matrix.py for how to read the
answers)."""

from __future__ import annotations

from collections.abc import Callable

from tests.tenants.test_access_matrix import ACTORS, _client_for
from tests.tenants.test_access_matrix import _request as _tenants_request


def matrix_failures(
    matrix: dict, *, method: str, url_name: str, federation, url_for: Callable[[str], str],
    data_for: Callable[[str], dict], state: Callable[[], tuple], success_without_change: frozenset = frozenset(),
) -> list[str]:
    """The cells of `matrix` for (method, url_name) that the code answers differently, and POSTs
    that changed data without succeeding or succeeded without changing anything."""
    clients = {actor: _client_for(federation, actor) for actor in ("anonymous", *ACTORS)}
    failures = []
    rows = [(probe, row) for (m, u, probe), row in matrix.items() if (m, u) == (method, url_name)]
    for index, (probe, row) in enumerate(rows):
        url = url_for(probe)
        data = data_for(probe) if method == "POST" else {}
        # Anonymous visitors are sent to the login page before any object is looked at.
        anonymous = (("anonymous", "login"),) if index == 0 else ()
        for actor, expected in (*anonymous, *zip(ACTORS, row, strict=True)):
            got, changed = _tenants_request(clients[actor], method, url, data, state=state)
            where = f"{actor} {method} {url} ({url_name}, {probe})"
            if got != expected:
                failures.append(f"{where}: expected {expected}, got {got}")
            elif method == "POST" and expected != 302 and changed:
                failures.append(f"{where}: answered {got} but changed data")
            elif method == "POST" and expected == 302 and not changed and url_name not in success_without_change:
                failures.append(f"{where}: answered 302 but changed nothing")
    return failures
