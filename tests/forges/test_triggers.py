"""Work that starts itself: an issue labelled `repobox` or assigned to the bot starts a
session whose work opens as a draft MR/PR closing the issue; taking the label back before
it ships cancels it. Signed deliveries to the real app, real jobs, real git, the fakes."""

from __future__ import annotations

import json

from redis import Redis

from bot.checks.config import ConfigInvalid, Triggers
from bot.checks.reading import parse_config
from bot.core.config import Settings
from bot.sessions.session import SessionState
from jobs.worker import runtime
from tests.conftest import MakeRepo, git, run_jobs
from tests.fakes.github import FakeGitHub, webhook_request
from tests.fakes.gitlab import DEFAULT_TOKEN, DEVELOPER, MAINTAINER, FakeGitLab
from tests.fakes.issue_hooks import github_issues, gitlab_issue_hook
from tests.forge_harness import WebApp

SECRET = "github-hook-secret"
REPO = "octo/widgets"
CONFIG = 'checks:\n  - name: ok\n    run: "true"\ntriggers:\n  assigned: true\n'


def _github(settings: Settings, fake: FakeGitHub, **changes: object) -> Settings:
    return settings.with_changes(
        github_api_url=fake.url, github_token=fake.token, github_webhook_secret=SECRET, **changes
    )


def test_a_labelled_issue_ships_a_draft_pull_request_that_closes_it_once(
    settings: Settings, redis: Redis, make_repo: MakeRepo
) -> None:
    origin = make_repo(files={"README.md": "# Hello\n", ".repobox.yml": CONFIG})
    with FakeGitHub() as fake:
        repo = fake.add_repo(REPO, origin.as_uri(), permissions={"alice": "write"})
        configured = _github(settings, fake)
        ctx = runtime.install(configured, redis)
        issue = fake.add_issue(REPO, "write notes.txt: hello", "", user="bob")
        with WebApp(configured, redis) as app:
            labelled = github_issues(
                fake, REPO, issue.number, "labeled", sender="alice", label="repobox"
            )
            body, headers = webhook_request(labelled, SECRET, "issues", delivery="d-1")
            assert app.post("/webhooks/github", body, headers)[0] == 202
            again = app.post("/webhooks/github", body, headers)  # GitHub's redelivery
            assert again == (200, {"status": "duplicate", "of": "delivery"})
            run_jobs(ctx)

            [pull] = fake.pulls(REPO)
            assert pull.draft and "Closes #1" in (pull.body or "")
            session = ctx.service.sessions.find_by_thread("github", f"{repo.id}:issue:1")
            assert session is not None and session.trigger == "label"
            assert session.created_by.id == "alice"  # who labelled it asked
            assert git("show", f"{session.work_branch}:notes.txt", cwd=origin) == "hello\n"
            card = [c.body for c in fake.comments(REPO, issue.number) if c.user == fake.login]
            assert any(f"/pull/{pull.number}" in c for c in card)  # the card links it

            # Assigned to the bot as well, in a delivery of its own: still one session.
            assigned = github_issues(
                fake, REPO, issue.number, "assigned", sender="alice", assignee=fake.login
            )
            body, headers = webhook_request(assigned, SECRET, "issues", delivery="d-2")
            assert app.post("/webhooks/github", body, headers)[0] == 202
            run_jobs(ctx)
            assert len(fake.pulls(REPO)) == 1
            assert ctx.service.sessions.find_by_thread("github", f"{repo.id}:issue:1") == (
                ctx.service.sessions.get(session.id)
            )


def test_taking_the_label_back_before_it_ships_cancels_the_session(
    settings: Settings, redis: Redis, make_repo: MakeRepo
) -> None:
    origin = make_repo(files={"README.md": "# Hello\n"})
    with FakeGitHub() as fake:
        repo = fake.add_repo(REPO, origin.as_uri(), permissions={"alice": "write"})
        configured = _github(settings, fake)
        ctx = runtime.install(configured, redis)
        issue = fake.add_issue(REPO, "write notes.txt: hello", "Please.", user="bob")
        with WebApp(configured, redis) as app:
            for number, action in enumerate(("labeled", "unlabeled")):
                payload = github_issues(
                    fake, REPO, issue.number, action, sender="alice", label="repobox"
                )
                body, headers = webhook_request(payload, SECRET, "issues", delivery=f"u-{number}")
                assert app.post("/webhooks/github", body, headers)[0] == 202
            run_jobs(ctx)
            assert fake.pulls(REPO) == []
            said = [c.body for c in fake.comments(REPO, issue.number) if c.user == fake.login]
            assert any(
                "@alice removed the `repobox` label before the work shipped" in s for s in said
            )
            session = ctx.service.sessions.find_by_thread("github", f"{repo.id}:issue:1")
            assert session is None
            [archived] = ctx.service.sessions.recent(include_archived=True)
            assert archived.state is SessionState.ARCHIVED


