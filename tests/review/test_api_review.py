"""`POST /api/v1/reviews {url, focus}`: the review is queued as the token's owner and
posted on the pull request; a wrong URL or body is a clear 422, never a 500."""

from __future__ import annotations

import json

from tests.api.support import person, token
from tests.conftest import run_jobs
from tests.fakes.anthropic import Reply
from tests.review.support import REPO, Review, finding, review

__all__ = ["review"]


def _post(review: Review, body: object, secret: str) -> tuple[int, object]:
    headers = {"Authorization": f"Bearer {secret}", "Content-Type": "application/json"}
    return review.app.post("/api/v1/reviews", json.dumps(body).encode(), headers)


def test_the_api_queues_a_review_that_is_posted_on_the_pull_request(review: Review) -> None:
    pull = review.github.add_pull(REPO, "feature", "Tweak f5", user="alice")
    review.model.script(
        finding("app.py", 14, "blocker", "f5 now returns a negative number."),
        Reply.text("One risky change."),
    )
    secret, _ = token(review.ctx.redis, person(review.ctx.settings, review.ctx.redis, "carol"))
    url = f"{review.github.url}/{REPO}/pull/{pull.number}"

    status, answer = _post(review, {"url": url, "focus": "sign errors"}, secret)
    assert status == 202, answer
    assert answer == {
        "message": f"Reviewing {REPO}#{pull.number}: the review is posted on it.",
        "provider": "github",
        "project": REPO,
        "number": pull.number,
    }
    run_jobs(review.ctx)
    [posted] = review.reviews.of(pull.number)
    assert "focus: sign errors" in posted.body
    assert [c.line for c in review.reviews.comments(posted)] == [14]


def test_the_api_refuses_a_bad_url_or_body_clearly(review: Review) -> None:
    secret, _ = token(review.ctx.redis, person(review.ctx.settings, review.ctx.redis, "carol"))
    for body in (
        {"url": "https://evil.example/octo/widgets/pull/1"},
        {"url": "file:///etc/passwd"},
        {"url": ""},
        {"url": "x", "extra": 1},
        {"focus": "no url"},
    ):
        status, answer = _post(review, body, secret)
        assert status == 422, (body, answer)
        assert isinstance(answer, dict) and answer.get("detail"), answer
    status, _ = _post(review, {"url": "x"}, "not-a-token")
    assert status == 401
    run_jobs(review.ctx)
    assert review.github.calls == [] or all("/reviews" not in c.path for c in review.github.calls)
