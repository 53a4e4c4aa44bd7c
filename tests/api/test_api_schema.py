"""The OpenAPI description checked against the running app with Schemathesis: every
operation, with generated inputs and a token, answers only documented statuses and shapes,
never a 5xx, and refuses a request without its token. `docs/openapi.json` is the document
the app serves."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from redis import Redis
from schemathesis.specs.openapi.checks import ignored_auth

from bot.core.config import Settings
from handlers.api.openapi import describe
from handlers.api.routes import OPERATIONS
from tests.api.support import Api, operator, token
from tests.conftest import MakeRepo
from tests.live_server import LiveServer

DOCS = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"
PUBLISHED_SERVER = "https://repobox.example.com"
EXAMPLES = 10  # per operation and pass: small, so the suite stays quick on two cores
CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_schema_conformance,
    schemathesis.checks.response_headers_conformance,
    ignored_auth,
]


@pytest.fixture
def served(settings: Settings, redis: Redis) -> Iterator[tuple[LiveServer, str]]:
    live = LiveServer(settings.with_changes(api_rate_limit=100_000), redis).start()
    yield live, token(redis, operator(settings, redis))[0]
    live.stop()


def _check(
    operation: schemathesis.APIOperation, server: LiveServer, secret: str, real: str | None
) -> None:
    """`real`: put this session's id in the path (and follow its events until idle)."""

    @given(case=operation.as_strategy())
    @hypothesis_settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def run(case: schemathesis.Case) -> None:
        if real is not None and case.path_parameters is not None:
            case.path_parameters["id"] = real
            if case.path.endswith("/events"):
                case.query = {**(case.query or {}), "until": "idle"}
        case.call_and_validate(
            base_url=f"{server.url}/api/v1",
            headers={"Authorization": f"Bearer {secret}"},
            checks=CHECKS,
            timeout=15,
        )

    try:
        run()
    except Exception as error:
        where = "a real session" if real else "generated ids"
        raise AssertionError(f"{operation.label}, {where}: {error}") from error


def test_every_operation_answers_as_documented(
    served: tuple[LiveServer, str], make_repo: MakeRepo
) -> None:
    """Each operation in turn, through hypothesis directly (schemathesis' pytest plugin
    does not run on this pytest): with generated ids (404s), then on a real, archived
    session, so the 200 answers' shapes are checked too."""
    server, secret = served
    loaded = schemathesis.openapi.from_url(f"{server.url}/api/v1/openapi.json")
    operations = [result.ok() for result in loaded.get_all_operations()]
    assert len(operations) == len(OPERATIONS)
    api = Api(server.url, secret)
    started = api.post("/sessions", json={"repo": str(make_repo(name="sprockets"))})
    real = started.json()["session"]["id"]
    assert api.post(f"/sessions/{real}/archive").status_code == 200
    for operation in operations:
        _check(operation, server, secret, None)
        _check(operation, server, secret, real)


def test_the_published_description_is_the_served_one(
    served: tuple[LiveServer, str], settings: Settings
) -> None:
    server, _ = served
    served_doc = requests.get(f"{server.url}/api/v1/openapi.json", timeout=10).json()
    assert served_doc == describe(OPERATIONS, settings.public_url)
    published = json.loads(DOCS.read_text())
    assert published == describe(OPERATIONS, PUBLISHED_SERVER), (
        "docs/openapi.json is stale: python -m handlers.api.routes > docs/openapi.json"
    )
