"""The built-in agent end to end: the real SDK against the fake API, real jobs, real git."""

from __future__ import annotations

import threading
import time
from typing import Any

import anthropic.types
from redis import Redis

from bot.core.config import DEFAULT_MODEL, Settings
from bot.forges.forge import ReplyTarget
from bot.sessions.events import EventKind
from bot.sessions.origin import ForgeComment, ForgeOrigin, ReviewSpot
from bot.sessions.prompts import PromptState
from bot.sessions.quote import Quote
from bot.sessions.thread_context import ThreadContext
from jobs.steps.context import JobContext
from jobs.worker import runtime
from tests.agent_support import (
    ALICE,
    actx,
    agent_settings,
    committed,
    events,
    fake,
    results_text,
    start_session,
    system_text,
    texts,
    workdir,
)
from tests.conftest import MakeRepo, git, run_jobs
from tests.fakes.anthropic import MESSAGES_PATH, FakeAnthropic, Reply, TokenUsage, ToolUse

__all__ = ["actx", "fake"]  # fixtures

GREET = 'def greet(name):\n    return "Hello " + name\n\nprint(greet("Ada"))\n'


def test_multi_turn_run_reads_edits_runs_and_checkpoints(
    actx: JobContext, fake: FakeAnthropic, make_repo: MakeRepo
) -> None:
    origin = make_repo(files={"README.md": "# Greeter\n", "greet.py": GREET})
    fake.script(
        Reply.tool_use("read_file", {"path": "greet.py"}, text="Let me look at greet.py."),
        Reply.tool_use(
            "edit_file",
            {"path": "greet.py", "old": '"Hello " + name', "new": 'f"Hello, {name}!"'},
        ),
        Reply.tool_use("run", {"command": "python3 greet.py"}),
        Reply.text("Greeting now has a comma and an exclamation mark; `python3 greet.py` passes."),
    )

    session = start_session(actx, origin, "make the greeting friendlier")

    assert committed(session, "greet.py") == GREET.replace('"Hello " + name', 'f"Hello, {name}!"')
    subject = git("log", "-1", "--format=%s|%an", cwd=workdir(session)).strip()
    assert subject == "Make the greeting friendlier|Repobox"  # written from the run
    steps = texts(actx, session, EventKind.STEP)
    assert steps[0] == "read greet.py"
    assert steps[1] == "edited greet.py (+1 −1)"
    assert steps[2].startswith("ran python3 greet.py → exit 0 (") and steps[2].endswith(" s)")
    assert texts(actx, session, EventKind.TEXT) == ["Let me look at greet.py."]
    assert "Hello, Ada!" in texts(actx, session, EventKind.OUTPUT)
    [result] = events(actx, session, EventKind.RESULT)
    assert result.text.startswith("Greeting now has a comma")
    assert result.data["turns"] == 4
    assert result.data["files"] == [{"path": "greet.py", "added": 1, "removed": 1}]
    # what the model was told after each step
    assert results_text(fake, 1)[0][1].splitlines()[0] == "     1\tdef greet(name):"
    assert results_text(fake, 2) == [(False, "Edited greet.py (+1 −1 lines).")]
    assert results_text(fake, 3) == [(False, "exit code 0\nHello, Ada!")]
    fake.assert_done()


def test_follow_up_prompt_carries_the_earlier_summary(
    actx: JobContext, fake: FakeAnthropic, make_repo: MakeRepo
) -> None:
    origin = make_repo()
    fake.script(
        Reply.tool_use("write_file", {"path": "notes.md", "content": "# Notes\n"}),
        Reply.text("Created notes.md with a title."),
        Reply.text("Added nothing else."),
    )
    session = start_session(actx, origin, "start a notes file")
    actx.service.run(
        lambda svc: svc.submit(session, "now add a section on testing", ALICE, request_id="p2")
    )
    run_jobs(actx)

    first, second = actx.service.prompts.history(session.id)
    assert first.summary == "Created notes.md with a title."
    assert second.state is PromptState.DONE
    context = system_text(fake.requests()[-1])
    assert "Prompt: start a notes file\n   Result: Created notes.md with a title." in context
    assert fake.requests()[-1]["messages"][0]["content"][0]["text"] == (
        "now add a section on testing"
    )
    assert "Earlier in this session" not in system_text(fake.requests()[0])


