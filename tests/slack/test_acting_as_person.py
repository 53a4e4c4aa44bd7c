"""Acting as the person from Slack: `/repobox connect` -> link a GitLab token in the web
settings -> the person's sessions push and open merge requests with their token, after
their rights are checked; REPOBOX_REQUIRE_LINKED asks to connect first."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
import requests
from redis import Redis

from bot.core.config import Settings
from bot.core.redisio import run_async
from bot.identity import broken
from bot.identity.accounts import accounts_on
from bot.identity.people import Identity, Provider
from bot.sessions.session import SessionState
from jobs.steps.context import JobContext
from tests.conftest import MakeRepo, run_jobs
from tests.fakes.gitlab import DEFAULT_TOKEN, MAINTAINER, REPORTER, FakeGitLab
from tests.fakes.slack import FakeSlack
from tests.slack.support import ALICE, CHANNEL, TEAM, AppServer, Workspace, session_of

ALICE_PAT = "glpat-alicealicealice9876"


@pytest.fixture
def gitlab() -> Iterator[FakeGitLab]:
    with FakeGitLab() as fake:
        yield fake


@pytest.fixture
def slack_settings(slack_settings: Settings, gitlab: FakeGitLab) -> Settings:
    return slack_settings.with_changes(
        gitlab_url=gitlab.url,
        gitlab_token=DEFAULT_TOKEN,
        default_provider="gitlab",
        forge_retries=2,
        forge_backoff=0.01,
    )


def connect_link(workspace: Workspace, user: str = ALICE) -> str:
    answer = workspace.slash("connect", user=user)
    assert answer.status == 200
    body = answer.json()
    assert body["response_type"] == "ephemeral"  # the link is for the person alone
    found = re.search(r"http://repobox\.test/account/link/[\w-]+", json.dumps(body))
    assert found, body
    return found.group(0)


def link_gitlab_token(app_server: AppServer, link: str, token: str) -> str:
    """Open the connect link and paste a personal access token in the settings page."""
    browser = requests.Session()
    settings_page = browser.get(app_server.url + urlsplit(link).path, timeout=10)
    assert settings_page.url.endswith("/account/settings"), settings_page.text
    csrf = re.search(r'name="csrf" value="([^"]+)"', settings_page.text)
    assert csrf
    linked = browser.post(
        f"{app_server.url}/account/settings/token",
        data={"csrf": csrf.group(1), "provider": "gitlab", "token": token},
        timeout=10,
    )
    assert "glpat-****9876" in linked.text and token not in linked.text
    return linked.text


def test_connect_link_then_a_slack_session_whose_mr_is_authored_by_the_person(
    workspace: Workspace,
    slack: FakeSlack,
    slack_ctx: JobContext,
    gitlab: FakeGitLab,
    app_server: AppServer,
    make_repo: MakeRepo,
) -> None:
    alice = gitlab.add_user("alice", token=ALICE_PAT)
    origin = make_repo(files={"README.md": "# Widgets\n"})
    project = gitlab.add_project(
        "acme/widgets", origin.as_uri(), members={gitlab.bot.id: MAINTAINER, alice.id: MAINTAINER}
    )
    link_gitlab_token(app_server, connect_link(workspace), ALICE_PAT)

    assert workspace.slash("new acme/widgets write notes.txt: mine", user=ALICE).status == 200
    run_jobs(slack_ctx)
    (card,) = [m for m in slack.messages(CHANNEL) if not m.is_reply]
    session = session_of(slack_ctx, CHANNEL, card.ts)
    _, answer = workspace.reply(card.ts, "ship it", user=ALICE)
    assert answer.status == 200
    run_jobs(slack_ctx)

    [mr] = gitlab.merge_requests(project)
    assert mr.author_id == alice.id  # opened with Alice's token: she is its author
    assert slack_ctx.service.sessions.get(session.id).state is SessionState.PUSHED
    replies = " ".join(m.visible_text for m in slack.messages(CHANNEL, card.ts))
    assert ALICE_PAT not in replies


def test_a_linked_person_without_write_access_is_refused_before_anything_runs(
    workspace: Workspace,
    slack: FakeSlack,
    slack_ctx: JobContext,
    gitlab: FakeGitLab,
    app_server: AppServer,
    make_repo: MakeRepo,
) -> None:
    alice = gitlab.add_user("alice", token=ALICE_PAT)
    origin = make_repo(files={"README.md": "# Widgets\n"})
    gitlab.add_project(
        "acme/widgets", origin.as_uri(), members={gitlab.bot.id: MAINTAINER, alice.id: REPORTER}
    )
    link_gitlab_token(app_server, connect_link(workspace), ALICE_PAT)

    workspace.slash("new acme/widgets write notes.txt: mine", user=ALICE)
    run_jobs(slack_ctx)
    (card,) = [m for m in slack.messages(CHANNEL) if not m.is_reply]
    session = slack_ctx.service.sessions.get(session_of(slack_ctx, CHANNEL, card.ts).id)
    assert session.state is SessionState.FAILED
    said = " ".join(m.visible_text for m in slack.messages(CHANNEL, card.ts))
    assert "alice has Reporter access to acme/widgets on GitLab (Developer is needed)" in said
    assert session.workdir is None  # refused before the set-up made a workdir


def test_the_bots_own_missing_right_is_said_plainly(
    workspace: Workspace,
    slack: FakeSlack,
    slack_ctx: JobContext,
    gitlab: FakeGitLab,
    make_repo: MakeRepo,
) -> None:
    origin = make_repo(files={"README.md": "# Widgets\n"})
    gitlab.add_project("acme/widgets", origin.as_uri(), members={gitlab.bot.id: REPORTER})
    workspace.slash("new acme/widgets write notes.txt: hi", user=ALICE)
    run_jobs(slack_ctx)
    (card,) = [m for m in slack.messages(CHANNEL) if not m.is_reply]
    said = " ".join(m.visible_text for m in slack.messages(CHANNEL, card.ts))
    assert "Repobox itself cannot work here: Repobox has Reporter access" in said


def test_require_linked_asks_to_connect_with_the_link(
    slack_settings: Settings,
    slack: FakeSlack,
    gitlab: FakeGitLab,
    slack_ctx: JobContext,
    make_repo: MakeRepo,
) -> None:
    origin = make_repo(files={"README.md": "# Widgets\n"})
    gitlab.add_project("acme/widgets", origin.as_uri(), members={gitlab.bot.id: MAINTAINER})
    server = AppServer(slack_settings.with_changes(require_linked=True))
    server.start()
    try:
        workspace = Workspace(slack, server)
        answer = workspace.slash("new acme/widgets write notes.txt: hi", user=ALICE)
        text = json.dumps(answer.json())
        assert "link your account first" in text
        assert re.search(r"http://repobox\.test/account/link/[\w-]+", text)
        assert answer.json()["response_type"] == "ephemeral"
        assert slack_ctx.service.sessions.recent() == []
    finally:
        server.stop()


def test_the_home_tab_shows_recent_sessions_connections_and_a_connect_button(
    workspace: Workspace,
    slack: FakeSlack,
    slack_ctx: JobContext,
    gitlab: FakeGitLab,
    app_server: AppServer,
    make_repo: MakeRepo,
) -> None:
    alice = gitlab.add_user("alice", token=ALICE_PAT)
    origin = make_repo(files={"README.md": "# Widgets\n"})
    gitlab.add_project(
        "acme/widgets", origin.as_uri(), members={gitlab.bot.id: MAINTAINER, alice.id: MAINTAINER}
    )
    link_gitlab_token(app_server, connect_link(workspace), ALICE_PAT)
    workspace.slash("new acme/widgets write notes.txt: for home", user=ALICE)
    run_jobs(slack_ctx)

    opened = {"type": "app_home_opened", "user": ALICE, "channel": "D111", "tab": "home"}
    assert workspace.event(opened).status == 200
    home = slack.home_views[ALICE]
    shown = json.dumps(home)
    assert "acme/widgets" in shown and "live log" in shown
    assert "gitlab alice (glpat-****9876)" in shown and ALICE_PAT not in shown
    [button] = next(b for b in home["blocks"] if b["type"] == "actions")["elements"]
    assert re.match(r"http://repobox\.test/account/link/[\w-]+$", button["url"])


def test_the_home_tab_leads_with_a_broken_link_and_what_to_do(
    workspace: Workspace,
    slack: FakeSlack,
    gitlab: FakeGitLab,
    app_server: AppServer,
    settings: Settings,
    redis: Redis,
) -> None:
    gitlab.add_user("alice", token=ALICE_PAT)
    link_gitlab_token(app_server, connect_link(workspace), ALICE_PAT)
    person = run_async(
        redis,
        lambda r: accounts_on(settings, r).person_for(Identity.slack(TEAM, ALICE), ALICE),
    )
    why = "GitLab no longer accepts the token (revoked or expired)"
    run_async(redis, lambda r: broken.mark(r, person.id, Provider.GITLAB, why))

    opened = {"type": "app_home_opened", "user": ALICE, "channel": "D111", "tab": "home"}
    assert workspace.event(opened).status == 200
    first = slack.home_views[ALICE]["blocks"][0]
    said = json.dumps(first)
    assert "Your GitLab link is broken" in said and why in said
    assert "Repobox acts as the bot for you there" in said and ALICE_PAT not in said
