"""The web process's event loop is never blocked by a Redis call on the command path.

The real Valkey is paused for writes (`CLIENT PAUSE … WRITE`) while a person clicks
"Ship it": the click's command (executor → session service → the prompt queue's script)
waits on the server. Meanwhile another request to the same app is answered, which it
could not be if that wait held the loop. The account side is held to the same: a
dashboard sign-in whose one-time link (`GETDEL`) waits on the paused server leaves the
loop free as well.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import requests
from redis import Redis

from bot.core.redisio import run_async
from bot.identity.people import Identity
from bot.identity.signin_links import issue
from bot.sessions.prompts import Action
from bot.sessions.session import Person, Session, Thread
from bot.surfaces.slack import blocks
from bot.surfaces.slack.thread import SURFACE, SlackThread
from jobs.steps.context import JobContext
from tests.accounts_support import SyncAccounts
from tests.conftest import MakeRepo, wait_until
from tests.slack.support import ALICE, CHANNEL, TEAM, AppServer, Workspace

PAUSE_MS = 20_000  # an upper bound only: the test unpauses as soon as it has seen enough


def session_in_thread(ctx: JobContext, origin: Path, ts: str) -> Session:
    started = ctx.service.run(
        lambda svc: svc.start(
            repo=str(origin),
            base=None,
            prompt=None,
            thread=Thread(SURFACE, SlackThread(TEAM, CHANNEL, ts).key),
            person=Person(ALICE, "Alice"),
            request_id="loop-test",
        )
    )
    return started.session


def blocked(control: Redis) -> int:
    """Clients whose command waits in the server (a paused write counts)."""
    return int(control.info("clients")["blocked_clients"])


def test_a_command_waiting_on_redis_leaves_the_loop_free_for_other_requests(
    slack_ctx: JobContext,
    app_server: AppServer,
    workspace: Workspace,
    make_repo: MakeRepo,
    valkey_url: str,
) -> None:
    card = workspace.fake.add_message(CHANNEL, "session card", user="UBOT")
    session = session_in_thread(slack_ctx, make_repo(), card.ts)
    control = Redis.from_url(valkey_url)
    before = blocked(control)
    control.execute_command("CLIENT", "PAUSE", str(PAUSE_MS), "WRITE")
    with ThreadPoolExecutor(1) as pool:
        try:
            click = pool.submit(workspace.click, blocks.ACTION_SHIP, session.id, message_ts=card.ts)
            wait_until(lambda: blocked(control) > before, what="the ship to wait on Redis")

            other = app_server.request("/static/session.css")

            assert other.status == 200  # answered by the same loop …
            assert not click.done()  # … while the click still waited on the paused server
            assert control.info("clients")["paused_actions"] == "write"
        finally:
            control.execute_command("CLIENT", "UNPAUSE")
        assert click.result(timeout=30).status == 200
    history = slack_ctx.service.prompts.history(session.id)
    assert [p.action for p in history] == [Action.SHIP]  # and the ship was queued after all
    control.close()


def test_a_dashboard_sign_in_waiting_on_redis_leaves_the_loop_free_for_other_requests(
    slack_ctx: JobContext, app_server: AppServer, valkey_url: str
) -> None:
    settings, redis = slack_ctx.settings, slack_ctx.redis
    alice = SyncAccounts(settings, redis).person_for(Identity.slack(TEAM, ALICE), "Alice")
    link = run_async(redis, lambda aredis: issue(settings, aredis, alice.id))
    browser = requests.Session()
    control = Redis.from_url(valkey_url)
    before = blocked(control)
    control.execute_command("CLIENT", "PAUSE", str(PAUSE_MS), "WRITE")
    with ThreadPoolExecutor(1) as pool:
        try:
            signin = pool.submit(browser.get, app_server.url + urlsplit(link).path, timeout=30)
            wait_until(lambda: blocked(control) > before, what="the sign-in to wait on Redis")

            other = app_server.request("/static/session.css")

            assert other.status == 200  # answered by the same loop …
            assert not signin.done()  # … while the sign-in still waited on the paused server
        finally:
            control.execute_command("CLIENT", "UNPAUSE")
        page = signin.result(timeout=30)
    assert page.url.endswith("/account/settings")  # the link worked, once the server did
    assert "Signed in as <strong>Alice</strong>" in page.text
    control.close()