def test_system_prompt_has_repo_issue_and_review_context_and_cache_marks(
    actx: JobContext, fake: FakeAnthropic, make_repo: MakeRepo
) -> None:
    origin = make_repo(
        files={
            "README.md": "# Payments\nHandles refunds.\n",
            "AGENTS.md": "Run `make check` before you finish.\n",
            ".repobox/instructions.md": "Never touch migrations/.\n",
            "src/app.py": "x = 1\n",
            ".env": "SECRET=1\n",
        }
    )
    issue = ThreadContext(
        kind="issue",
        number=42,
        title="Refunds round the wrong way",
        body="Refund of 0.005 gives 0.00.",
        url="https://gitlab.example/acme/pay/-/issues/42",
        comments=(Quote("bob", "Seen in production too."),),
    )
    fake.script(Reply.text("Looked."), Reply.text("Looked again."))
    session = start_session(actx, origin, "fix it", context=issue)
    review = ForgeOrigin(
        ForgeComment("carol", "@repobox use Decimal here", "https://x/1", 1),
        ReplyTarget("acme/pay", "issue", 42),
        ReviewSpot("src/app.py", 1, "@@ -0,0 +1 @@\n+x = 1"),
    )
    actx.service.run(
        lambda svc: svc.submit(session, "use Decimal", ALICE, request_id="p2", origin=review)
    )
    run_jobs(actx)

    first = fake.requests()[0]
    text = system_text(first)
    for expected in (
        "Repository: ",
        "README.md\n",
        "src/\n",
        "# Payments\nHandles refunds.",
        "## Instructions from AGENTS.md\nRun `make check` before you finish.",
        "## Instructions from .repobox/instructions.md\nNever touch migrations/.",
        "Issue #42: Refunds round the wrong way",
        "Refund of 0.005 gives 0.00.",
        "Comment by bob:\nSeen in production too.",
    ):
        assert expected in text, expected
    assert ".env" not in first["system"][1]["text"]  # the tree leaves secret files out
    follow_up = system_text(fake.requests()[1])
    assert "On file `src/app.py`, line 1." in follow_up
    assert "Comment by carol (https://x/1):\n@repobox use Decimal here" in follow_up
    assert "+x = 1" in follow_up
    # prompt caching: tools, both system blocks and the newest message are breakpoints
    assert first["tools"][-1]["cache_control"] == {"type": "ephemeral"}
    assert [b.get("cache_control") for b in first["system"]] == [{"type": "ephemeral"}] * 2
    assert first["messages"][-1]["content"][-1]["cache_control"] == {"type": "ephemeral"}
    assert [t["name"] for t in first["tools"]] == [
        "list_files",
        "read_file",
        "write_file",
        "edit_file",
        "search",
        "run",
    ]
    assert first["model"] == DEFAULT_MODEL


def test_instruction_files_from_the_target_branch_replace_the_workdir_ones(
    actx: JobContext, fake: FakeAnthropic, make_repo: MakeRepo
) -> None:
    origin = make_repo(files={"README.md": "# R\n", "AGENTS.md": "old rules\n"})
    context = ThreadContext(kind="merge_request", title="T")
    fake.script(Reply.text("ok"))
    session = start_session(actx, origin, "go", context=context, run=False)
    # As a surface that read them already would hand them over (set-up keeps them).
    actx.service.sessions.update(session.id, instructions={"AGENTS.md": "new rules"})
    run_jobs(actx)
    text = system_text(fake.requests()[0])
    assert "## Instructions from AGENTS.md\nnew rules" in text
    assert "old rules" not in text
    assert "Merge request: T" in text


