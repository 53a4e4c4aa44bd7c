"""The built-in agent's guard rails, seen through runs: paths, secrets, the sandbox."""

from __future__ import annotations

import itertools
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from redis import Redis

from bot.core.config import Settings
from bot.security.sandbox import Sandbox, probe
from bot.sessions.events import EventKind
from jobs.steps.context import JobContext
from jobs.worker import runtime
from tests.agent_support import (
    actx,
    agent_settings,
    committed,
    fake,
    results_text,
    start_session,
    texts,
    workdir,
)
from tests.conftest import ROOT, MakeRepo, env_for
from tests.fakes.anthropic import FakeAnthropic, Reply, ToolUse

__all__ = ["actx", "fake"]  # fixtures

needs_bwrap = pytest.mark.skipif(
    not probe().usable, reason=f"bubblewrap is not usable here: {probe().detail}"
)


def test_paths_outside_the_workdir_git_internals_and_secrets_are_refused(
    actx: JobContext, fake: FakeAnthropic, make_repo: MakeRepo, tmp_path: Path
) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("outside secret\n")
    origin = make_repo(files={"README.md": "# R\n", ".env": "API_TOKEN=hunter2-very-secret\n"})
    fake.script(
        Reply.tool_use("run", {"command": f"ln -s {outside} link.txt && ln -s {tmp_path} dir"}),
        Reply(
            [
                ToolUse("read_file", {"path": "../x"}),
                ToolUse("read_file", {"path": "/etc/passwd"}),
                ToolUse("read_file", {"path": "link.txt"}),
                ToolUse("write_file", {"path": "dir/planted.txt", "content": "x"}),
                ToolUse("write_file", {"path": "../../escape.txt", "content": "x"}),
                ToolUse("read_file", {"path": ".env"}),
                ToolUse("edit_file", {"path": ".env", "old": "hunter2", "new": "x"}),
                ToolUse("read_file", {"path": ".git/config"}),
                ToolUse("write_file", {"path": ".git/hooks/post-commit", "content": "#!/bin/sh"}),
            ]
        ),
        Reply([ToolUse("list_files", {}), ToolUse("search", {"pattern": "hunter2"})]),
        Reply.text("Nothing to do."),
    )
    session = start_session(actx, origin, "poke around")

    refusals = results_text(fake, 2)
    assert all(is_error for is_error, _ in refusals)
    messages = [text for _, text in refusals]
    assert messages[0] == "`../x` leads outside the repository (`..` is not allowed)."
    assert messages[1].startswith("`/etc/passwd` is absolute")
    assert messages[2] == "`link.txt` is a link that leads outside the repository."
    assert messages[3] == "`dir/planted.txt` is a link that leads outside the repository."
    assert messages[4].startswith("`../../escape.txt` leads outside the repository")
    assert messages[5].startswith("`.env` looks like a secret")
    assert messages[6].startswith("`.env` looks like a secret")
    assert messages[7].startswith("`.git/config` is inside .git")
    assert messages[8].startswith("`.git/hooks/post-commit` is inside .git")
    listing, search = results_text(fake, 3)
    assert listing == (False, "README.md")  # no secrets, no links that lead out
    assert search == (False, "No matches.")
    assert not (tmp_path / "planted.txt").exists()
    assert not (tmp_path.parent / "escape.txt").exists()
    assert not (workdir(session) / ".git/hooks/post-commit").exists()
    assert committed(session, ".env") == "API_TOKEN=hunter2-very-secret\n"
    steps = texts(actx, session, EventKind.STEP)
    assert steps[6] == (
        "read .env ✗ `.env` looks like a secret (matches the secret-file patterns); "
        "it is not read or written."
    )
    sent = [text for n in range(len(fake.requests())) for _, text in results_text(fake, n)]
    assert all("very-secret" not in text for text in sent)


