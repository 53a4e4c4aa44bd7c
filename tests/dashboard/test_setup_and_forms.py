"""The setup checklist, the start form's refusals and the words on the pages, over HTTP on
the real web app (cookies, CSRF tokens, the real doctor's checks)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from redis import Redis

from bot.core.config import Settings
from bot.doctor.check import Check, Level
from bot.doctor.checks import run_all
from handlers.common.ui.text import ago, prose
from handlers.dashboard import setup
from tests.conftest import MakeRepo
from tests.dashboard.test_dashboard import csrf_of, signed_in_as, signed_in_as_operator
from tests.live_server import LiveServer


@pytest.fixture
def server(settings: Settings, redis: Redis) -> Iterator[LiveServer]:
    live = LiveServer(settings, redis).start()
    yield live
    live.stop()


def test_messages_show_code_spans_as_code_and_everything_else_as_text() -> None:
    said = prose("Use `group/project`, not <script>alert(1)</script> or `<b>`.")
    assert str(said) == (
        "Use <code>group/project</code>, not &lt;script&gt;alert(1)&lt;/script&gt; or "
        "<code>&lt;b&gt;</code>."
    )
    assert ago(1000, now=1030) == "just now" and ago(1000, now=1000 + 3 * 3600) == "3 h ago"


def test_without_a_model_key_the_agent_item_leads_and_points_to_the_demo(
    settings: Settings, redis: Redis
) -> None:
    bare = settings.with_changes(agent="anthropic", anthropic_api_key=None)
    checks = run_all(bare, redis)
    listed = setup.checklist(bare, checks, dismissed={"slack"})
    agent = listed.items[0]
    assert agent.key == "agent" and agent.status == "todo" and agent.prominent
    assert agent.title == "Agent: not set up"
    assert "ANTHROPIC_API_KEY" in agent.next_step and "./dev demo" in agent.next_step
    assert "REPOBOX_AGENT=demo" in agent.next_step
    assert [i.key for i in listed.items if i.key == "slack"] == []  # dismissed: gone
    assert listed.dismissed == 1 and not listed.finished
    broken = [Check("Disk", Level.FAIL, "12 MB free")]
    kept = setup.checklist(bare, broken, dismissed={"disk"})
    assert [i.status for i in kept.items if i.key == "disk"] == ["failing"]  # stays shown


def test_admins_dismiss_setup_items_for_good_and_others_never_see_them(
    server: LiveServer, settings: Settings, redis: Redis
) -> None:
    operator = signed_in_as_operator(server, settings, redis)
    page = operator.get(f"{server.url}/dashboard/")
    assert 'hx-get="/dashboard/setup"' in page.text  # loaded after the page, off the loop
    checklist = operator.get(f"{server.url}/dashboard/setup")
    assert "Finish setting up Repobox" in checklist.text and "SLACK_BOT_TOKEN" in checklist.text
    csrf = csrf_of(checklist)
    refused = operator.post(f"{server.url}/dashboard/setup/dismiss/slack", data={})
    assert refused.status_code == 403 and "did not come from Repobox" in refused.text
    assert "<!doctype html>" in refused.text  # a page in the one look, not bare text
    done = operator.post(f"{server.url}/dashboard/setup/dismiss/slack", data={"csrf": csrf})
    assert done.url == f"{server.url}/dashboard/"
    again = operator.get(f"{server.url}/dashboard/setup")
    assert "SLACK_BOT_TOKEN" not in again.text and "Show 1 dismissed" in again.text
    unknown = operator.post(f"{server.url}/dashboard/setup/dismiss/nope", data={"csrf": csrf})
    assert unknown.status_code == 404 and "no such setup item" in unknown.text
    operator.post(f"{server.url}/dashboard/setup/restore", data={"csrf": csrf})
    assert "SLACK_BOT_TOKEN" in operator.get(f"{server.url}/dashboard/setup").text

    erin = signed_in_as(server, settings, redis, "erin")
    assert "/dashboard/setup" not in erin.get(f"{server.url}/dashboard/").text
    assert erin.get(f"{server.url}/dashboard/setup").status_code == 403
    erin_csrf = csrf_of(erin.get(f"{server.url}/dashboard/"))
    forbidden = erin.post(f"{server.url}/dashboard/setup/dismiss/slack", data={"csrf": erin_csrf})
    assert forbidden.status_code == 403 and "Only admins" in forbidden.text


def test_a_refused_start_answers_400_with_the_typed_text_kept_and_escaped(
    server: LiveServer, settings: Settings, redis: Redis
) -> None:
    operator = signed_in_as_operator(server, settings, redis)
    csrf = csrf_of(operator.get(f"{server.url}/dashboard/"))
    typed = {"repo": "/etc", "base": "main", "prompt": "fix </textarea><b>this</b>"}
    refused = operator.post(f"{server.url}/dashboard/start", data={"csrf": csrf, **typed})
    assert refused.status_code == 400
    assert "Local paths are for the terminal" in refused.text
    assert "<code>group/project</code>" in refused.text and "`group/project`" not in refused.text
    assert 'value="/etc"' in refused.text and 'value="main"' in refused.text
    assert "fix &lt;/textarea&gt;&lt;b&gt;this&lt;/b&gt;</textarea>" in refused.text
    empty = operator.post(f"{server.url}/dashboard/start", data={"csrf": csrf, "prompt": "hi"})
    assert empty.status_code == 400 and "Choose a repository." in empty.text


def test_only_admins_open_local_paths_and_only_they_are_offered_one(
    server: LiveServer, settings: Settings, redis: Redis, make_repo: MakeRepo
) -> None:
    origin = make_repo(name="gadgets")  # under the test's REPOBOX_LOCAL_ROOTS
    erin = signed_in_as(server, settings, redis, "erin")
    page = erin.get(f"{server.url}/dashboard/")
    assert 'placeholder="owner/repo or an https:// clone URL"' in page.text
    refused = erin.post(
        f"{server.url}/dashboard/start", data={"csrf": csrf_of(page), "repo": str(origin)}
    )
    assert refused.status_code == 400
    assert "Only an admin opens repositories on this machine" in refused.text
    operator = signed_in_as_operator(server, settings, redis)
    offered = operator.get(f"{server.url}/dashboard/")
    assert "or a path" in offered.text
    started = operator.post(
        f"{server.url}/dashboard/start", data={"csrf": csrf_of(offered), "repo": str(origin)}
    )
    assert "/dashboard/sessions/" in started.url


def test_pages_send_no_inline_style_or_script_and_a_strict_policy(
    server: LiveServer, settings: Settings, redis: Redis
) -> None:
    operator = signed_in_as_operator(server, settings, redis)
    for path in ("/", "/account/signin"):
        answer = requests.get(f"{server.url}{path}", timeout=10)
        _strict(answer)
    for path in ("/dashboard/", "/dashboard/health", "/dashboard/setup", "/account/settings"):
        _strict(operator.get(f"{server.url}{path}"))
    missing = operator.get(f"{server.url}/dashboard/sessions/nosuch")
    assert missing.status_code == 404 and "no such session of yours" in missing.text
    _strict(missing)


def _strict(answer: requests.Response) -> None:
    policy = answer.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "<style" not in answer.text and " style=" not in answer.text
    assert "<script>" not in answer.text and "onclick" not in answer.text
    assert answer.headers["X-Frame-Options"] == "DENY"
