"""Property: no signed request, however mangled, gets a 5xx or leaves a traceback.

Per route, a few hundred requests built by mutating the real payloads in tests/fixtures
(`tests/fuzzing.py`), each signed as the platform signs it. `REPOBOX_FUZZ_EXAMPLES` sets
how many per route (default 300); `bench/fuzz_routes.py` sends tens of thousands.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzzing import ROUTES
from tests.routes import Routes

T = TypeVar("T")
EXAMPLES = int(os.environ.get("REPOBOX_FUZZ_EXAMPLES", "300"))


@dataclass
class DrawChooser:
    """The fuzzing choices, drawn by hypothesis (so a failure shrinks to a small one)."""

    data: st.DataObject

    def pick(self, options: Sequence[T]) -> T:
        return self.data.draw(st.sampled_from(options))

    def number(self, low: int, high: int) -> int:
        return self.data.draw(st.integers(low, high))

    def text(self) -> str:
        return self.data.draw(st.text(max_size=40))


@pytest.mark.parametrize("route", sorted(ROUTES))
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                           HealthCheck.data_too_large],
)  # fmt: skip
@given(data=st.data())
def test_no_signed_request_gets_a_5xx_or_a_traceback(
    routes: Routes, route: str, data: st.DataObject
) -> None:
    routes.log.clear()
    answer = ROUTES[route](routes, DrawChooser(data))
    assert answer.status < 500, (answer.status, answer.text[:200])
    assert routes.log.tracebacks() == []
    assert routes.log.crashes() == []  # the boundary refused it, not the last line of defence
    assert len(routes.log.lines()) <= 1
