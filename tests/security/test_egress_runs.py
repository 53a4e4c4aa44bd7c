"""The network allow-list on whole runs, in real bubblewrap with real curl: the built-in
agent's commands, an external agent's, and the repository's setup and checks reach the
listed hosts (a local server stands for a registry) and the model API, and nothing else;
each refused host shows once as a warning step naming it. `REPOBOX_EGRESS=open` turns
the list off.
"""

from __future__ import annotations

import http.server
import shlex
import threading
from collections.abc import Iterator

import pytest
from redis import Redis

from bot.core.config import Settings
from bot.security.sandbox import probe
from bot.sessions.events import EventKind
from jobs.worker import runtime
from tests.agent_support import agent_settings, fake, results_text, start_session, texts
from tests.conftest import MakeRepo
from tests.fakes.anthropic import FakeAnthropic, Reply

__all__ = ["fake"]  # fixtures

pytestmark = pytest.mark.skipif(not probe().usable, reason="bubblewrap cannot run here")

UNLISTED = "unlisted.example"


@pytest.fixture
def site() -> Iterator[int]:
    """A local server standing for a listed host (a package registry)."""

    class Hello(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", "6")
            self.end_headers()
            self.wfile.write(b"hello\n")

        def log_message(self, *_: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hello)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield int(server.server_address[1])
    server.shutdown()
    server.server_close()


def refusal(host: str) -> str:
    return f"⚠️ the sandbox refused a connection to {host}: it is not on the network allow-list"


def test_built_in_agent_reaches_listed_hosts_only_and_refusals_show_once(
    settings: Settings, redis: Redis, fake: FakeAnthropic, make_repo: MakeRepo, site: int
) -> None:
    ctx = runtime.install(agent_settings(settings, fake, egress_hosts=("localhost",)), redis)
    fake.script(
        Reply.tool_use("run", {"command": f"curl -sSf http://{UNLISTED}/"}),
        Reply.tool_use("run", {"command": f"curl -sSf https://{UNLISTED}/again"}),
        Reply.tool_use("run", {"command": f"curl -sSf http://localhost:{site}/"}),
        Reply.text("Tried the network."),
    )
    session = start_session(ctx, make_repo(), "fetch things")

    assert results_text(fake, 1)[0][1].startswith("exit code 22")  # curl: HTTP 403
    assert results_text(fake, 2)[0][1].startswith("exit code ")
    assert not results_text(fake, 2)[0][1].startswith("exit code 0")
    assert results_text(fake, 3) == [(False, "exit code 0\nhello")]
    warnings = texts(ctx, session, EventKind.WARNING)
    assert [w for w in warnings if "refused a connection" in w] == [
        refusal(UNLISTED) + " (REPOBOX_EGRESS_HOSTS, or `network: hosts:` in .repobox.yml "
        "within REPOBOX_EGRESS_ALLOWED)"
    ]  # once per host per run, though asked twice
    steps = texts(ctx, session, EventKind.STEP)
    assert any(s.startswith(f"ran curl -sSf http://{UNLISTED}/ → exit 22") for s in steps)


def test_open_egress_lets_commands_connect_directly_without_warnings(
    settings: Settings, redis: Redis, fake: FakeAnthropic, make_repo: MakeRepo, site: int
) -> None:
    ctx = runtime.install(agent_settings(settings, fake, egress="open"), redis)
    direct = f"curl -sSf --noproxy '*' http://127.0.0.1:{site}/"
    fake.script(Reply.tool_use("run", {"command": direct}), Reply.text("Fetched."))
    session = start_session(ctx, make_repo(), "fetch")
    assert results_text(fake, 1) == [(False, "exit code 0\nhello")]
    assert texts(ctx, session, EventKind.WARNING) == []


def test_external_agent_reaches_the_model_api_and_listed_hosts_only(
    settings: Settings, redis: Redis, fake: FakeAnthropic, make_repo: MakeRepo, site: int
) -> None:
    script = (
        f"curl -sSf http://{UNLISTED}/ || echo refused-ok; "
        f"curl -sS http://localhost:{site}/; "
        f"curl -s -I -o /dev/null -w 'model api %{{http_code}}\\n' {fake.url}/; "
        "echo Done"
    )
    command = f"sh -c {shlex.quote(script)} agent"
    changes = {"egress_hosts": ("localhost",), "agent": "command", "agent_command": command}
    ctx = runtime.install(agent_settings(settings, fake, **changes), redis)
    session = start_session(ctx, make_repo(), "do the thing")
    output = texts(ctx, session, EventKind.OUTPUT)
    assert "refused-ok" in output and "hello" in output
    [model] = [line for line in output if line.startswith("model api ")]
    assert model not in ("model api 000", "model api 403")  # the fake answered
    warnings = texts(ctx, session, EventKind.WARNING)
    assert [w.split(":")[0] for w in warnings] == [refusal(UNLISTED).split(":")[0]]


def test_setup_and_checks_go_through_the_allow_list_with_the_repos_hosts(
    settings: Settings, redis: Redis, fake: FakeAnthropic, make_repo: MakeRepo, site: int
) -> None:
    yml = (
        "setup:\n"
        f"  - curl -sSf http://localhost:{site}/ -o .fetched\n"
        "checks:\n"
        "  - name: reach\n"
        f"    run: curl -sSf http://{UNLISTED}/\n"
        "    required: false\n"
        "network:\n"
        "  hosts: [localhost, evil.example]\n"
    )
    changes = {"egress_allowed": ("localhost", ".pypi.org")}
    ctx = runtime.install(agent_settings(settings, fake, **changes), redis)
    fake.script(
        Reply.tool_use("write_file", {"path": "notes.md", "content": "hi\n"}),
        Reply.text("Wrote notes."),
    )
    session = start_session(ctx, make_repo(files={".repobox.yml": yml}), "write notes")
    steps = texts(ctx, session, EventKind.STEP)
    assert any(s.startswith("✅ setup") for s in steps), steps
    assert any("reach" in s and "failed" in s.lower() for s in steps), steps
    warnings = texts(ctx, session, EventKind.WARNING)
    assert warnings[0].startswith(
        "⚠️ `.repobox.yml` asks for evil.example under `network: hosts:`, which the "
        "operator does not let repositories add (REPOBOX_EGRESS_ALLOWED)"
    )
    refused = [w for w in warnings if "refused a connection" in w]
    assert len(refused) == 1 and refused[0].startswith(refusal(UNLISTED))