def test_result_tokens_and_cost_match_the_usage_reported(
    actx: JobContext, fake: FakeAnthropic, make_repo: MakeRepo
) -> None:
    origin = make_repo()
    fake.script(
        Reply.tool_use("list_files", {}, usage=TokenUsage(1200, 34, 0, 3000)),
        Reply.text("Two files.", usage=TokenUsage(250, 12, 3000, 180)),
    )
    session = start_session(actx, origin, "what is here?")
    [result] = events(actx, session, EventKind.RESULT)
    data = result.data
    assert (data["input_tokens"], data["output_tokens"]) == (1450, 46)
    assert (data["cache_read_tokens"], data["cache_write_tokens"]) == (3000, 3180)
    # claude-sonnet-5-5: $2 in, $10 out, $0.10 cache read, 5-minute cache writes 1.25 × $2
    expected = (1450 * 2 + 46 * 10 + 3000 * 0.10 + 3180 * 2.5) / 1_000_000
    assert abs(data["cost_usd"] - expected) < 1e-9
    assert data["turns"] == 2 and data["model"] == "claude-sonnet-5-5"


def test_default_model_is_current_and_priced() -> None:
    from bot.agents.pricing import price_for

    listed = set(anthropic.types.ModelParam.__args__[0].__args__)  # type: ignore[attr-defined]
    deprecated = anthropic.resources.messages.messages.DEPRECATED_MODELS
    assert DEFAULT_MODEL in listed
    assert DEFAULT_MODEL not in deprecated
    assert price_for(DEFAULT_MODEL) is not None
    assert price_for("claude-haiku-4-5-20251001") == price_for("claude-haiku-4-5")
    unpriced = [m for m in listed if price_for(m) is None and m not in deprecated]
    assert unpriced == []


def test_turn_budget_stops_the_run_with_a_clear_event_and_keeps_the_work(
    settings: Settings, redis: Redis, fake: FakeAnthropic, make_repo: MakeRepo
) -> None:
    ctx = runtime.install(agent_settings(settings, fake, max_turns=2), redis)
    origin = make_repo()
    fake.script(
        Reply.tool_use("write_file", {"path": "a.txt", "content": "a\n"}),
        Reply.tool_use("list_files", {}),
        Reply.text("never asked for"),
    )
    session = start_session(ctx, origin, "loop forever")
    [error] = texts(ctx, session, EventKind.ERROR)
    assert error.startswith("Stopped at the turn limit: 2 model turns (REPOBOX_MAX_TURNS) used (")
    ref = f"refs/repobox/partial/{ctx.service.prompts.history(session.id)[0].id}"
    assert f"Its partial edits (1 file changed (+1 −0)) are kept apart as `{ref}`" in error
    assert git("show", f"{ref}:a.txt", cwd=workdir(session)) == "a\n"  # kept, off the branch
    assert not (workdir(session) / "a.txt").exists()
    assert len(fake.requests()) == 2
    assert ctx.service.prompts.history(session.id)[0].state is PromptState.FAILED


def test_token_budget_stops_the_run(
    settings: Settings, redis: Redis, fake: FakeAnthropic, make_repo: MakeRepo
) -> None:
    ctx = runtime.install(agent_settings(settings, fake, max_tokens=1000), redis)
    fake.script(Reply.tool_use("list_files", {}, usage=TokenUsage(900, 200)))
    session = start_session(ctx, make_repo(), "read everything")
    [error] = texts(ctx, session, EventKind.ERROR)
    assert error.startswith(
        "Stopped at the token budget: 1,100 of 1,000 tokens (REPOBOX_MAX_TOKENS)"
    )
    fake.assert_done()


