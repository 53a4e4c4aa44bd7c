"""The fake GitLab answers the real python-gitlab the way GitLab does.

If these pass, a provider or surface test that fails against the fake is failing on
Repobox's own code, not on a fake that speaks a different API.
"""

from __future__ import annotations

import json
import subprocess
import warnings
from collections.abc import Iterator
from pathlib import Path

import gitlab
import pytest
from gitlab.exceptions import (
    GitlabAuthenticationError,
    GitlabCreateError,
    GitlabGetError,
    GitlabUpdateError,
)

from tests.fakes.gitlab import DEFAULT_TOKEN, DEVELOPER, FIXTURES, MAINTAINER, FakeGitLab, Project

FEATURE = "repobox/fix-typo"


def git(*args: str, cwd: Path | None = None) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=Test", "-c", "user.email=test@example.com", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


@pytest.fixture(scope="module")
def bare_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A bare repository with `main` and one feature branch a commit ahead."""
    root = tmp_path_factory.mktemp("gitlab-repo")
    work = root / "work"
    git("init", "-q", "-b", "main", str(work))
    (work / "README.md").write_text("hello\n")
    git("add", "README.md", cwd=work)
    git("commit", "-q", "-m", "init", cwd=work)
    git("checkout", "-q", "-b", FEATURE, cwd=work)
    (work / "README.md").write_text("hello, world\n")
    git("commit", "-q", "-am", "Fix typo", cwd=work)
    git("clone", "-q", "--bare", str(work), str(root / "remote.git"))
    return root / "remote.git"


@pytest.fixture
def fake() -> Iterator[FakeGitLab]:
    with FakeGitLab() as server:
        assert isinstance(server, FakeGitLab)
        yield server


@pytest.fixture
def project(fake: FakeGitLab, bare_repo: Path) -> Project:
    alice = fake.add_user("alice", "Alice Liddell")
    return fake.add_project(
        "acme/widgets", bare_repo.as_uri(), members={alice.id: DEVELOPER, fake.bot.id: MAINTAINER}
    )


@pytest.fixture
def gl(fake: FakeGitLab) -> gitlab.Gitlab:
    return gitlab.Gitlab(url=fake.url, private_token=DEFAULT_TOKEN)


def test_current_user_and_project_by_path(
    fake: FakeGitLab, gl: gitlab.Gitlab, project: Project, bare_repo: Path
) -> None:
    gl.auth()
    assert gl.user is not None
    assert (gl.user.username, gl.user.bot) == ("repobox", True)

    remote = gl.projects.get("acme/widgets")
    assert remote.id == project.id
    assert remote.http_url_to_repo == bare_repo.as_uri()
    assert remote.default_branch == "main"
    assert remote.web_url == f"{fake.url}/acme/widgets"
    # The encoded path is recorded under the numeric id, so fail_next/calls_to see one form.
    assert fake.calls[-1].path == f"/api/v4/projects/{project.id}"
    assert fake.calls[-1].headers["PRIVATE-TOKEN"] == DEFAULT_TOKEN

    with pytest.raises(GitlabGetError) as missing:
        gl.projects.get("acme/nope")
    assert missing.value.response_code == 404


def test_member_access_level(fake: FakeGitLab, gl: gitlab.Gitlab, project: Project) -> None:
    alice = fake.user("alice")
    remote = gl.projects.get(project.id, lazy=True)
    assert remote.members_all.get(alice.id).access_level == DEVELOPER
    stranger = fake.add_user("mallory")
    with pytest.raises(GitlabGetError) as denied:
        remote.members_all.get(stranger.id)
    assert denied.value.response_code == 404


def test_issue_note_create_edit_and_award(
    fake: FakeGitLab, gl: gitlab.Gitlab, project: Project
) -> None:
    issue = fake.add_issue(project, "Typo in README", "It says helo.", author="alice")
    human = fake.add_note(project, "issue", issue.iid, "@repobox fix it", "alice")
    remote_issue = gl.projects.get("acme/widgets", lazy=True).issues.get(issue.iid)
    assert (remote_issue.title, remote_issue.state) == ("Typo in README", "opened")

    note = remote_issue.notes.create({"body": "Working on it…"})
    note.body = "Done: 1 file changed."
    note.save()
    assert [n.body for n in fake.notes(project, "issue", issue.iid)] == [
        "@repobox fix it",
        "Done: 1 file changed.",
    ]
    assert fake.note(note.id).history == ["Working on it…"]
    assert [n.id for n in remote_issue.notes.list()] == [note.id, human.id]  # newest first

    theirs = remote_issue.notes.get(human.id, lazy=True)
    theirs.body = "hijacked"
    with pytest.raises(GitlabUpdateError) as forbidden:
        theirs.save()
    assert forbidden.value.response_code == 403

    theirs.awardemojis.create({"name": "eyes"})
    assert fake.award_emojis(project, "issue", issue.iid, human.id) == [("eyes", "repobox")]
    with pytest.raises(GitlabCreateError) as again:
        theirs.awardemojis.create({"name": "eyes"})
    assert again.value.response_code == 404


def test_merge_request_create_list_and_conflict(
    fake: FakeGitLab, gl: gitlab.Gitlab, project: Project, bare_repo: Path
) -> None:
    remote = gl.projects.get("acme/widgets")
    wanted = {"source_branch": FEATURE, "target_branch": "main", "title": "Fix typo"}
    mr = remote.mergerequests.create({**wanted, "description": "Made by Repobox."})
    assert mr.iid == 1
    assert mr.web_url == f"{fake.url}/acme/widgets/-/merge_requests/1"
    assert mr.sha == git("rev-parse", FEATURE, cwd=bare_repo)
    assert mr.diff_refs["start_sha"] == git("rev-parse", "main", cwd=bare_repo)

    found = remote.mergerequests.list(source_branch=FEATURE, state="opened")
    assert [m.iid for m in found] == [1]
    assert remote.mergerequests.list(source_branch="other", state="opened") == []

    with pytest.raises(GitlabCreateError) as duplicate:
        remote.mergerequests.create(wanted)
    assert duplicate.value.response_code == 409
    assert "Another open merge request already exists" in str(duplicate.value)

    with pytest.raises(GitlabCreateError) as unpushed:
        remote.mergerequests.create({**wanted, "source_branch": "repobox/not-pushed"})
    assert unpushed.value.response_code == 422

    mr.description = "Updated after a later prompt."
    mr.save()
    mr.state_event = "close"
    mr.save()
    assert [(m.description, m.state) for m in fake.merge_requests(project)] == [
        ("Updated after a later prompt.", "closed")
    ]
    assert remote.mergerequests.create(wanted).iid == 2  # closed ones do not block


def test_diff_discussion_reply(fake: FakeGitLab, gl: gitlab.Gitlab, project: Project) -> None:
    mr = fake.add_merge_request(project, FEATURE, title="Fix typo", author="alice")
    fake.add_note(project, "merge_request", mr.iid, "Just a comment", "alice")
    diff = fake.add_note(
        project,
        "merge_request",
        mr.iid,
        "@repobox say hi here",
        "alice",
        position={"new_path": "README.md", "new_line": 1},
    )
    remote_mr = gl.projects.get(project.id, lazy=True).mergerequests.get(mr.iid, lazy=True)
    discussions = remote_mr.discussions.list()
    assert [d.individual_note for d in discussions] == [True, False]
    thread = discussions[1]
    assert thread.id == diff.discussion_id
    first = thread.attributes["notes"][0]
    assert (first["type"], first["position"]["new_path"], first["position"]["new_line"]) == (
        "DiffNote",
        "README.md",
        1,
    )

    reply = remote_mr.discussions.get(diff.discussion_id, lazy=True).notes.create(
        {"body": "On it."}
    )
    notes = fake.notes(project, "merge_request", mr.iid)
    assert notes[-1].id == reply.id
    assert (notes[-1].discussion_id, notes[-1].type) == (diff.discussion_id, "DiffNote")

    mr_note = remote_mr.notes.get(diff.id, lazy=True)
    mr_note.awardemojis.create({"name": "rocket"})
    assert fake.award_emojis(project, "merge_request", mr.iid, diff.id) == [("rocket", "repobox")]


def test_401_without_or_with_a_wrong_token(fake: FakeGitLab, project: Project) -> None:
    for client in (
        gitlab.Gitlab(url=fake.url),
        gitlab.Gitlab(url=fake.url, private_token="glpat-wrong"),
    ):
        with pytest.raises(GitlabAuthenticationError) as denied:
            client.projects.get(project.id)
        assert denied.value.response_code == 401
        assert denied.value.error_message == "401 Unauthorized"


def test_502_scripted_once(fake: FakeGitLab, gl: gitlab.Gitlab, project: Project) -> None:
    issue = fake.add_issue(project, "Flaky")
    path = f"/api/v4/projects/{project.id}/issues/{issue.iid}/notes"
    notes = gl.projects.get("acme/widgets", lazy=True).issues.get(issue.iid, lazy=True).notes

    fake.fail_next(path, 502)
    with pytest.raises(GitlabCreateError) as failed:  # python-gitlab wraps the HTTP error
        notes.create({"body": "first try"})
    assert failed.value.response_code == 502
    assert notes.create({"body": "second try"}).body == "second try"

    # With retry_transient_errors=True python-gitlab retries 5xx itself (0.1 s back-off).
    retrying = gitlab.Gitlab(url=fake.url, private_token=DEFAULT_TOKEN, retry_transient_errors=True)
    fake.fail_next(path, 502)
    retrying.projects.get(project.id, lazy=True).issues.get(issue.iid, lazy=True).notes.create(
        {"body": "retried"}
    )
    assert [c.status for c in fake.calls_to(path)] == [502, 201, 502, 201]
    assert [n.body for n in fake.notes(project, "issue", issue.iid)] == ["second try", "retried"]


def test_429_is_retried_by_default(fake: FakeGitLab, gl: gitlab.Gitlab, project: Project) -> None:
    fake.fail_next(f"/api/v4/projects/{project.id}", 429, headers={"Retry-After": "0"})
    assert gl.projects.get(project.id).path_with_namespace == "acme/widgets"
    assert [c.status for c in fake.calls_to(f"/projects/{project.id}")] == [429, 200]


def test_pagination(fake: FakeGitLab, gl: gitlab.Gitlab, project: Project) -> None:
    issue = fake.add_issue(project, "Busy thread")
    for n in range(25):
        fake.add_note(project, "issue", issue.iid, f"comment {n}", "alice")
    notes = gl.projects.get(project.id, lazy=True).issues.get(issue.iid, lazy=True).notes
    assert len(notes.list(get_all=True)) == 25
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert len(notes.list()) == 20  # first page only; python-gitlab warns about the rest
    assert any("20 of 25" in str(w.message) for w in caught)


def test_note_hook_payloads_look_like_gitlab(fake: FakeGitLab, project: Project) -> None:
    issue = fake.add_issue(project, "Typo", "helo", author="alice")
    payload = fake.note_hook_payload(project, "issue", issue.iid, "@repobox fix it", "alice")
    fixture = json.loads((FIXTURES / "note_hook.issue.json").read_text())
    assert set(fixture) <= set(payload)
    assert set(fixture["object_attributes"]) <= set(payload["object_attributes"])
    attrs = payload["object_attributes"]
    note = fake.notes(project, "issue", issue.iid)[-1]
    assert (attrs["id"], attrs["note"], attrs["action"], attrs["noteable_type"]) == (
        note.id,
        "@repobox fix it",
        "create",
        "Issue",
    )
    assert attrs["url"] == f"{fake.web_url(project, 'issue', issue.iid)}#note_{note.id}"
    assert payload["user"]["username"] == "alice"
    assert payload["issue"]["iid"] == issue.iid
    assert payload["project"]["path_with_namespace"] == "acme/widgets"
    assert payload["project"]["git_http_url"] == fake.clone_url(project)

    fake.edit_note(note.id, "@repobox fix it please")
    edited = fake.note_hook_payload(project, "issue", issue.iid, note_id=note.id, action="update")
    assert (edited["object_attributes"]["action"], edited["object_attributes"]["note"]) == (
        "update",
        "@repobox fix it please",
    )

    mr = fake.add_merge_request(project, FEATURE, title="Fix typo", author="alice")
    mr_payload = fake.note_hook_payload(project, "merge_request", mr.iid, "@repobox go", "alice")
    assert mr_payload["object_attributes"]["noteable_type"] == "MergeRequest"
    assert mr_payload["object_attributes"]["type"] is None
    assert mr_payload["merge_request"]["source_branch"] == FEATURE
    assert mr_payload["merge_request"]["last_commit"]["message"].startswith("Fix typo")

    diff = fake.diff_note_hook_payload(
        project, mr.iid, "@repobox rename", "alice", new_path="README.md", new_line=1
    )
    attrs = diff["object_attributes"]
    assert attrs["type"] == "DiffNote"
    assert (attrs["position"]["new_path"], attrs["position"]["new_line"]) == ("README.md", 1)
    assert attrs["discussion_id"] == fake.note(attrs["id"]).discussion_id
    assert fake.hook_headers("s3cret")["X-Gitlab-Event"] == "Note Hook"


def test_encoded_segments_branch_and_subgroup(
    fake: FakeGitLab, gl: gitlab.Gitlab, bare_repo: Path
) -> None:
    """`%2F` inside one segment stays one segment: subgroup paths, branch names with `/`."""
    deep = fake.add_project("acme/tools/widgets", bare_repo.as_uri())
    remote = gl.projects.get("acme/tools/widgets", lazy=True)
    branch = remote.branches.get(FEATURE)
    assert (branch.name, branch.commit["id"]) == (FEATURE, git("rev-parse", FEATURE, cwd=bare_repo))
    assert fake.calls[-1].path.startswith(f"/api/v4/projects/{deep.id}/repository/branches/")
    with pytest.raises(GitlabGetError):
        remote.branches.get("repobox/not-pushed")
    assert gl.version()[0].startswith("17.")
    assert fake.unhandled == []
