"""The fakes' rate limits answer as Slack and GitHub do, through the real client libraries."""

from __future__ import annotations

import gitlab as python_gitlab
import pytest
from github import Auth, Github, GithubException
from gitlab.exceptions import GitlabGetError
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.core.config import Settings
from bot.forges import gitlab
from bot.forges.forge import ReplyTarget
from tests.fakes.github import FakeGitHub
from tests.fakes.gitlab import DEFAULT_TOKEN as TOKEN
from tests.fakes.gitlab import FakeGitLab
from tests.fakes.rate_limits import SLACK_TIERS
from tests.fakes.slack import FakeSlack


def test_slack_update_beyond_tier_3_is_429_with_retry_after() -> None:
    with FakeSlack() as fake:
        client = WebClient(token="xoxb-test", base_url=fake.api_url)
        posted = client.chat_postMessage(channel="C1", text="hi")
        for n in range(SLACK_TIERS["chat.update"]):
            client.chat_update(channel="C1", ts=posted["ts"], text=f"edit {n}")
        with pytest.raises(SlackApiError) as refused:
            client.chat_update(channel="C1", ts=posted["ts"], text="one too many")
        assert refused.value.response.status_code == 429
        assert refused.value.response["error"] == "ratelimited"
        assert 1 <= int(refused.value.response.headers["Retry-After"]) <= 60
        assert len(fake.throttled("chat.update")) == 1


def test_slack_post_message_is_paced_per_channel() -> None:
    with FakeSlack() as fake:
        client = WebClient(token="xoxb-test", base_url=fake.api_url)
        for n in range(5):
            client.chat_postMessage(channel="C1", text=f"burst {n}")
        with pytest.raises(SlackApiError) as refused:
            client.chat_postMessage(channel="C1", text="sixth in a second")
        assert refused.value.response.status_code == 429
        client.chat_postMessage(channel="C2", text="another channel is its own")
        assert [c.path for c in fake.throttled()] == ["/api/chat.postMessage"]


def test_slack_limits_can_be_turned_off_or_changed() -> None:
    with FakeSlack() as fake:
        client = WebClient(token="xoxb-test", base_url=fake.api_url)
        fake.tiers.limit("reactions.remove", 1)
        posted = client.chat_postMessage(channel="C1", text="hi")
        client.reactions_add(channel="C1", timestamp=posted["ts"], name="eyes")
        client.reactions_remove(channel="C1", timestamp=posted["ts"], name="eyes")
        client.reactions_add(channel="C1", timestamp=posted["ts"], name="eyes")
        with pytest.raises(SlackApiError):
            client.reactions_remove(channel="C1", timestamp=posted["ts"], name="eyes")
        fake.tiers.enabled = False
        client.reactions_remove(channel="C1", timestamp=posted["ts"], name="eyes")


def test_github_secondary_limit_is_403_with_retry_after() -> None:
    with FakeGitHub() as fake:
        fake.add_repo("acme/app", "file:///nowhere.git")
        number = fake.add_issue("acme/app", "one").number
        fake.secondary.limit("minute", 3)
        gh = Github(
            base_url=fake.url,
            auth=Auth.Token("ghp_test"),
            retry=None,
            seconds_between_requests=None,
            seconds_between_writes=None,
        )
        issue = gh.get_repo("acme/app").get_issue(number)
        issue.create_comment("one")
        issue.create_comment("two")
        issue.create_comment("three")
        assert [c.body for c in issue.get_comments()] == ["one", "two", "three"]  # a read
        with pytest.raises(GithubException) as refused:
            issue.create_comment("four")
        assert refused.value.status == 403
        assert "secondary rate limit" in str(refused.value.data)
        assert int((refused.value.headers or {})["retry-after"]) >= 1
        assert len(fake.secondary_limited()) == 1


def test_gitlab_notes_beyond_the_limit_meet_429_and_our_provider_backs_off_to_success(
    settings: Settings,
) -> None:
    """GitLab.com's notes limit (300 a minute per user, here 2 in 2 s): our provider's
    client waits the `Retry-After` GitLab sends and every comment lands, once."""
    with FakeGitLab() as fake:
        fake.add_project("acme/app")
        issue = fake.add_issue("acme/app", "one")
        fake.limits.limit("notes", 2, per=2.0)
        provider = gitlab.build(settings.with_changes(gitlab_url=fake.url, gitlab_token=TOKEN))
        target = ReplyTarget("acme/app", "issue", issue.iid)
        ids = [provider.post(target, f"note {n}") for n in range(3)]

        assert [n.body for n in fake.notes("acme/app", "issue", issue.iid)] == [
            "note 0",
            "note 1",
            "note 2",
        ]
        assert len(set(ids)) == 3
        (refused,) = fake.limits.refused  # met once, then waited out
        posts = [c for c in fake.calls if c.method == "POST" and c.path.endswith("/notes")]
        landed = next(c for c in posts if c.at > refused.at and c.status == 201)
        assert landed.at - refused.at >= 0.9  # Retry-After (1 s here) was obeyed


def test_gitlab_api_traffic_limit_is_per_user_and_429() -> None:
    with FakeGitLab() as fake:
        fake.add_project("acme/app")
        fake.limits.limit("api", 2)
        client = python_gitlab.Gitlab(fake.url, private_token=TOKEN)
        client.projects.get("acme/app")
        client.projects.get("acme/app")
        with pytest.raises(GitlabGetError) as refused:
            client.projects.get("acme/app", obey_rate_limit=False)
        assert refused.value.response_code == 429
        (call,) = fake.limits.refused
        assert call.status == 429
        other = fake.add_user("someone", token="glpat-someone")
        python_gitlab.Gitlab(fake.url, private_token="glpat-someone").projects.get("acme/app")
        assert other.id and len(fake.limits.refused) == 1  # the limit is each user's own