def test_edit_file_needs_an_exact_unique_match(
    actx: JobContext, fake: FakeAnthropic, make_repo: MakeRepo
) -> None:
    origin = make_repo(files={"a.py": "x = 1\nx = 1\ny = 2\n"})
    fake.script(
        Reply(
            [
                ToolUse("edit_file", {"path": "a.py", "old": "x = 1", "new": "x = 3"}),
                ToolUse("edit_file", {"path": "a.py", "old": "z = 9", "new": "z = 0"}),
                ToolUse("edit_file", {"path": "b.py", "old": "a", "new": "b"}),
                ToolUse("edit_file", {"path": "a.py", "old": "x = 1\ny = 2", "new": "y = 3"}),
            ]
        ),
        Reply.text("Edited."),
    )
    session = start_session(actx, origin, "edit")
    assert results_text(fake, 1) == [
        (
            True,
            "`old` occurs 2 times in a.py; include more surrounding lines so it matches "
            "exactly one place.",
        ),
        (
            True,
            "`old` was not found in a.py. Read the file and copy the text exactly, whitespace "
            "and indentation included.",
        ),
        (True, "There is no `b.py`; use write_file to create it."),
        (False, "Edited a.py (+1 −2 lines)."),
    ]
    assert committed(session, "a.py") == "x = 1\ny = 3\n"
    assert "edited a.py (+1 −2)" in texts(actx, session, EventKind.STEP)


