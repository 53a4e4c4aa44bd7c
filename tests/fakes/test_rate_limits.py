"""The fakes' rate limits answer as Slack and GitHub do, through the real client libraries."""

from __future__ import annotations

import pytest
from github import Auth, Github, GithubException
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from tests.fakes.github import FakeGitHub
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
