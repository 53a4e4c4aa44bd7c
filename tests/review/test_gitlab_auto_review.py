"""Automatic reviews on GitLab: a Merge Request Hook (`open`, `update`) reviews the merge
request when the base branch's `.repobox.yml` declares it; a draft waits until it is
ready; a blocker under `request_changes: blocker` says changes are requested (GitLab has
no review state for it)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from tests.conftest import git, run_jobs
from tests.fakes.anthropic import Reply
from tests.review.gitlab_support import SECRET, Lab, lab
from tests.review.support import finding

__all__ = ["lab"]

FIXTURE = Path(__file__).parents[1] / "fixtures/gitlab/merge_request_hook.json"


def declare(lab: Lab, text: str) -> None:
    git("checkout", "--quiet", "main", cwd=lab.seed)
    (lab.seed / ".repobox.yml").write_text(text)
    git("add", ".repobox.yml", cwd=lab.seed)
    git("commit", "--quiet", "-m", "review settings", cwd=lab.seed)
    git("push", "--quiet", str(lab.origin), "main", cwd=lab.seed)


def hook(lab: Lab, iid: int, action: str, **attributes: Any) -> dict[str, Any]:
    """GitLab's Merge Request Hook (its documented example) for merge request `iid`."""
    payload: dict[str, Any] = copy.deepcopy(json.loads(FIXTURE.read_text()))
    head = git("rev-parse", "refs/heads/feature", cwd=lab.origin).strip()
    payload["changes"] = attributes.pop("changes", payload.get("changes", {}))
    payload["project"].update(id=lab.project, path_with_namespace="acme/widgets")
    payload["object_attributes"].update(
        iid=iid, action=action, last_commit={"id": head}, **attributes
    )
    return payload


def deliver(lab: Lab, payload: dict[str, Any]) -> tuple[int, Any]:
    raw = json.dumps(payload).encode()
    headers = lab.fake.hook_headers(SECRET, event="Merge Request Hook")
    answer = lab.app.post("/webhooks/gitlab", raw, headers)
    run_jobs(lab.ctx)
    return answer


def test_a_merge_request_opened_is_reviewed_when_declared(lab: Lab) -> None:
    declare(lab, "review:\n  auto: [opened]\n  request_changes: blocker\n")
    mr = lab.fake.add_merge_request(lab.project, "feature", title="Tweak f5", author="alice")
    lab.model.script(
        finding("app.py", 14, "blocker", "f5 now returns a negative number."),
        Reply.text("Risky."),
    )

    assert deliver(lab, hook(lab, mr.iid, "open"))[0] == 202
    assert lab.reviews.publishes == [(mr.iid, 2)]  # one inline note and the summary
    [summary] = [n for n in lab.bot_notes(mr.iid) if n.position is None]
    assert summary.body.startswith("**Repobox review**: 1 blocker.")
    assert "🛑 **Changes requested**: a blocker must be fixed before this merges." in summary.body

    # the same head announced again (a second hook, a retry): reviewed once
    assert deliver(lab, hook(lab, mr.iid, "open"))[1]["status"] == "duplicate"
    assert lab.reviews.publishes == [(mr.iid, 2)]


def test_drafts_wait_and_undeclared_events_do_nothing(lab: Lab) -> None:
    declare(lab, "review:\n  auto: [ready]\n")
    mr = lab.fake.add_merge_request(lab.project, "feature", title="Draft: f5", author="alice")

    assert deliver(lab, hook(lab, mr.iid, "open", draft=True))[1]["reason"] == (
        "a draft: reviewed once it is ready"
    )
    assert deliver(lab, hook(lab, mr.iid, "open"))[0] == 202  # opened is not declared
    assert lab.reviews.publishes == [] and lab.model.requests() == []

    lab.model.script(Reply.text("Fine."))
    ready = hook(lab, mr.iid, "update", changes={"draft": {"previous": True, "current": False}})
    assert deliver(lab, ready)[0] == 202
    assert lab.reviews.publishes == [(mr.iid, 1)]
