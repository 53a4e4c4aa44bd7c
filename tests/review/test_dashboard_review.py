"""The session page's Review button: shown once the session's pull request is open, it
queues a review that is posted on that pull request, asked as the signed-in person."""

from __future__ import annotations

import re
import time
from urllib.parse import urlsplit

import requests

from bot.core.redisio import run_async
from bot.identity.people import Identity
from bot.identity.signin_links import issue
from bot.sessions.merge_request import MergeRequestRef
from bot.sessions.session import Person, Session, SessionState, Thread
from bot.sessions.session_store import SessionStore
from tests.accounts_support import SyncAccounts
from tests.conftest import run_jobs
from tests.fakes.anthropic import Reply
from tests.live_server import LiveServer
from tests.review.support import REPO, Review, finding, review

__all__ = ["review"]


def test_the_review_button_posts_a_review_on_the_sessions_pull_request(review: Review) -> None:
    settings, redis = review.ctx.settings, review.ctx.redis
    pull = review.github.add_pull(REPO, "feature", "Tweak f5", user="alice")
    accounts = SyncAccounts(settings, redis)
    dana = accounts.person_for(Identity.slack("T1", "dana"), "dana")
    mr = f"{review.github.url}/{REPO}/pull/{pull.number}"
    now = time.time()
    SessionStore(redis).create(
        Session(
            id="rev0001", repo=REPO, provider="github", project=REPO, base_branch="main",
            work_branch="feature", thread=Thread("web", "rev0001"),
            created_by=Person(f"web:{dana.id}", "dana"), state=SessionState.PUSHED,
            title="Tweak f5", merge_request=MergeRequestRef(mr, pull.number),
            created_at=now, updated_at=now,
        )
    )  # fmt: skip
    review.model.script(
        finding("app.py", 14, "major", "f5 changed sign."), Reply.text("One thing.")
    )
    server = LiveServer(settings, redis).start()
    try:
        browser = requests.Session()
        link = run_async(redis, lambda aredis: issue(settings, aredis, dana.id))
        browser.get(server.url + urlsplit(link).path, timeout=10)
        page = browser.get(f"{server.url}/dashboard/sessions/rev0001", timeout=10)
        assert 'data-action="review"' in page.text
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert csrf
        answer = browser.post(
            f"{server.url}/dashboard/sessions/rev0001/review",
            data={"csrf": csrf.group(1)},
            headers={"Accept": "application/json"},
            timeout=10,
        )
        assert answer.json() == {
            "ok": True,
            "message": f"Reviewing {REPO}#{pull.number}: the review is posted on it.",
        }
    finally:
        server.stop()
    run_jobs(review.ctx)
    [posted] = review.reviews.of(pull.number)
    assert [c.line for c in review.reviews.comments(posted)] == [14]
