"""Images in a GitLab issue reach the model: the project's own uploads (relative, or on
GITLAB_URL under the project) are fetched through GitLab's API with the token and sent as
image blocks; an image on another host, or another project's upload, is named and never
fetched."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from redis import Redis

from bot.core.config import Settings
from jobs.worker import runtime
from tests.agent_support import agent_settings, fake
from tests.attachment_support import PNG, elsewhere
from tests.conftest import MakeRepo, run_jobs
from tests.fakes.anthropic import FakeAnthropic, Reply
from tests.fakes.gitlab import DEFAULT_TOKEN, DEVELOPER, MAINTAINER, FakeGitLab
from tests.forge_harness import WebApp

__all__ = ["elsewhere", "fake"]  # fixtures

SECRET = "gitlab-hook-secret"
GIF = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==")


def test_gitlab_uploads_reach_the_model_and_outside_images_are_not_fetched(
    settings: Settings,
    redis: Redis,
    make_repo: MakeRepo,
    fake: FakeAnthropic,
    elsewhere: list[str],
    tmp_path: Path,
) -> None:
    origin = make_repo(files={"README.md": "# Widgets\n"})
    with FakeGitLab() as lab:
        alice = lab.add_user("alice", "Alice Liddell")
        project = lab.add_project(
            "acme/widgets", origin.as_uri(), members={alice.id: DEVELOPER, lab.bot.id: MAINTAINER}
        )
        other = lab.add_project("acme/secret", members={lab.bot.id: MAINTAINER})
        configured = agent_settings(settings, fake).with_changes(
            gitlab_url=lab.url,
            gitlab_token=DEFAULT_TOKEN,
            gitlab_webhook_secret=SECRET,
            default_provider="gitlab",
            forge_retries=2,
            forge_backoff=0.01,
        )
        relative = lab.uploads.add(project.id, "button.png", PNG)
        absolute = lab.url + "/acme/widgets" + lab.uploads.add(project.id, "after.gif", GIF)
        foreign = lab.url + "/acme/secret" + lab.uploads.add(other.id, "keys.png", PNG)
        outside = f"{elsewhere[0]}/pixel.png"
        issue = lab.add_issue(
            project.id, "Button misplaced", f"It is here:\n\n![the page]({relative})\n", "alice"
        )
        note = (
            f"@repobox fix the layout ![]({absolute}) ![x]({foreign})"
            f' <img src="{outside}" width="10">'
        )
        fake.script(Reply.text("The image shows the button at the left."))

        ctx = runtime.install(configured, redis)
        with WebApp(configured, redis) as app:
            payload = lab.note_hook_payload(project.id, "issue", issue.iid, note, "alice")
            raw = json.dumps(payload).encode()
            assert app.post("/webhooks/gitlab", raw, lab.hook_headers(SECRET))[0] == 202
            run_jobs(ctx)

        content = fake.requests()[0]["messages"][0]["content"]
        images = [block for block in content if block["type"] == "image"]
        assert [(i["source"]["media_type"], i["source"]["data"]) for i in images] == [
            ("image/png", base64.b64encode(PNG).decode()),
            ("image/gif", base64.b64encode(GIF).decode()),
        ]
        assert len(lab.uploads.fetched) == 2  # the other project's upload was never asked
        assert elsewhere[1:] == []  # never asked
        said = "\n".join(n.body for n in lab.notes(project.id, "issue", issue.iid))
        assert f"not fetched: {outside}" in said
        assert f"not fetched: {foreign}" in said
        assert "📎 attached the page, after.gif" in said
