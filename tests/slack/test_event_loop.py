"""The web process's event loop is never blocked by a Redis call on the command path.

The real Valkey is paused for writes (`CLIENT PAUSE … WRITE`) while a person clicks
"Ship it": the click's command (executor → session service → the prompt queue's script)
waits on the server. Meanwhile another request to the same app is answered, which it
could not be if that wait held the loop.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from redis import Redis

from bot.prompts import Action
from bot.sessions import Person, Session, Thread
from bot.surfaces.slack import blocks
from bot.surfaces.slack.thread import SURFACE, SlackThread
from jobs.runtime import JobContext
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