def test_cancel_stops_the_run_mid_stream(
    actx: JobContext, fake: FakeAnthropic, make_repo: MakeRepo
) -> None:
    origin = make_repo()
    streaming = threading.Event()

    def slow(_request: dict[str, Any]) -> Reply:
        streaming.set()
        return Reply.text("word " * 400, chunk_size=4, delay_between_events=0.01)

    fake.script(Reply.tool_use("write_file", {"path": "partial.txt", "content": "kept\n"}), slow)
    session = start_session(actx, origin, "write a long essay", run=False)

    def cancel_when_streaming() -> None:
        assert streaming.wait(20)
        time.sleep(0.3)
        actx.service.run(lambda svc: svc.cancel(actx.service.sessions.get(session.id), ALICE))

    canceller = threading.Thread(target=cancel_when_streaming)
    canceller.start()
    started = time.monotonic()
    run_jobs(actx)
    canceller.join()

    assert time.monotonic() - started < 8  # the stream alone would take about 5 s
    [cancelled] = texts(actx, session, EventKind.CANCELLED)
    assert cancelled.startswith("Cancelled after ")
    assert cancelled.endswith("1 file changed (+1 −0) kept in a checkpoint.")
    assert fake.wait_for(lambda f: f.exchanges[-1].aborted, timeout=5)
    assert not fake.exchanges[-1].completed
    assert events(actx, session, EventKind.RESULT) == []
    assert committed(actx.service.sessions.get(session.id), "partial.txt") == "kept\n"


def test_wall_clock_limit_cuts_the_stream(
    settings: Settings, redis: Redis, fake: FakeAnthropic, make_repo: MakeRepo
) -> None:
    ctx = runtime.install(agent_settings(settings, fake, run_timeout=1.0), redis)
    fake.script(Reply.text("slow " * 400, chunk_size=4, delay_between_events=0.01))
    started = time.monotonic()
    session = start_session(ctx, make_repo(), "take your time")
    assert time.monotonic() - started < 6
    [error] = texts(ctx, session, EventKind.ERROR)
    assert "time limit" in error
    assert fake.wait_for(lambda f: f.exchanges[-1].aborted, timeout=5)


def test_overloaded_once_then_success(
    actx: JobContext, fake: FakeAnthropic, make_repo: MakeRepo
) -> None:
    fake.overloaded(times=1)
    fake.script(Reply.text("Done despite the hiccup."))
    session = start_session(actx, make_repo(), "hello")
    assert texts(actx, session, EventKind.RESULT) == ["Done despite the hiccup."]
    assert [c.status for c in fake.calls_to(MESSAGES_PATH)] == [529, 200]


def test_overload_error_mid_stream_is_retried(
    actx: JobContext, fake: FakeAnthropic, make_repo: MakeRepo
) -> None:
    fake.script(Reply.text("partial", stream_error="overloaded_error"), Reply.text("Whole."))
    session = start_session(actx, make_repo(), "hello")
    assert texts(actx, session, EventKind.RESULT) == ["Whole."]
    assert len(fake.requests()) == 2


def test_retries_running_out_fail_clearly_and_keep_the_work(
    actx: JobContext, fake: FakeAnthropic, make_repo: MakeRepo
) -> None:
    def then_overloaded(_request: dict[str, Any]) -> Reply:
        fake.overloaded(times=5)  # the first try and the SDK's 4 retries
        return Reply.tool_use("write_file", {"path": "done.txt", "content": "half\n"})

    fake.script(then_overloaded, Reply.text("never reached"))
    session = start_session(actx, make_repo(), "do it")
    [error] = texts(actx, session, EventKind.ERROR)
    ref = f"refs/repobox/partial/{actx.service.prompts.history(session.id)[0].id}"
    assert error == (
        "The Anthropic API is overloaded (529) and still was after 4 retries; the run stopped. "
        f"Its partial edits (1 file changed (+1 −0)) are kept apart as `{ref}`, not on the work "
        "branch: the next prompt starts from the last checkpoint without them "
        f"(`git diff HEAD {ref}` shows them)."
    )
    assert git("show", f"{ref}:done.txt", cwd=workdir(session)) == "half\n"
    assert [c.status for c in fake.calls_to(MESSAGES_PATH)] == [200, 529, 529, 529, 529, 529]