def test_other_labels_someone_without_rights_and_triggers_off_start_nothing(
    settings: Settings, redis: Redis, make_repo: MakeRepo
) -> None:
    origin = make_repo(files={"README.md": "# Hello\n"})
    with FakeGitHub() as fake:
        fake.add_repo(REPO, origin.as_uri(), permissions={"alice": "write", "eve": "read"})
        issue = fake.add_issue(REPO, "write notes.txt: hello", "", user="bob")
        for triggers, sender, label in (
            (True, "alice", "bug"),
            (True, "eve", "repobox"),
            (False, "alice", "repobox"),
        ):
            configured = _github(settings, fake, triggers=triggers)
            ctx = runtime.install(configured, redis)
            with WebApp(configured, redis) as app:
                payload = github_issues(
                    fake, REPO, issue.number, "labeled", sender=sender, label=label
                )
                body, headers = webhook_request(payload, SECRET, "issues")
                status, _ = app.post("/webhooks/github", body, headers)
                assert status in (200, 202)
                run_jobs(ctx)
        assert ctx.service.sessions.recent(include_archived=True) == []
        assert fake.pulls(REPO) == []
        with WebApp(_github(settings, fake), redis) as app:
            body, headers = webhook_request({"action": "labeled"}, SECRET, "issues")
            assert app.post("/webhooks/github", body, headers)[0] == 400


def test_an_issue_assigned_to_the_bot_on_gitlab_opens_a_draft_merge_request(
    settings: Settings, redis: Redis, make_repo: MakeRepo
) -> None:
    origin = make_repo(files={"README.md": "# Hello\n"})
    with FakeGitLab() as fake:
        alice = fake.add_user("alice", "Alice Liddell")
        project = fake.add_project(
            "acme/widgets", origin.as_uri(), members={alice.id: DEVELOPER, fake.bot.id: MAINTAINER}
        )
        configured = settings.with_changes(
            gitlab_url=fake.url,
            gitlab_token=DEFAULT_TOKEN,
            gitlab_webhook_secret="gitlab-secret",
            forge_retries=2,
            forge_backoff=0.01,
        )
        ctx = runtime.install(configured, redis)
        issue = fake.add_issue(project, "write notes.txt: hello", "", author="alice")
        with WebApp(configured, redis) as app:
            hook = gitlab_issue_hook(
                fake, project.id, issue.iid, user="alice", assignees=([], [fake.bot.username])
            )
            headers = fake.hook_headers("gitlab-secret", event="Issue Hook", idempotency_key="k1")
            raw = json.dumps(hook).encode()
            assert app.post("/webhooks/gitlab", raw, headers)[0] == 202
            assert app.post("/webhooks/gitlab", raw, headers)[1]["status"] == "duplicate"
            run_jobs(ctx)
            [mr] = fake.merge_requests(project)
            assert mr.title.startswith("Draft: ") and "Closes #1" in mr.description
            session = ctx.service.sessions.find_by_thread(
                "gitlab", f"{project.id}:issue:{issue.iid}"
            )
            assert session is not None and session.trigger == "assigned"
            assert git("show", f"{session.work_branch}:notes.txt", cwd=origin) == "hello\n"


def test_a_repository_names_its_own_label_and_may_turn_assignments_off() -> None:
    config = parse_config("triggers:\n  assigned: false\n  label: ai-please\n")
    assert config.triggers == Triggers(assigned=False, label="ai-please")
    assert parse_config("autofix: 1\n").triggers == Triggers(assigned=True, label=None)
    try:
        parse_config('triggers:\n  assigned: "no"\n')
    except ConfigInvalid as invalid:
        assert invalid.problems == ["line 2, `triggers.assigned`: expected true or false, got `no`"]
    else:
        raise AssertionError("a text is not true or false")
