"""`/repobox review <url> [focus…]` from Slack: the review is posted on the pull request,
and the channel gets a message whose thread holds the counts and the link. The real app
behind the fake Slack, PyGithub against the fake GitHub, the scripted fake model."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from redis import Redis

from bot.core.config import Settings
from bot.identity.people import Credential, Identity, Provider
from jobs.steps.context import JobContext
from jobs.worker import runtime
from tests.accounts_support import SyncAccounts
from tests.conftest import MakeRepo, run_jobs
from tests.fakes.anthropic import FakeAnthropic, Reply
from tests.fakes.github import FakeGitHub
from tests.fakes.github_reviews import GitHubReviews
from tests.fakes.slack import FakeSlack
from tests.review.support import API_KEY, BASE_APP, HEAD_APP, REPO, finding
from tests.slack.support import ALICE, CHANNEL, INTERVAL, SECRET, TEAM, TOKEN, AppServer, Workspace

BOB = "W222"
BOB_TOKEN = "ghp_bobbobbobbobbobbob1234"


@dataclass
class SlackReview:
    github: FakeGitHub
    reviews: GitHubReviews
    model: FakeAnthropic
    slack: FakeSlack
    workspace: Workspace
    ctx: JobContext
    settings: Settings

    def url(self, number: int) -> str:
        return f"{self.github.url}/{REPO}/pull/{number}"

    def thread(self) -> tuple[str, list[str]]:
        """The channel message the review started, and its thread's texts."""
        [parent] = [m for m in self.slack.messages(CHANNEL) if not m.is_reply]
        return parent.visible_text, [
            m.visible_text for m in self.slack.messages(CHANNEL, parent.ts)
        ]


def _setup(
    settings: Settings, redis: Redis, make_repo: MakeRepo, **more: object
) -> Iterator[SlackReview]:
    origin = make_repo(files={"app.py": BASE_APP}, branches={"feature": {"app.py": HEAD_APP}})
    github = FakeGitHub()
    reviews = GitHubReviews(github)
    slack = FakeSlack(token=TOKEN)
    slack.start()
    try:
        with github, FakeAnthropic(api_key=API_KEY) as model:
            github.add_repo(REPO, origin.as_uri(), permissions={"alice": "write"}, private=True)
            configured = settings.with_changes(
                slack_bot_token=TOKEN, slack_signing_secret=SECRET, slack_api_url=slack.api_url,
                slack_edit_interval=INTERVAL, slack_streaming=False,
                github_api_url=github.url, github_token=github.token,
                forge_retries=2, forge_backoff=0.01,
                anthropic_base_url=model.url, anthropic_api_key=API_KEY, **more,
            )  # fmt: skip
            ctx = runtime.install(configured, redis)
            server = AppServer(configured).start()
            try:
                yield SlackReview(
                    github, reviews, model, slack, Workspace(slack, server), ctx, configured
                )
            finally:
                server.stop()
    finally:
        slack.stop()


@pytest.fixture
def slack_review(settings: Settings, redis: Redis, make_repo: MakeRepo) -> Iterator[SlackReview]:
    yield from _setup(settings, redis, make_repo)


def test_slash_review_posts_on_the_pull_request_and_summarises_in_the_thread(
    slack_review: SlackReview,
) -> None:
    pull = slack_review.github.add_pull(REPO, "feature", "Tweak f5", user="alice")
    slack_review.model.script(
        finding("app.py", 14, "blocker", "f5 now returns a negative number.",
                replacement="    return x + 5"),
        finding("app.py", 2, "minor", "f1 has no docstring."),
        Reply.text("One risky change."),
    )  # fmt: skip

    answer = slack_review.workspace.slash(f"review <{slack_review.url(pull.number)}> correctness")
    assert answer.status == 200
    assert f"Reviewing {REPO}#{pull.number}" in json.dumps(answer.json())
    run_jobs(slack_review.ctx)

    [posted] = slack_review.reviews.of(pull.number)
    [inline] = slack_review.reviews.comments(posted)
    assert (inline.path, inline.line) == ("app.py", 14)
    assert "focus: correctness" in posted.body
    parent, replies = slack_review.thread()
    assert f"Reviewing {REPO}#{pull.number} for" in parent and "correctness" in parent
    [said] = replies
    assert said.startswith("✅ Review posted on") and "1 blocker, 1 minor" in said
    assert f"/{REPO}/pull/{pull.number}#pullrequestreview-" in json.dumps(
        [m.blocks for m in slack_review.slack.messages(CHANNEL)]
    )


def test_a_url_off_the_configured_hosts_is_refused_at_once(slack_review: SlackReview) -> None:
    for text in (
        "review https://evil.example/octo/widgets/pull/1",
        "review",
        f"review {slack_review.github.url}/octo/widgets/issues/1",
        "review --upload-pack=x",
    ):
        answer = slack_review.workspace.slash(text)
        assert answer.status == 200, text
        said = answer.text
        assert any(w in said for w in ("not a pull request", "not a merge request", "Which")), said
    run_jobs(slack_review.ctx)
    assert slack_review.slack.messages(CHANNEL) == []


def test_a_linked_person_who_cannot_read_the_repository_is_refused_in_the_thread(
    slack_review: SlackReview,
) -> None:
    github = slack_review.github
    github.add_user("bob", token=BOB_TOKEN)  # not a collaborator: the repository is private
    pull = github.add_pull(REPO, "feature", "Tweak f5", user="alice")
    accounts = SyncAccounts(slack_review.settings, slack_review.ctx.redis)
    bob = accounts.person_for(Identity.slack(TEAM, BOB), "bob")
    accounts.save_credential(bob.id, Credential(Provider.GITHUB, BOB_TOKEN, "bob"))

    slack_review.workspace.slash(f"review {slack_review.url(pull.number)}", user=BOB)
    run_jobs(slack_review.ctx)

    assert slack_review.reviews.of(pull.number) == []
    _, [said] = slack_review.thread()
    assert said == f"🚫 bob cannot read {REPO} on github."
    assert BOB_TOKEN not in json.dumps([m.blocks for m in slack_review.slack.messages()])


@pytest.fixture
def linked_only(settings: Settings, redis: Redis, make_repo: MakeRepo) -> Iterator[SlackReview]:
    yield from _setup(settings, redis, make_repo, require_linked=True)


def test_require_linked_asks_to_connect_first(linked_only: SlackReview) -> None:
    pull = linked_only.github.add_pull(REPO, "feature", "Tweak f5", user="alice")
    answer = linked_only.workspace.slash(f"review {linked_only.url(pull.number)}", user=ALICE)
    assert "link your account first" in answer.text and "/account/link/" in answer.text
    run_jobs(linked_only.ctx)
    assert linked_only.reviews.of(pull.number) == []
