"""A person's dashboard lists the sessions they started anywhere: a Slack slash command and a
GitLab comment, driven through the real routes (signed Slack requests, GitLab's Note Hook),
appear on the page of the person those accounts are linked to, even when the link came
after the session, and on nobody else's "mine"."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
import requests
from redis import Redis

from bot.core.config import Settings
from bot.core.redisio import run_async
from bot.identity.people import Identity, Provider
from bot.identity.signin_links import issue
from jobs.steps.context import JobContext
from jobs.worker import runtime
from tests.accounts_support import SyncAccounts
from tests.conftest import MakeRepo, run_jobs
from tests.fakes.gitlab import DEFAULT_TOKEN, DEVELOPER, MAINTAINER, FakeGitLab
from tests.fakes.slack import FakeSlack
from tests.forge_harness import WebApp
from tests.live_server import LiveServer
from tests.slack.conftest import app_server, slack, slack_ctx, slack_settings, workspace  # noqa: F401
from tests.slack.support import ALICE, BOB, TEAM, Workspace

HOOK_SECRET = "gitlab-hook-secret"


def browser_for(
    server: LiveServer, settings: Settings, redis: Redis, identity: Identity
) -> requests.Session:
    """A browser signed in (one-time link) as the person holding `identity`, linked now."""
    person = SyncAccounts(settings, redis).person_for(identity, identity.value)
    link = run_async(redis, lambda aredis: issue(settings, aredis, person.id))
    browser = requests.Session()
    landed = browser.get(server.url + urlsplit(link).path, timeout=30)
    assert landed.status_code == 200
    return browser


def session_links(page: str) -> list[str]:
    return re.findall(r'href="/dashboard/sessions/([\w-]+)"', page)


def test_a_slack_started_session_is_on_the_linked_persons_dashboard_only(
    workspace: Workspace,  # noqa: F811
    slack: FakeSlack,  # noqa: F811
    app_server: LiveServer,  # noqa: F811
    slack_settings: Settings,  # noqa: F811
    redis: Redis,
    make_repo: MakeRepo,
) -> None:
    origin = make_repo(name="gizmos")
    answer = workspace.slash(f"new {origin} write notes.txt: hello")
    assert answer.status == 200

    # Alice links her Slack account after she started the session: it is hers all the same.
    alice = browser_for(app_server, slack_settings, redis, Identity.slack(TEAM, ALICE))
    mine = alice.get(f"{app_server.url}/dashboard/", timeout=30)
    assert mine.status_code == 200
    assert "gizmos" in mine.text and "write notes.txt: hello" in mine.text
    assert "Slack thread</span>" in mine.text  # the place it came from
    (session_id,) = session_links(mine.text)
    page = alice.get(f"{app_server.url}/dashboard/sessions/{session_id}", timeout=30)
    assert page.status_code == 200 and "notes.txt" in page.text

    # Bob, in the same workspace, and a web-only newcomer see nothing of it.
    for other in (Identity.slack(TEAM, BOB), Identity.slack("T999", ALICE)):
        theirs = browser_for(app_server, slack_settings, redis, other)
        listed = theirs.get(f"{app_server.url}/dashboard/", timeout=30)
        assert "gizmos" not in listed.text and "write notes.txt" not in listed.text
        assert "No sessions yet" in listed.text
        opened = theirs.get(f"{app_server.url}/dashboard/sessions/{session_id}", timeout=30)
        assert opened.status_code == 404
        everyone = theirs.get(f"{app_server.url}/dashboard/?scope=everyone", timeout=30)
        assert everyone.status_code == 403 and "Only admins" in everyone.text
        assert "gizmos" not in everyone.text


@dataclass
class Lab:
    fake: FakeGitLab
    app: WebApp
    settings: Settings
    ctx: JobContext
    project: int


@pytest.fixture
def lab(settings: Settings, redis: Redis, make_repo: MakeRepo) -> Iterator[Lab]:
    origin = make_repo(files={"README.md": "# Widgets\n"})
    with FakeGitLab() as fake:
        alice = fake.add_user("alice", "Alice Liddell")
        project = fake.add_project(
            "acme/widgets", origin.as_uri(), members={alice.id: DEVELOPER, fake.bot.id: MAINTAINER}
        )
        configured = settings.with_changes(
            gitlab_url=fake.url,
            gitlab_token=DEFAULT_TOKEN,
            gitlab_webhook_secret=HOOK_SECRET,
            default_provider="gitlab",
            forge_retries=2,
            forge_backoff=0.01,
        )
        ctx = runtime.install(configured, redis)
        with WebApp(configured, redis) as app:
            yield Lab(fake, app, configured, ctx, project.id)


def test_a_gitlab_comment_session_is_on_the_dashboard_of_whoever_links_that_login(
    lab: Lab, redis: Redis
) -> None:
    fake, app, configured, project = lab.fake, lab.app, lab.settings, lab.project
    found = fake.add_issue(project, "Add a notes file", "We need notes.", author="alice")
    payload = fake.note_hook_payload(
        project, "issue", found.iid, "@repobox write notes.txt: from the issue", "alice"
    )
    raw = json.dumps(payload).encode()
    status, _ = app.post("/webhooks/gitlab", raw, fake.hook_headers(HOOK_SECRET))
    assert status == 202
    run_jobs(lab.ctx)

    alice = browser_for(app, configured, redis, Identity.forge(Provider.GITLAB, "Alice"))
    mine = alice.get(f"{app.url}/dashboard/", timeout=30)
    assert "acme/widgets" in mine.text and "Add a notes file" in mine.text  # the issue title
    assert f"GitLab issue #{found.iid}</" in mine.text  # its place, as people name it
    assert len(session_links(mine.text)) == 1

    # The same login on the other host is someone else.
    other = browser_for(app, configured, redis, Identity.forge(Provider.GITHUB, "alice"))
    assert "acme/widgets" not in other.get(f"{app.url}/dashboard/", timeout=30).text
