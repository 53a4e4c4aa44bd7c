"""Claude Code's headless stream-json lines become steps people can read."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from bot.agents.claude_code import parse_line
from bot.agents.command import command_argv
from bot.progress import EventKind, ProgressStream
from bot.sessions import Person, Thread
from jobs.runtime import JobContext
from tests.conftest import MakeRepo, run_jobs

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
        (EventKind.STEP, "edited src/app.py"),
        (EventKind.STEP, "ran `pytest -q`"),
        (EventKind.OUTPUT, "1 failed"),
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


def test_command_argv_presets_and_placeholders() -> None:
    assert command_argv("claude-code", "fix it")[:4] == [
        "claude",
        "-p",
        "--output-format",
        "stream-json",
    ]
    assert command_argv("claude-code", "fix it")[-1] == "fix it"
    assert command_argv("my-agent --task {prompt} --yes", "do x") == [
        "my-agent",
        "--task",
        "do x",
        "--yes",
    ]
    assert command_argv("my-agent -q", "do x") == ["my-agent", "-q", "do x"]


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
    started = ctx.service.start(
        repo=str(origin),
        base=None,
        prompt="fix the greeting",
        thread=Thread("cli", "c"),
        person=Person("u", "U"),
        request_id="c1",
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