def test_run_env_shows_none_of_the_secrets(
    settings: Settings,
    redis: Redis,
    fake: FakeAnthropic,
    make_repo: MakeRepo,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    secrets = {
        "SLACK_BOT_TOKEN": "xoxb-1111-2222-secretslack",
        "GITLAB_TOKEN": "glpat-secretgitlab000000",
        "GITHUB_TOKEN": "ghp_secretgithub0000000000",
        "ANTHROPIC_API_KEY": "sk-ant-test-0123456789abcdef",
        "REPOBOX_SECRET_KEY": settings.secret_key or "",
        "DEPLOY_PASSWORD": "hunter2-deploy",
        "INTERNAL_THING": "configured-as-secret-value",
        "INNOCENT_NAME": "glpat-secretgitlab000000",  # a secret's value under another name
    }
    for name, value in secrets.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("REPOBOX_TEST_MARKER", "visible-to-commands")
    ctx = runtime.install(
        agent_settings(
            settings,
            fake,
            slack_bot_token=secrets["SLACK_BOT_TOKEN"],
            gitlab_token=secrets["GITLAB_TOKEN"],
            github_token=secrets["GITHUB_TOKEN"],
            extra_secret_env=frozenset({"INTERNAL_THING"}),
            agent_env=frozenset({"REPOBOX_TEST_MARKER"}),  # the operator lets commands see it
        ),
        redis,
    )
    fake.script(Reply.tool_use("run", {"command": "env"}), Reply.text("Looked."))
    session = start_session(ctx, make_repo(), "show the environment")

    [(is_error, output)] = results_text(fake, 1)
    assert not is_error and output.startswith("exit code 0\n")
    assert "REPOBOX_TEST_MARKER=visible-to-commands" in output
    shown = output + "\n".join(texts(ctx, session, EventKind.OUTPUT))
    for name, value in secrets.items():
        assert value not in shown, name
        assert f"{name}=" not in shown, name


def test_run_output_is_capped_keeping_head_and_tail_and_timeouts_kill(
    actx: JobContext, fake: FakeAnthropic, make_repo: MakeRepo
) -> None:
    fake.script(
        Reply.tool_use("run", {"command": "seq 1 20000"}),
        Reply.tool_use("run", {"command": "sleep 30", "timeout": 1}),
        Reply.text("Done."),
    )
    session = start_session(actx, make_repo(), "count")
    [(_, counted)] = results_text(fake, 1)
    lines = counted.splitlines()
    assert lines[:3] == ["exit code 0", "1", "2"]
    assert lines[-1] == "20000"
    assert any(line.startswith("[… ") and line.endswith(" lines omitted …]") for line in lines)
    assert len(counted) < 32_000
    [(_, slept)] = results_text(fake, 2)
    assert slept.startswith("Timed out after 1 s and was killed.")
    steps = texts(actx, session, EventKind.STEP)
    assert steps[1] == "ran sleep 30 → timed out after 1 s"
    assert len(texts(actx, session, EventKind.OUTPUT)) == 201  # streamed, then a note


@needs_bwrap
def test_run_cannot_see_the_data_dir_other_workdirs_or_home_nor_write_outside(
    actx: JobContext,
    fake: FakeAnthropic,
    make_repo: MakeRepo,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / ".netrc").write_text("machine example.com password home-secret\n")
    monkeypatch.setenv("HOME", str(home))
    origin = make_repo()
    fake.script(
        Reply.tool_use("write_file", {"path": "b-secret.txt", "content": "other-session-secret\n"}),
        Reply.text("Wrote it."),
    )
    other = start_session(actx, origin, "write a secret", thread="other")
    assert committed(other, "b-secret.txt") == "other-session-secret\n"

    data = actx.settings.data_dir
    probe_script = "; ".join(
        [
            "exec 2>&1",  # one stream, in order: two pipes are read in no set order
            f"cat {workdir(other)}/b-secret.txt",
            f"cat ../{other.id}/b-secret.txt",
            f"ls -A {data}",
            f"ls -A {data}/workdirs",
            f"cat {data}/mirrors/*/HEAD",
            "cat $HOME/.netrc",
            f"echo planted > {data}/planted.txt",
            "echo escaped > ../escape.txt",
            f"echo outside > {tmp_path}/outside.txt",
            "echo hook > .git/hooks/post-commit",
            "echo mine > mine.txt",
            "git log --format=%s -1",
        ]
    )
    fake.script(Reply.tool_use("run", {"command": probe_script}), Reply.text("Probed."))
    session = start_session(actx, origin, "probe", thread="probe")

    [(_, output)] = results_text(fake, 3)
    assert "other-session-secret" not in output
    assert "home-secret" not in output
    assert "ref: refs/heads" not in output  # the mirrors are not there
    listed = [line for line in output.splitlines() if line in ("workdirs", session.id, other.id)]
    assert listed == ["workdirs", session.id]  # only the path to its own workdir
    assert "Read-only file system" in output
    assert output.rstrip().endswith("initial commit")  # git still works, read-only
    assert not (data / "planted.txt").exists()
    assert not (data / "workdirs" / "escape.txt").exists()
    assert not (tmp_path / "outside.txt").exists()
    assert not (workdir(session) / ".git/hooks/post-commit").exists()
    assert committed(session, "mine.txt") == "mine\n"


@needs_bwrap
def test_network_is_off_when_the_setting_says_so(
    settings: Settings, redis: Redis, fake: FakeAnthropic, make_repo: MakeRepo
) -> None:
    # a server on this machine: reachable only when the sandbox shares the network
    command = f"exec 3<>/dev/tcp/127.0.0.1/{fake.port} && echo connected"
    outputs = []
    for network, egress in ((True, "open"), (False, "open"), (True, "allow-list")):
        changes = {"agent_network": network, "egress": egress}
        ctx = runtime.install(agent_settings(settings, fake, **changes), redis)
        fake.script(Reply.tool_use("run", {"command": command}), Reply.text("Tried."))
        name = f"net-{network}-{egress}"
        start_session(ctx, make_repo(name=name), "connect", thread=name)
        outputs.append(results_text(fake, len(fake.requests()) - 1)[0][1])
    assert outputs[0] == "exit code 0\nconnected"
    assert "connected" not in outputs[1] and "exit code 1" in outputs[1]
    # the allow-list: a direct connection has no route (only the proxy is a way out)
    assert "connected" not in outputs[2] and "exit code 1" in outputs[2]


@needs_bwrap
def test_command_agent_runs_in_the_sandbox(
    settings: Settings, redis: Redis, make_repo: MakeRepo
) -> None:
    data = settings.data_dir
    script = (
        f"echo out > ../escape.txt; echo in > inside.txt; echo x > {data}/planted.txt; "
        f"ls {data}/workdirs; echo Did it"
    )
    command = f"sh -c {shlex.quote(script)} agent"
    ctx = runtime.install(settings.with_changes(sandbox="auto", agent_command=command), redis)
    session = start_session(ctx, make_repo(), "do the thing")
    steps = texts(ctx, session, EventKind.STEP)
    assert steps == ["started `sh` in the sandbox"]
    assert committed(session, "inside.txt") == "in\n"
    assert not (data / "workdirs" / "escape.txt").exists()
    assert not (data / "planted.txt").exists()
    output = texts(ctx, session, EventKind.OUTPUT)
    assert session.id in output and "escape.txt" in output  # its own view: its tmpfs
    assert texts(ctx, session, EventKind.RESULT)[0].endswith("Did it")


@needs_bwrap
def test_command_agent_installed_where_the_sandbox_hides_it_fails_clearly(
    settings: Settings,
    redis: Redis,
    make_repo: MakeRepo,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    home = tmp_path / "home"
    (home / ".local" / "bin").mkdir(parents=True)
    cli = home / ".local" / "bin" / "agent-cli"
    cli.write_text("#!/bin/sh\necho hi\n")
    cli.chmod(0o755)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("PATH", f"{cli.parent}:/usr/bin:/bin")
    ctx = runtime.install(settings.with_changes(sandbox="auto", agent_command="agent-cli"), redis)
    session = start_session(ctx, make_repo(), "hello")
    [error] = texts(ctx, session, EventKind.ERROR)
    assert error.startswith("The agent command `agent-cli` is installed under ")
    assert error.endswith(
        "which the sandbox hides; install it system-wide (e.g. /usr/local/bin) or set "
        "REPOBOX_SANDBOX=off."
    )


def test_sandbox_hides_the_data_dir_and_home_under_the_workdir_mount(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The mount order matters: hidden places first (parents before children), then the
    workdir on top, then its .git read-only; checked on the command line because in tests
    the data dir and home sit under /tmp, which is hidden as a whole anyway."""
    home = tmp_path / "home"
    work = settings.data_dir / "workdirs" / "s1"
    (work / ".git").mkdir(parents=True)
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    argv = Sandbox(settings, "/usr/bin/bwrap").wrap(["true"], work)
    mounts = [(a, b) for a, b in itertools.pairwise(argv) if a.startswith("--")]
    order = [m for m in mounts if m[0] in ("--tmpfs", "--bind", "--ro-bind")]
    assert order.index(("--tmpfs", "/tmp")) < order.index(("--tmpfs", str(settings.data_dir)))
    assert ("--tmpfs", str(home)) in order
    assert order[-2:] == [("--bind", str(work)), ("--ro-bind", str(work / ".git"))]
    assert argv[-4:] == ["--chdir", str(work), "--", "true"]
    assert "--unshare-all" in argv and "--share-net" in argv  # network on by default
    assert "--share-net" not in Sandbox(settings.with_changes(agent_network=False), "b").wrap(
        ["true"], work
    )


def test_sandbox_required_but_missing_fails_runs_clearly(
    settings: Settings, tmp_path: Path
) -> None:
    code = (
        "from bot.core.config import Settings\n"
        "from bot.core.errors import AgentError\n"
        "from bot.security.sandbox import sandbox_for\n"
        "try:\n"
        "    sandbox_for(Settings(sandbox='require'))\n"
        "except AgentError as error:\n"
        "    print(error)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={"PATH": str(tmp_path), "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stdout.startswith(
        "Commands must run in the sandbox (REPOBOX_SANDBOX=require), but `bwrap` was not found"
    )


@pytest.mark.parametrize("has_bwrap", [True, False])
def test_worker_start_up_says_whether_commands_are_sandboxed(
    settings: Settings, redis: Redis, tmp_path: Path, has_bwrap: bool
) -> None:
    if has_bwrap and not probe().usable:
        pytest.skip(f"bubblewrap is not usable here: {probe().detail}")
    path = "/usr/local/bin:/usr/bin:/bin" if has_bwrap else str(tmp_path)
    done = subprocess.run(
        [sys.executable, str(ROOT / "app.py"), "worker", "--burst"],
        env=env_for(settings, PATH=path, HOME=str(tmp_path), REPOBOX_SANDBOX="auto"),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    if has_bwrap:
        assert "sandbox: agents' commands run inside bubblewrap" in done.stderr
    else:
        assert "WARNING" in done.stderr
        assert "NO SANDBOX: `bwrap` was not found on PATH" in done.stderr
