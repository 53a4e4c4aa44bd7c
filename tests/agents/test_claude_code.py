"""Claude Code's headless stream-json lines become steps people can read.

The `*.jsonl` files in tests/fixtures/claude_code/ are lines the real CLI printed
(`python -m tests.fixtures.claude_code.record` records them again); the end-to-end runs
of the real CLI are in test_claude_code_cli.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.agents.claude_stream import ClaudeStream, parse_line
from bot.agents.command import check_agent_command, command_argv
from bot.core.config import Settings
from bot.core.errors import AgentError, ConfigError
from bot.sessions.events import EventKind, ProgressEvent, ProgressStream
from bot.sessions.session import Person, Thread
from jobs.steps.context import JobContext
from tests.conftest import ROOT, MakeRepo, env_for, run_jobs

RECORDED = ROOT / "tests" / "fixtures" / "claude_code"

LINES = [
    {"type": "system", "subtype": "init", "model": "claude-sonnet-4-6", "tools": ["Read"]},
    {
        "type": "assistant",
        "message": {
            "content": [
                {"type": "text", "text": "Let me look at the app."},
                {
                    "type": "tool_use",
                    "id": "t1",
                    "name": "Read",
                    "input": {"file_path": "src/app.py"},
                },
            ]
        },
    },
    {
        "type": "user",
        "message": {"content": [{"type": "tool_result", "tool_use_id": "t1", "content": "x"}]},
    },
    {
        "type": "assistant",
        "message": {
            "content": [
                {
                    "type": "tool_use",
                    "id": "t2",
                    "name": "Edit",
                    "input": {"file_path": "src/app.py", "old_string": "a", "new_string": "b"},
                },
                {"type": "tool_use", "id": "t3", "name": "Bash", "input": {"command": "pytest -q"}},
            ]
        },
    },
    {
        "type": "user",
        "message": {
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "t3",
                    "content": "1 failed",
                    "is_error": True,
                }
            ]
        },
    },
    {
        "type": "result",
        "subtype": "success",
        "is_error": False,
        "result": "Fixed the greeting.",
        "num_turns": 4,
        "total_cost_usd": 0.0123,
        "usage": {
            "input_tokens": 1200,
            "output_tokens": 300,
            "cache_read_input_tokens": 5000,
            "cache_creation_input_tokens": 100,
        },
    },
]


def test_stream_json_lines_become_readable_events() -> None:
    events = [e for line in LINES for e in (parse_line(json.dumps(line)) or [])]
    assert [(e.kind, e.text) for e in events[:-1]] == [
        (EventKind.INFO, "Claude Code started (claude-sonnet-4-6)"),
        (EventKind.TEXT, "Let me look at the app."),
        (EventKind.STEP, "read src/app.py"),
        (EventKind.OUTPUT, "→ x"),
        (EventKind.STEP, "edited src/app.py"),
        (EventKind.STEP, "ran `pytest -q`"),
        (EventKind.OUTPUT, "1 failed"),
        (EventKind.INFO, "4 turns in 0.0 s (API 0.0 s)"),
    ]
    result = events[-1]
    assert result.kind is EventKind.RESULT and result.text == "Fixed the greeting."
    assert result.data == {
        "input_tokens": 1200,
        "output_tokens": 300,
        "cache_read_tokens": 5000,
        "cache_write_tokens": 100,
        "cost_usd": 0.0123,
        "turns": 4,
    }
    assert parse_line("plain output") is None


def test_the_command_line_never_holds_the_prompt() -> None:
    """The prompt comes on stdin: a command line holds only the agent's own words."""
    bare = command_argv("claude-code")
    assert bare[:4] == ["claude", "-p", "--output-format", "stream-json"]
    assert bare[bare.index("--permission-mode") + 1] == "acceptEdits"
    sandboxed = Settings(claude_args="--model claude-opus-4-8 --max-turns 30")
    argv = command_argv("claude", settings=sandboxed, sandboxed=True, resume="c1")
    assert argv == [
        "claude", "-p", "--output-format", "stream-json", "--verbose",
        "--permission-mode", "bypassPermissions",
        "--model", "claude-opus-4-8", "--max-turns", "30",
        "--resume", "c1",
    ]  # fmt: skip
    assert command_argv("my-agent -q") == ["my-agent", "-q"]


