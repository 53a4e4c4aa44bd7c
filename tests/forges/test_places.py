"""One session, several places: the pull request a session shipped is that session's, until
it is closed. Signed deliveries to the real app, real jobs, real git, the fake GitHub."""

from __future__ import annotations

import json
from pathlib import Path

import requests
from redis import Redis

from bot.core.config import Settings
from jobs.steps.context import JobContext
from jobs.worker import runtime
from tests.conftest import MakeRepo, git, run_jobs
from tests.dashboard.test_dashboard import csrf_of, signed_in_as_operator
from tests.fakes.github import FakeGitHub, webhook_request
from tests.fakes.gitlab import DEFAULT_TOKEN, DEVELOPER, MAINTAINER, FakeGitLab, Project
from tests.fakes.gitlab_reviews import GitLabReviews
from tests.forge_harness import WebApp
from tests.live_server import LiveServer

SECRET = "github-hook-secret"
REPO = "octo/widgets"


def test_a_comment_on_the_shipped_pull_request_runs_in_the_same_session(
    settings: Settings, redis: Redis, make_repo: MakeRepo, tmp_path: Path
) -> None:
    origin = make_repo(files={"README.md": "# Hello\n"})
    with FakeGitHub() as fake:
        repo = fake.add_repo(REPO, origin.as_uri(), permissions={"alice": "write"})
        configured = settings.with_changes(
            github_api_url=fake.url, github_token=fake.token, github_webhook_secret=SECRET
        )
        ctx = runtime.install(configured, redis)
        issue = fake.add_issue(REPO, "Notes", "Please add notes.", user="alice")
        with WebApp(configured, redis) as app:

            def comment(number: int, text: str) -> None:
                payload = fake.issue_comment_payload(REPO, number, text, user="alice")
                body, headers = webhook_request(payload, SECRET)
                assert app.post("/webhooks/github", body, headers)[0] == 202
                run_jobs(ctx)

            comment(issue.number, "@repobox write notes.txt: hello")
            comment(issue.number, "@repobox ship it")
            [pull] = fake.pulls(REPO)
            session = ctx.service.sessions.find_by_thread("github", f"{repo.id}:issue:1")
            assert session is not None

            before = ctx.service.sessions.get(session.id).context
            comment(pull.number, "@repobox append notes.txt: world")
            # The issue's conversation stays the session's: the PR's comments do not replace it.
            assert ctx.service.sessions.get(session.id).context == before
            # The issue hears one line about it, with a link to the comment.
            notes = [c.body for c in fake.comments(REPO, issue.number) if "asked on" in c.body]
            assert [n.split(" (")[0] for n in notes] == [
                f"alice asked on #{pull.number}: append notes.txt: world → running"
            ]
            # The same session: its workdir had notes.txt from the first prompt.
            assert ctx.service.sessions.find_by_thread(
                "github", f"{repo.id}:merge_request:{pull.number}"
            ) == ctx.service.sessions.get(session.id)
            assert ctx.service.sessions.places(session.id) == [
                ("github", f"{repo.id}:merge_request:{pull.number}")
            ]
            answers = [c.body for c in fake.comments(REPO, pull.number) if c.user == fake.login]
            assert answers and answers[-1].startswith("@alice done in")  # answered where asked
            comment(pull.number, "@repobox ship it")
            assert [p.number for p in fake.pulls(REPO)] == [pull.number]  # no second one
            assert git("show", f"{session.work_branch}:notes.txt", cwd=origin) == "hello\nworld\n"

            closed = {
                "action": "closed",
                "repository": {"id": repo.id, "full_name": REPO},
                "pull_request": {"number": pull.number, "merged": True},
            }
            body, headers = webhook_request(closed, SECRET, "pull_request")
            assert app.post("/webhooks/github", body, headers) == (
                200,
                {"status": "unbound", "session": session.id},
            )
            bound = ctx.service.sessions.find_by_thread(
                "github", f"{repo.id}:merge_request:{pull.number}"
            )
            assert bound is None and ctx.service.sessions.places(session.id) == []


def test_closing_deliveries_that_bind_nothing_are_ignored_and_bad_ones_refused(
    settings: Settings, redis: Redis
) -> None:
    configured = settings.with_changes(
        github_webhook_secret=SECRET, gitlab_webhook_secret="gitlab-secret"
    )
    with WebApp(configured, redis) as app:
        unbound = {
            "action": "closed",
            "repository": {"id": 7, "full_name": REPO},
            "pull_request": {"number": 3},
        }
        body, headers = webhook_request(unbound, SECRET, "pull_request")
        assert app.post("/webhooks/github", body, headers)[1]["status"] == "ignored"
        body, headers = webhook_request({"action": "closed"}, SECRET, "pull_request")
        assert app.post("/webhooks/github", body, headers)[0] == 400
        gitlab = {"X-Gitlab-Token": "gitlab-secret", "X-Gitlab-Event": "Merge Request Hook"}
        merged = b'{"object_attributes": {"iid": 2, "action": "merge"}, "project": {"id": 5}}'
        assert app.post("/webhooks/gitlab", merged, gitlab)[1]["status"] == "ignored"
        assert app.post("/webhooks/gitlab", b'{"project": {}}', gitlab)[0] == 400


def gitlab_project(
    fake: FakeGitLab, settings: Settings, redis: Redis, origin: Path
) -> tuple[Project, Settings, JobContext]:
    """`acme/widgets` on the fake GitLab (alice a developer, reviews served), the settings
    that reach it, and a worker's context on them."""
    GitLabReviews(fake)
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
    return project, configured, runtime.install(configured, redis)


