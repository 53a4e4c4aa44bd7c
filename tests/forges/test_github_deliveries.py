"""GitHub deliveries beyond a JSON comment: the form-encoded content type GitHub offers,
and a submitted review whose summary asks the bot for changes."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from tests.conftest import run_jobs
from tests.fakes.github import encode_payload, sign
from tests.forges.test_github_surface import REPO, SECRET, Hub, hub

__all__ = ["hub"]  # the fixture, shared with the GitHub surface's own tests

FORM = "application/x-www-form-urlencoded"


def form_delivery(payload: dict[str, object], event: str) -> tuple[bytes, dict[str, str]]:
    """As GitHub sends it with content type `application/x-www-form-urlencoded`: the JSON in
    a `payload` field, the signature over the form body."""
    body = urlencode({"payload": encode_payload(payload).decode()}).encode()
    headers = sign(SECRET, body, event)
    headers["Content-Type"] = FORM
    return body, headers


def test_a_form_encoded_delivery_is_verified_then_taken(hub: Hub) -> None:
    issue = hub.fake.add_issue(REPO, "Add notes", user="alice")
    payload = hub.fake.issue_comment_payload(
        REPO, issue.number, "@repobox write notes.txt: hello", user="alice"
    )
    body, headers = form_delivery(payload, "issue_comment")
    forged = {
        **headers,
        "X-Hub-Signature-256": sign("wrong", body, "issue_comment")["X-Hub-Signature-256"],
    }
    assert hub.app.post("/webhooks/github", body, forged)[0] == 401
    resigned_json = sign(SECRET, encode_payload(payload), "issue_comment")
    assert hub.app.post("/webhooks/github", body, resigned_json)[0] == 401  # JSON's signature
    assert hub.app.post("/webhooks/github", body, headers) == (202, {"status": "accepted"})
    run_jobs(hub.ctx)
    assert hub.bot_comments(issue.number)[-1].body.startswith("@alice")

    ping = hub.fake.ping_payload(REPO)
    assert hub.app.post("/webhooks/github", *form_delivery(ping, "ping"))[1] == {"status": "pong"}
    empty = b"payload="
    headers = {**sign(SECRET, empty, "issue_comment"), "Content-Type": FORM}
    assert hub.app.post("/webhooks/github", empty, headers)[0] == 400


def test_a_submitted_review_that_mentions_the_bot_is_taken_like_a_comment(hub: Hub) -> None:
    fake = hub.fake
    pull = fake.add_pull(REPO, "feature", "Feature work", "Body by a person.", user="alice")
    dump = hub.tmp / "review.json"
    payload = fake.review_payload(
        REPO, pull.number, f"@repobox write feature.txt: reviewed\ncontext {dump}", user="alice"
    )
    assert hub.deliver(payload) == (202, {"status": "accepted"})
    run_jobs(hub.ctx)

    given = json.loads(dump.read_text())
    assert given["session"]["work_branch"] == "feature"
    assert given["origin"]["comment"]["url"].endswith(
        f"#pullrequestreview-{payload['review']['id']}"
    )
    answers = hub.bot_comments(pull.number, "issue")  # a review is answered in the conversation
    assert answers and answers[-1].body.startswith("@alice")
    assert fake.reactions(payload["review"]["id"]) == []  # a review has no comment to react to

    again = hub.deliver(payload)  # GitHub's manual redelivery: a new delivery id, same review
    assert again == (200, {"status": "duplicate", "of": "comment"})


def test_reviews_that_do_not_ask_are_ignored(hub: Hub) -> None:
    pull = hub.fake.add_pull(REPO, "feature", "Feature", user="alice")
    silent = hub.fake.review_payload(REPO, pull.number, None, user="alice")  # approve, no text
    assert hub.deliver(silent) == (200, {"status": "ignored", "reason": "no mention"})
    dismissed = hub.fake.review_payload(REPO, pull.number, "@repobox hi", user="alice")
    dismissed["action"] = "dismissed"
    assert hub.deliver(dismissed) == (200, {"status": "ignored", "reason": "comment dismissed"})
    assert hub.ctx.redis.llen("rq:queue:repobox-fast") == 0
