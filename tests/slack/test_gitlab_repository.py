"""A Slack session on a GitLab repository ships through the same GitLab provider."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.core.config import Settings
from bot.sessions.session import SessionState
from jobs.steps.context import JobContext
from tests.conftest import MakeRepo, git, run_jobs
from tests.fakes.gitlab import DEFAULT_TOKEN, MAINTAINER, FakeGitLab
from tests.fakes.slack import FakeSlack
from tests.slack.support import CHANNEL, Workspace, session_of


@pytest.fixture
def gitlab() -> Iterator[FakeGitLab]:
    with FakeGitLab() as fake:
        yield fake


@pytest.fixture
def slack_settings(slack_settings: Settings, gitlab: FakeGitLab) -> Settings:
    """The Slack test settings, with a GitLab host configured as the default provider."""
    return slack_settings.with_changes(
        gitlab_url=gitlab.url,
        gitlab_token=DEFAULT_TOKEN,
        default_provider="gitlab",
        forge_retries=2,
        forge_backoff=0.01,
    )


def test_slack_session_on_a_gitlab_project_opens_the_merge_request(
    workspace: Workspace,
    slack: FakeSlack,
    slack_ctx: JobContext,
    gitlab: FakeGitLab,
    make_repo: MakeRepo,
) -> None:
    origin = make_repo(files={"README.md": "# Widgets\n"})
    project = gitlab.add_project(
        "acme/widgets", origin.as_uri(), members={gitlab.bot.id: MAINTAINER}
    )

    assert workspace.slash("new acme/widgets write notes.txt: from slack").status == 200
    run_jobs(slack_ctx)
    (card,) = [m for m in slack.messages(CHANNEL) if not m.is_reply]
    session = session_of(slack_ctx, CHANNEL, card.ts)
    assert (session.provider, session.project) == ("gitlab", "acme/widgets")

    _, answer = workspace.reply(card.ts, "ship it")
    assert answer.status == 200
    run_jobs(slack_ctx)

    [mr] = gitlab.merge_requests(project)
    session = slack_ctx.service.sessions.get(session.id)
    assert session.state is SessionState.PUSHED
    assert (mr.source_branch, mr.target_branch) == (session.work_branch, "main")
    assert "write notes.txt: from slack" in mr.description
    assert git("show", f"{session.work_branch}:notes.txt", cwd=origin) == "from slack\n"
    web_url = gitlab.web_url(project, "merge_request", mr.iid)
    assert any(web_url in m.visible_text for m in slack.messages(CHANNEL, card.ts))
    assert web_url in slack.message(CHANNEL, card.ts).visible_text  # and on the card