def test_a_diff_note_on_the_shipped_merge_request_is_answered_there_and_resolved(
    settings: Settings, redis: Redis, make_repo: MakeRepo
) -> None:
    origin = make_repo(files={"README.md": "# Hello\n"})
    with FakeGitLab() as fake:
        project, configured, ctx = gitlab_project(fake, settings, redis, origin)
        issue = fake.add_issue(project, "Notes", "Please add notes.", author="alice")
        with WebApp(configured, redis) as app:

            def deliver(payload: dict[str, object]) -> None:
                raw = json.dumps(payload).encode()
                headers = fake.hook_headers("gitlab-secret")
                assert app.post("/webhooks/gitlab", raw, headers)[0] == 202
                run_jobs(ctx)

            def mention(iid: int, text: str) -> None:
                kind = "issue" if iid == issue.iid else "merge_request"
                deliver(fake.note_hook_payload(project.id, kind, iid, text, "alice"))

            mention(issue.iid, "@repobox write notes.txt: hello")
            mention(issue.iid, "@repobox ship it")
            [mr] = fake.merge_requests(project)
            other = fake.add_note(
                project, "merge_request", mr.iid, "nit", "alice",
                position={"new_path": "notes.txt", "new_line": 1},
            )  # fmt: skip
            said = "@repobox append notes.txt: world"
            deliver(
                fake.diff_note_hook_payload(
                    project.id, mr.iid, said, "alice", new_path="notes.txt", new_line=1
                )
            )
            notes = fake.notes(project, "merge_request", mr.iid)
            [asked] = [n for n in notes if n.body == said]
            thread = [n for n in notes if n.discussion_id == asked.discussion_id]
            assert thread[-1].author_id == fake.bot.id and thread[-1].body.startswith("@alice")
            assert thread[0].resolved  # the thread it acted on, resolved
            assert not any(n.resolved for n in notes if n.discussion_id == other.discussion_id)
            session = ctx.service.sessions.find_by_thread(
                "gitlab", f"{project.id}:issue:{issue.iid}"
            )
            assert session is not None
            assert git("show", f"{session.work_branch}:notes.txt", cwd=origin) == "hello\nworld\n"
            heard = [
                n.body for n in fake.notes(project, "issue", issue.iid) if "asked on" in n.body
            ]
            assert [h.split(" (")[0] for h in heard] == [
                f"alice asked on !{mr.iid}: append notes.txt: world → running"
            ]


def test_a_dashboard_started_session_takes_a_note_on_its_merge_request(
    settings: Settings, redis: Redis, make_repo: MakeRepo
) -> None:
    """The GitLab side from the browser: a session started and shipped on the dashboard; a
    note on a line of its merge request runs in that session, is answered in that thread,
    which is resolved, and the session's page hears one line about it."""
    origin = make_repo(files={"README.md": "# Hello\n"})
    with FakeGitLab() as fake:
        project, configured, ctx = gitlab_project(fake, settings, redis, origin)
        server = LiveServer(configured, redis).start()
        try:
            browser = signed_in_as_operator(server, configured, redis)
            home = browser.get(f"{server.url}/dashboard/")
            typed = {"repo": "gitlab:acme/widgets", "prompt": "write notes.txt: hello"}
            started = browser.post(
                f"{server.url}/dashboard/start", data={"csrf": csrf_of(home), **typed}
            )
            assert "/dashboard/sessions/" in started.url, started.text
            run_jobs(ctx)
            page = browser.get(started.url)
            browser.post(f"{started.url}/ship", data={"csrf": csrf_of(page)})
            run_jobs(ctx)
            [mr] = fake.merge_requests(project)

            said = "@repobox append notes.txt: world"
            raw = json.dumps(
                fake.diff_note_hook_payload(
                    project.id, mr.iid, said, "alice", new_path="notes.txt", new_line=1
                )
            ).encode()
            headers = fake.hook_headers("gitlab-secret")
            answer = requests.post(
                f"{server.url}/webhooks/gitlab", data=raw, headers=headers, timeout=30
            )
            assert answer.status_code == 202, answer.text
            run_jobs(ctx)

            session_id = started.url.rstrip("/").rsplit("/", 1)[1]
            session = ctx.service.sessions.get(session_id)
            # the same session: its branch has the browser's line and the note's
            assert git("show", f"{session.work_branch}:notes.txt", cwd=origin) == "hello\nworld\n"
            notes = fake.notes(project, "merge_request", mr.iid)
            [asked] = [n for n in notes if n.body == said]
            thread = [n for n in notes if n.discussion_id == asked.discussion_id]
            assert thread[-1].author_id == fake.bot.id  # answered in the thread it was asked in
            assert thread[0].resolved
            # the session's home, its page, hears one line (its log, as the page's stream)
            line = f"alice asked on !{mr.iid}: append notes.txt: world → running"
            assert line in logged_texts(browser, f"{started.url}/events", until="asked on")
        finally:
            server.stop()


def logged_texts(browser: requests.Session, url: str, until: str) -> list[str]:
    """The texts of a session page's event stream (server-sent events), read until one
    holds `until`."""
    texts: list[str] = []
    with browser.get(url, stream=True, timeout=30) as answer:
        for line in answer.iter_lines(decode_unicode=True):
            if line.startswith("data: "):
                texts.append(str(json.loads(line[6:]).get("text", "")))
                if until in texts[-1]:
                    break
    return texts
