"""Issue deliveries as the platforms send them when labels or assignees change: GitHub's
`issues` event (labeled, unlabeled, assigned, unassigned) and GitLab's Issue Hook with its
`changes`. Built from the fakes' own state, so ids and names match what their APIs serve."""

from __future__ import annotations

from typing import Any

from tests.fakes.github import FakeGitHub
from tests.fakes.gitlab import FakeGitLab


def github_issues(
    fake: FakeGitHub,
    full_name: str,
    number: int,
    action: str,
    *,
    sender: str,
    label: str | None = None,
    assignee: str | None = None,
) -> dict[str, Any]:
    """An `issues` delivery; `label` for (un)labeled, `assignee` for (un)assigned."""
    with fake._state:
        repo = fake._repo(full_name)
        issue = fake._issue(repo, number)
        payload: dict[str, Any] = {
            "action": action,
            "issue": fake._issue_json(repo, issue),
            "repository": fake._repo_json(repo),
            "sender": fake._user_json(sender),
        }
        if label is not None:
            payload["label"] = {
                "id": 1000 + len(label),
                "node_id": "LA_kwDOAAAB",
                "url": f"{fake.url}/repos/{full_name}/labels/{label}",
                "name": label,
                "color": "0e8a16",
                "default": False,
                "description": None,
            }
        if assignee is not None:
            payload["assignee"] = fake._user_json(assignee)
        return payload


def gitlab_issue_hook(
    fake: FakeGitLab,
    project_id: int,
    iid: int,
    *,
    user: str,
    labels: tuple[list[str], list[str]] | None = None,
    assignees: tuple[list[str], list[str]] | None = None,
) -> dict[str, Any]:
    """An Issue Hook for an update; `labels`/`assignees` are (previous, current)."""
    with fake._state:
        project = fake.projects[project_id]
        by = next(u for u in fake.users.values() if u.username == user)
        changes: dict[str, Any] = {}
        if labels is not None:
            previous, current = labels
            changes["labels"] = {
                "previous": [{"id": 10 + i, "title": t} for i, t in enumerate(previous)],
                "current": [{"id": 10 + i, "title": t} for i, t in enumerate(current)],
            }
        if assignees is not None:
            people = {u.username: u for u in fake.users.values()}
            changes["assignees"] = {
                side: [{"id": people[n].id, "name": people[n].name, "username": n} for n in names]
                for side, names in zip(("previous", "current"), assignees, strict=True)
            }
        return {
            "object_kind": "issue",
            "event_type": "issue",
            "user": {"id": by.id, "name": by.name, "username": by.username, "email": by.email},
            "project": {"id": project.id, **fake._hook_project(project)},
            "object_attributes": {"iid": iid, "project_id": project.id, "action": "update"},
            "changes": changes,
        }