def test_a_prompt_placeholder_is_refused_with_what_to_do(settings: Settings) -> None:
    """`{prompt}` once put the prompt in an argument; now start-up says to remove it."""
    with pytest.raises(AgentError, match=r"remove `\{prompt\}`.*stdin.*REPOBOX_PROMPT_FILE"):
        command_argv("my-agent --task {prompt}")
    old = settings.with_changes(agent_command=f"{sys.executable} -c pass {{prompt}}")
    with pytest.raises(ConfigError, match=r"no longer goes on the command line"):
        check_agent_command(old)


def rendered(name: str) -> list[ProgressEvent]:
    stream = ClaudeStream()
    found: list[ProgressEvent] = []
    for line in (RECORDED / f"{name}.jsonl").read_text().splitlines():
        parsed = stream.parse(line)
        assert parsed is not None, line[:200]
        found += parsed
    return found


@pytest.mark.parametrize("name", sorted(p.stem for p in RECORDED.glob("*.jsonl")))
def test_every_recorded_line_is_rendered_readably(name: str) -> None:
    for event in rendered(name):
        assert event.text.strip(), event
        assert not event.text.lstrip().startswith("{") and '"type"' not in event.text, event


def test_a_recorded_run_with_a_refused_command() -> None:
    shown = [(e.kind.value, e.text) for e in rendered("basic")]
    assert shown[:8] == [
        ("info", "Claude Code 2.1.197 started (claude-opus-4-8[1m], permissions: acceptEdits)"),
        ("text", "Writing."),
        ("step", "wrote hello.txt"),
        ("output", "→ File created successfully at: hello.txt (file state is current in your "
                   "context — no need to Read it back)"),
        ("step", "ran `cat hello.txt`"),
        ("output", "→ hi"),
        ("step", "ran `python3 -c \"open('x.txt', 'w')\"`"),
        ("output", "This command requires approval"),
    ]  # fmt: skip
    assert shown[9][1].startswith(
        "Claude Code was not allowed: ran `python3 -c \"open('x.txt', 'w')\"` (outside the "
        "sandbox Claude Code runs with acceptEdits, which refuses commands that are not read-only"
    )
    assert shown[10][1].startswith("4 turns in ") and "claude-opus-4-8[1m]: " in shown[10][1]
    result = rendered("basic")[-1]
    assert result.kind is EventKind.RESULT and result.text == "Wrote hello.txt."
    assert result.data["permission_denials"] == 1 and result.data["turns"] == 4


def test_a_sub_agents_progress_is_nested_under_the_step_that_started_it() -> None:
    shown = [(e.kind.value, e.text) for e in rendered("subagent")]
    assert shown[1:10] == [
        ("step", "started a sub-agent (Explore): Find the config"),
        ("output", "↳ Find the config: started"),
        ("output", "↳ Find the config: asked: find it"),
        ("output", "↳ Find the config: Reading README.md (1 tool use so far)"),
        ("step", "↳ Find the config: read README.md"),
        ("output", "↳ Find the config: → 1 # Config (+3 lines)"),
        ("output", "↳ Find the config: completed"),
        ("step", shown[8][1]),
        ("output", "→ The config is described in README.md."),
    ]
    assert shown[8][1].startswith("↳ Find the config: completed (1 tool use, ")
    assert ("step", "planned: Fix the config") in shown
    assert ("step", "marked task 1 completed") in shown
    usage = next(text for kind, text in shown if text.startswith("4 turns"))
    assert "claude-opus-4-8[1m]: " in usage and "claude-haiku-4-5-20251001: " in usage
    models = rendered("subagent")[-1].data["models"]
    assert set(models) == {"claude-opus-4-8[1m]", "claude-haiku-4-5-20251001"}


