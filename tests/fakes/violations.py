"""The suite's rule that no test leaves a fake holding a request the real API would refuse.

A pytest plugin (named in tests/conftest.py's `pytest_plugins`). It fetches the published
descriptions once per run (tests/fakes/descriptions.py), and every test starts with no
violations recorded and fails at teardown if a fake recorded one while it ran, whether or
not our code noticed the error reply. Tests that send an invalid request on purpose take
their violations with `fake.take_violations()` and assert on them.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.base import take_violations
from tests.fakes.descriptions import DescriptionUnavailable, github_description_path


@pytest.fixture(scope="session", autouse=True)
def published_descriptions() -> None:
    """Fetch GitHub's description once, before any test (a fake must not wait on npm while
    a client waits on the fake). Offline outside CI: the fakes run unvalidated against it,
    and tests/fakes/test_validation.py says so in its skips; under CI this fails the run."""
    try:
        github_description_path()
    except DescriptionUnavailable:
        pass


@pytest.fixture(autouse=True)
def fakes_saw_only_valid_requests() -> Iterator[None]:
    take_violations()  # a fake shared with an earlier test may have recorded something late
    yield
    found = take_violations()
    if found:
        lines = "\n".join(f"  {v}" for v in found)
        pytest.fail(
            "a fake received requests the real platform would refuse or misread "
            f"(tests/fakes/allowlist.toml lists the allowed exceptions):\n{lines}",
            pytrace=False,
        )