def test_malformed_and_invalid_tool_input_get_error_results(
    actx: JobContext, fake: FakeAnthropic, make_repo: MakeRepo
) -> None:
    origin = make_repo(files={"a.py": "print(1)\n"})
    fake.script(
        Reply.tool_use("read_file", raw_json='{"path": "a.py", "limit": }'),
        Reply(
            [
                ToolUse("read_file", {"limit": 3}),
                ToolUse("read_file", {"path": "a.py", "limit": "ten"}),
                ToolUse("delete_everything", {}),
            ]
        ),
        Reply.tool_use("read_file", {"path": "a.py"}),
        Reply.text("Read it at last."),
    )
    session = start_session(actx, origin, "read a.py")
    [(bad_json, message)] = results_text(fake, 1)
    assert bad_json and message.startswith("The input for read_file was not valid JSON (")
    assert fake.requests()[1]["messages"][1]["content"][0]["input"] == {}
    assert results_text(fake, 2) == [
        (True, "read_file needs `path` (string)."),
        (True, "`limit` of read_file must be an integer."),
        (
            True,
            "There is no tool `delete_everything`; the tools are list_files, read_file, "
            "write_file, edit_file, search, run.",
        ),
    ]
    assert results_text(fake, 3) == [(False, "     1\tprint(1)")]
    assert texts(actx, session, EventKind.RESULT) == ["Read it at last."]


def test_missing_api_key_is_a_clear_error(
    settings: Settings, redis: Redis, fake: FakeAnthropic, make_repo: MakeRepo
) -> None:
    ctx = runtime.install(agent_settings(settings, fake, anthropic_api_key=None), redis)
    session = start_session(ctx, make_repo(), "hello")
    [error] = texts(ctx, session, EventKind.ERROR)
    assert error.startswith("The built-in agent needs ANTHROPIC_API_KEY")
    assert fake.requests() == []


def test_file_tools_page_list_and_search_with_readable_steps(
    actx: JobContext, fake: FakeAnthropic, make_repo: MakeRepo
) -> None:
    lines = "".join(f"line {n}\n" for n in range(1, 6))
    origin = make_repo(
        files={
            "README.md": "# R\n",
            "src/app.py": "import os\nTODO = 1\n",
            "src/util.py": "# TODO: tidy\n",
            "docs/big.txt": lines,
            ".gitignore": "build/\n",
        }
    )
    fake.script(
        Reply(
            [
                ToolUse("run", {"command": "mkdir -p build && echo TODO > build/out.txt"}),
                ToolUse("list_files", {}),
                ToolUse("list_files", {"path": "src", "pattern": "*.py"}),
                ToolUse("read_file", {"path": "docs/big.txt", "offset": 3, "limit": 2}),
                ToolUse("search", {"pattern": "TODO"}),
                ToolUse("search", {"pattern": "TODO", "path": "docs"}),
                ToolUse("search", {"pattern": "("}),
            ]
        ),
        Reply.text("Explored."),
    )
    session = start_session(actx, origin, "explore")
    results = [text for _, text in results_text(fake, 1)]
    assert results[1] == ".gitignore\nREADME.md\ndocs/big.txt\nsrc/app.py\nsrc/util.py"
    assert results[2] == "src/app.py\nsrc/util.py"
    assert results[3] == "     3\tline 3\n     4\tline 4\n(lines 3–4 of 5; use offset=5 for more)"
    assert results[4] == "src/app.py:2: TODO = 1\nsrc/util.py:1: # TODO: tidy"  # not build/
    assert results[5] == "No matches."
    assert results[6].startswith("`(` is not a valid regular expression")
    assert texts(actx, session, EventKind.STEP)[1:] == [
        "listed the repository",
        "listed src (*.py)",
        "read docs/big.txt (lines 3–4)",
        "searched for `TODO`: 2 matches in 2 files",
        "searched for `TODO` in docs",
        "search for `(` ✗ `(` is not a valid regular expression: missing ), unterminated "
        "subpattern at position 0",
    ]