def test_retries_are_shown_with_the_error_and_the_wait() -> None:
    wrong = [e.text for e in rendered("wrong_key") if e.text.startswith("API error")]
    assert [w.split(" in ")[0] for w in wrong] == [
        "API error 401 (authentication_failed); retry 1 of 2",
        "API error 401 (authentication_failed); retry 2 of 2",
    ]
    assert wrong[0].endswith(" s. Hint: the API key was refused: check ANTHROPIC_API_KEY")
    assert rendered("wrong_key")[-1].kind is EventKind.ERROR
    [busy] = [e.text for e in rendered("overloaded") if e.text.startswith("API error")]
    assert busy.startswith("API error 529 (overloaded); retry 1 of 2 in ")
    assert "Hint" not in busy


def test_unknown_events_and_tools_are_still_readable() -> None:
    stream = ClaudeStream()
    lines = [
        {"type": "rate_limit_event", "rate_limit_info": {"status": "allowed_warning"}},
        {"type": "system", "subtype": "hook_response", "hook_name": "lint", "exit_code": 0},
        {"type": "brand_new", "uuid": "u", "session_id": "s"},
        {
            "type": "assistant",
            "message": {
                "content": [
                    {"type": "tool_use", "id": "t", "name": "mcp__github__create_issue",
                     "input": {"title": "Bug", "labels": ["a", "b"]}},
                    {"type": "tool_use", "id": "u", "name": "Teleport", "input": {"to": "mars"}},
                ]
            },
        },
        {"type": "stream_event", "event": {"type": "content_block_delta"}},
    ]  # fmt: skip
    shown = [e.text for line in lines for e in stream.parse(json.dumps(line)) or []]
    assert shown == [
        "Claude Code rate_limit_event: status=allowed_warning",
        "Claude Code system/hook_response: hook_name=lint, exit_code=0",
        "Claude Code brand_new",
        "used create_issue (github): title=Bug, labels=[2]",
        "used Teleport: to=mars",
    ]


def test_a_claude_code_run_reports_its_cost_and_tokens(
    ctx: JobContext, make_repo: MakeRepo, tmp_path: Path
) -> None:
    fake_claude = tmp_path / "fake_claude.py"
    fake_claude.write_text(
        "import json, sys\n"
        f"lines = {LINES!r}\n"
        "open('src/app.py', 'w').write('print(\"b\")\\n')\n"
        "for line in lines: print(json.dumps(line), flush=True)\n"
    )
    ctx.settings.__dict__["agent_command"] = (
        f"{sys.executable} {fake_claude} --output-format stream-json"
    )
    origin = make_repo(files={"src/app.py": "print('a')\n"})
    started = ctx.service.run(
        lambda svc: svc.start(
            repo=str(origin),
            base=None,
            prompt="fix the greeting",
            thread=Thread("cli", "c"),
            person=Person("u", "U"),
            request_id="c1",
        )
    )
    run_jobs(ctx)
    events = ProgressStream(ctx.redis, started.session.id).read()
    result = next(e for e in events if e.kind is EventKind.RESULT)
    assert result.text == "Fixed the greeting."
    assert result.data["cost_usd"] == 0.0123 and result.data["cache_read_tokens"] == 5000
    assert result.data["diffstat"] == "1 file changed (+1 −1)"
    assert [e.text for e in events if e.kind is EventKind.STEP][1:] == [
        "read src/app.py",
        "edited src/app.py",
        "ran `pytest -q`",
    ]

    watched = subprocess.run(
        [sys.executable, str(ROOT / "app.py"), "session", "watch", started.session.id],
        env=env_for(ctx.settings),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    lines = watched.stdout.splitlines()
    figures = lines[next(i for i, line in enumerate(lines) if " result " in line) + 1]
    assert figures.strip().startswith("1 file changed (+1 −1) · 1,500 tokens · $0.0123 · took ")
