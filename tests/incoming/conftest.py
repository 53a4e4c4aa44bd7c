"""One real app with every inbound route configured, shared by this folder's tests.

Redis is flushed and the log book cleared before each test, so each test sees only what
its own requests did.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.core.redisio import connect
from tests.fakes.slack import FakeSlack
from tests.routes import SLACK_TOKEN, Routes, route_settings


@pytest.fixture(scope="module")
def live_routes(valkey_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Routes]:
    slack = FakeSlack(token=SLACK_TOKEN)
    slack.start()
    redis = connect(valkey_url)
    settings = route_settings(tmp_path_factory.mktemp("routes"), valkey_url, slack)
    routes = Routes(settings, redis).start()
    try:
        yield routes
    finally:
        routes.stop()
        redis.close()
        slack.stop()


@pytest.fixture
def routes(live_routes: Routes) -> Routes:
    live_routes.redis.flushall()
    live_routes.log.clear()
    return live_routes
