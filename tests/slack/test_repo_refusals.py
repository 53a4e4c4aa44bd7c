"""Issue 9, items 1 and 2 from Slack: a repository spec is data, never a command, and chat
reaches local repositories only under REPOBOX_LOCAL_ROOTS, never the data dir.

Each reproducer goes in as a slash command and as a mention, correctly signed, to the real
app; the answer is a private refusal, no session or set-up job exists, no marker file
appears, and no git command ran at all (a `git` first on PATH records every call).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from jobs.steps.context import JobContext
from tests.conftest import MakeRepo, run_jobs
from tests.fakes.slack import FakeSlack
from tests.git_spy import GitSpy
from tests.slack.support import ALICE, BOB, CHANNEL, Workspace, only_session

LOCAL_ONLY = "Local paths are for the terminal: from here I only open repositories"


def injections(marker: Path) -> list[str]:
    """Issue 9, item 1: the spec that made `git ls-remote` run a shell command."""
    command = f"--upload-pack=touch${{IFS}}{marker};#://x"
    return [command, f"local:{command}", f"ext::sh -c touch% {marker}", f"-o/{marker}"]


def refused_privately(
    workspace: Workspace, slack: FakeSlack, ctx: JobContext, spec: str
) -> tuple[str, str]:
    """Send `new <spec>` as a slash command and as a mention; return both private answers."""
    answer = workspace.slash(f"new {spec} hi")
    assert answer.status == 200
    slash = answer.json()
    assert slash["response_type"] == "ephemeral", spec
    before = len(slack.ephemerals(user=BOB))
    _, mentioned = workspace.mention(f"new {spec} hi", user=BOB)
    assert mentioned.status == 200
    run_jobs(ctx)
    said = slack.ephemerals(user=BOB)[before:]
    assert len(said) == 1, spec
    assert ctx.service.sessions.recent(include_archived=True) == [], spec
    posted = [
        c.path for c in slack.calls if c.path not in ("/api/auth.test", "/api/chat.postEphemeral")
    ]
    assert posted == [], spec  # no card, no reaction: nothing but the private answer
    return str(slash["text"]), said[0].text


def test_option_like_and_transport_specs_never_reach_git(
    workspace: Workspace, slack: FakeSlack, slack_ctx: JobContext, git_spy: GitSpy, tmp_path: Path
) -> None:
    marker = tmp_path / "marker"
    for spec in injections(marker):
        slash, mention = refused_privately(workspace, slack, slack_ctx, spec)
        assert slash.startswith(("`", "A repository is one word")), slash
        assert mention == slash
    _, mention = workspace.mention(f"{injections(marker)[0]} hi", user=BOB)  # `<repo> <prompt>`
    run_jobs(slack_ctx)
    assert slack.ephemerals(user=BOB)[-1].text.startswith("`--upload-pack")
    assert not marker.exists()
    assert git_spy.calls() == []


@pytest.mark.parametrize(
    "spec",
    [".", "local:/", "/", "file:///proc/self/cwd", "~", "~root/x", "~nosuchuser/x", "/etc"],
)
def test_local_paths_outside_the_roots_are_refused_privately(
    workspace: Workspace, slack: FakeSlack, slack_ctx: JobContext, git_spy: GitSpy, spec: str
) -> None:
    slash, mention = refused_privately(workspace, slack, slack_ctx, spec)
    assert slash.startswith(LOCAL_ONLY) and mention.startswith(LOCAL_ONLY)
    assert git_spy.calls() == []


def test_the_data_dir_is_never_opened_from_chat(
    workspace: Workspace,
    slack: FakeSlack,
    slack_ctx: JobContext,
    make_repo: MakeRepo,
    git_spy: GitSpy,
) -> None:
    """Another session's mirror, even though the data dir lies under the test's local root."""
    origin = make_repo()
    workspace.slash(f"new {origin} write a.txt: x")
    run_jobs(slack_ctx)
    mirrors = slack_ctx.settings.data_dir / "mirrors"
    [mirror] = [p for p in mirrors.iterdir() if p.suffix == ".git"]
    calls = len(git_spy.calls())
    slack.calls.clear()
    sessions = len(slack_ctx.service.sessions.recent(include_archived=True))
    for spec in (str(mirror), f"file://{mirror}", f"{origin.parent}/../data/mirrors/{mirror.name}"):
        answer = workspace.slash(f"new {spec} hi").json()
        assert answer["text"].startswith("Repobox's own data directory is not a repository")
    run_jobs(slack_ctx)
    assert len(slack_ctx.service.sessions.recent(include_archived=True)) == sessions
    assert len(git_spy.calls()) == calls


def test_link_refuses_what_new_refuses(
    workspace: Workspace, slack_ctx: JobContext, tmp_path: Path
) -> None:
    for spec in (".", f"--upload-pack=touch${{IFS}}{tmp_path}/m;#://x"):
        answer = workspace.slash(f"link {spec}").json()
        assert answer["response_type"] == "ephemeral"
    assert slack_ctx.service.run(lambda svc: svc.linked_repo("slack", f"T111:{CHANNEL}")) is None


def test_a_repository_under_the_roots_opens_and_git_gets_it_after_end_of_options(
    workspace: Workspace, slack_ctx: JobContext, make_repo: MakeRepo, git_spy: GitSpy
) -> None:
    origin = make_repo()
    ours = len(git_spy.calls())  # the test's own git, making the repository
    assert workspace.slash(f"new {origin} write a.txt: x", user=ALICE).status == 200
    run_jobs(slack_ctx)
    assert only_session(slack_ctx).project == str(origin)
    calls = git_spy.calls()[ours:]
    for call in calls:
        if str(origin) in call.argv:
            at = call.argv.index(str(origin))
            assert call.argv[at - 1] == "--end-of-options", call.argv
        env = call.env
        assert env["GIT_PROTOCOL_FROM_USER"] == "0"
        config = {
            env[f"GIT_CONFIG_KEY_{i}"]: env[f"GIT_CONFIG_VALUE_{i}"]
            for i in range(int(env["GIT_CONFIG_COUNT"]))
        }
        assert config["protocol.allow"] == "never"
        assert set(config) - {"protocol.allow"} <= {"protocol.file.allow"}
    assert {c.command for c in calls} >= {"ls-remote", "clone", "checkout", "commit"}


def test_a_base_branch_that_looks_like_an_option_is_refused(
    workspace: Workspace, slack_ctx: JobContext, make_repo: MakeRepo, git_spy: GitSpy
) -> None:
    origin = make_repo()
    ours = len(git_spy.calls())
    for base in ("--orphan=x", "-b", "main..dev", "a~1"):
        answer = workspace.slash(f"new {origin} @{base} hi").json()
        assert answer["text"] == f"`@{base}` is not a valid branch name."
    run_jobs(slack_ctx)
    assert slack_ctx.service.sessions.recent(include_archived=True) == []
    assert git_spy.calls()[ours:] == []
